//! Notifications and their deliveries on the data table. A notification and
//! its deliveries share a partition (`{tenant}#notification#{id}`), so its
//! status page is one `Query`; notifications awaiting publication carry the
//! keys of the sparse `due` index. See docs/data-model.md.
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

use super::items::{document, due_keys, n, parse_doc, s, Item, DOC_SK};
use super::table::{Expect, Table};
use crate::domain::{StoreError, TenantId, Timestamp, WriteError};
use crate::notifications::{Context, Delivery, DeliveryKey, Notification, NotificationId, NotificationStore, TypeKey};

/// The `due` index kind of notifications (its partitions: `due#0` to `due#7`).
const DUE_KIND: &str = "due";

#[derive(Clone)]
pub struct DynamoNotificationStore {
    table: Table,
}

fn partition(tenant: &TenantId, id: &NotificationId) -> String {
    format!("{tenant}#notification#{id}")
}

fn delivery_sk(key: &DeliveryKey) -> String {
    format!("d#{:010}#{}", key.revision, key.recipient)
}

impl DynamoNotificationStore {
    pub fn new(table: Table) -> Self {
        Self { table }
    }

    /// Puts `item` if absent; else answers the stored one.
    async fn put_once(&self, item: Item) -> Result<Option<Item>, StoreError> {
        let (pk, sk) = (item.get("pk").cloned(), item.get("sk").cloned());
        match self.table.put(item, Expect::Absent).await {
            Ok(()) => Ok(None),
            Err(WriteError::Conflict) => {
                let (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) = (pk, sk) else {
                    return Err(StoreError::Corrupt("item without key".into()));
                };
                Ok(Some(self.table.get_item(pk, &sk).await?.unwrap_or_default()))
            }
            Err(WriteError::Store(e)) => Err(e),
        }
    }
}

fn notification_id(item: &Item) -> Result<NotificationId, StoreError> {
    item.get("notification")
        .and_then(|v| v.as_s().ok())
        .and_then(|v| NotificationId::parse(v.as_str()).ok())
        .ok_or_else(|| StoreError::Corrupt("binding without notification".into()))
}

#[async_trait]
impl NotificationStore for DynamoNotificationStore {
    async fn save(&self, notification: &Notification, expected: Option<u64>) -> Result<(), WriteError> {
        let (tenant, id) = (&notification.tenant, &notification.id);
        let mut item = document(partition(tenant, id), DOC_SK.into(), notification, notification.version, None)?;
        if let Some(at) = notification.due_index_at() {
            due_keys(&mut item, DUE_KIND, at, tenant, id.as_str());
        }
        self.table.put(item, Expect::absent_or(expected)).await
    }

    async fn get(&self, tenant: &TenantId, id: &NotificationId) -> Result<Option<Notification>, StoreError> {
        self.table.get_item(partition(tenant, id), DOC_SK).await?.map(|item| parse_doc(&item)).transpose()
    }

    async fn due(&self, now: Timestamp, limit: usize) -> Result<Vec<(TenantId, NotificationId)>, StoreError> {
        self.table
            .query_due(DUE_KIND, now, limit)
            .await?
            .into_iter()
            .map(|(tenant, id)| NotificationId::parse(id).map(|id| (tenant, id)).map_err(|e| StoreError::Corrupt(e.to_string())))
            .collect()
    }

    async fn bind_context(&self, tenant: &TenantId, context: &Context, key: &TypeKey, id: &NotificationId) -> Result<NotificationId, StoreError> {
        let item = Item::from([
            ("pk".into(), s(format!("{tenant}#context#{}#{}#{key}", context.table, context.id))),
            ("sk".into(), s(DOC_SK)),
            ("notification".into(), s(id.as_str())),
        ]);
        match self.put_once(item).await? {
            None => Ok(id.clone()),
            Some(existing) => notification_id(&existing),
        }
    }

    async fn claim_idempotency_key(&self, tenant: &TenantId, key: &str, id: &NotificationId, now: Timestamp, expires: Timestamp) -> Result<Option<NotificationId>, StoreError> {
        let item = Item::from([
            ("pk".into(), s(format!("{tenant}#idempotency#{key}"))),
            ("sk".into(), s(DOC_SK)),
            ("notification".into(), s(id.as_str())),
            ("expires_ms".into(), n(expires.as_millis())),
            (super::tables::TTL_ATTRIBUTE.into(), n(expires.as_secs())),
        ]);
        // Absent, or expired: this send takes the key.
        match self.table.put(item, Expect::AbsentOrExpired(now)).await {
            Ok(_) => Ok(None),
            Err(WriteError::Conflict) => {
                let stored = self.table.get_item(format!("{tenant}#idempotency#{key}"), DOC_SK).await?;
                stored.map(|item| notification_id(&item)).transpose()
            }
            Err(WriteError::Store(e)) => Err(e),
        }
    }

    async fn create_delivery(&self, delivery: &Delivery) -> Result<bool, StoreError> {
        let key = &delivery.key;
        let item = document(partition(&key.tenant, &key.notification), delivery_sk(key), delivery, delivery.version, None)?;
        Ok(self.put_once(item).await?.is_none())
    }

    async fn get_delivery(&self, key: &DeliveryKey) -> Result<Option<Delivery>, StoreError> {
        self.table.get_item(partition(&key.tenant, &key.notification), &delivery_sk(key)).await?.map(|item| parse_doc(&item)).transpose()
    }

    async fn update_delivery(&self, delivery: &Delivery, expected: u64) -> Result<(), WriteError> {
        let key = &delivery.key;
        let item = document(partition(&key.tenant, &key.notification), delivery_sk(key), delivery, delivery.version, delivery.expires_at)?;
        self.table.put(item, Expect::Version(expected)).await
    }

    async fn deliveries(&self, tenant: &TenantId, id: &NotificationId) -> Result<Vec<Delivery>, StoreError> {
        self.table
            .query_partition(s(partition(tenant, id)))
            .await?
            .iter()
            .filter(|item| item.get("sk").and_then(|v| v.as_s().ok()).is_some_and(|sk| sk.starts_with("d#")))
            .map(parse_doc)
            .collect()
    }
}
