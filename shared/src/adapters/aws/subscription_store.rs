//! Subscriptions on the data table: the subscription item (in the sparse
//! `due` index while scheduled) and an entry in its subscriber's list,
//! written together in one transaction. See docs/data-model.md.
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};

use super::items::{built, document, due_keys, parse_doc, s, unavailable, Item, DOC_SK};
use super::table::{Expect, Table};
use crate::domain::{StoreError, SubscriptionId, TenantId, Timestamp, WriteError};
use crate::subscriptions::{Subscriber, Subscription, SubscriptionStore};

const DUE_KIND: &str = "subscriptions";

#[derive(Clone)]
pub struct DynamoSubscriptionStore {
    table: Table,
}

fn pk(tenant: &TenantId, id: &SubscriptionId) -> String {
    format!("{tenant}#subscription#{id}")
}

fn list_pk(tenant: &TenantId, subscriber: &Subscriber) -> String {
    format!("{tenant}#subscriber#{subscriber}")
}

impl DynamoSubscriptionStore {
    pub fn new(table: Table) -> Self {
        Self { table }
    }

    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), WriteError> {
        self.table.requests.add(1);
        match self.table.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_transaction_canceled_exception()) => Err(WriteError::Conflict),
            Err(e) => Err(WriteError::Store(unavailable(e))),
        }
    }
}

#[async_trait]
impl SubscriptionStore for DynamoSubscriptionStore {
    async fn save(&self, subscription: &Subscription, expected: Option<u64>) -> Result<(), WriteError> {
        let (tenant, id) = (&subscription.tenant, &subscription.id);
        let mut item = document(pk(tenant, id), DOC_SK.into(), subscription, subscription.version, None)?;
        if let Some(at) = subscription.due_index_at() {
            due_keys(&mut item, DUE_KIND, at, tenant, id.as_str());
        }
        let expect = Expect::absent_or(expected);
        let main = Put::builder().table_name(&self.table.name).set_item(Some(item)).condition_expression(expect.condition());
        let main = main.set_expression_attribute_values(expect.values());
        let entry = Item::from([("pk".into(), s(list_pk(tenant, &subscription.subscriber))), ("sk".into(), s(id.as_str()))]);
        let entry = built(Put::builder().table_name(&self.table.name).set_item(Some(entry)).build())?;
        self.transact(vec![
            TransactWriteItem::builder().put(built(main.build())?).build(),
            TransactWriteItem::builder().put(entry).build(),
        ])
        .await
    }

    async fn get(&self, tenant: &TenantId, id: &SubscriptionId) -> Result<Option<Subscription>, StoreError> {
        self.table.get_item(pk(tenant, id), DOC_SK).await?.map(|i| parse_doc(&i)).transpose()
    }

    async fn delete(&self, subscription: &Subscription, expected: u64) -> Result<(), WriteError> {
        let (tenant, id) = (&subscription.tenant, &subscription.id);
        let main = Delete::builder()
            .table_name(&self.table.name)
            .key("pk", s(pk(tenant, id)))
            .key("sk", s(DOC_SK))
            .condition_expression(Expect::Version(expected).condition())
            .set_expression_attribute_values(Expect::Version(expected).values());
        let entry = Delete::builder().table_name(&self.table.name).key("pk", s(list_pk(tenant, &subscription.subscriber))).key("sk", s(id.as_str()));
        self.transact(vec![
            TransactWriteItem::builder().delete(built(main.build())?).build(),
            TransactWriteItem::builder().delete(built(entry.build())?).build(),
        ])
        .await
    }

    async fn of_subscriber(&self, tenant: &TenantId, subscriber: &Subscriber, after: Option<&SubscriptionId>, limit: usize) -> Result<Vec<Subscription>, StoreError> {
        let entries = self.table.query_page(s(list_pk(tenant, subscriber)), after.map(|id| id.as_str().to_owned()), limit).await?;
        let mut subscriptions = Vec::with_capacity(entries.len());
        for entry in entries {
            let Some(id) = entry.get("sk").and_then(|v| v.as_s().ok()).and_then(|v| SubscriptionId::parse(v.as_str()).ok()) else { continue };
            if let Some(subscription) = self.get(tenant, &id).await? {
                subscriptions.push(subscription);
            }
        }
        Ok(subscriptions)
    }

    async fn count_of_subscriber(&self, tenant: &TenantId, subscriber: &Subscriber, at_most: usize) -> Result<usize, StoreError> {
        self.table.count_partition(s(list_pk(tenant, subscriber)), at_most).await
    }

    async fn due(&self, now: Timestamp, limit: usize) -> Result<Vec<(TenantId, SubscriptionId)>, StoreError> {
        self.table
            .query_due(DUE_KIND, now, limit)
            .await?
            .into_iter()
            .map(|(tenant, id)| SubscriptionId::parse(id).map(|id| (tenant, id)).map_err(|e| StoreError::Corrupt(e.to_string())))
            .collect()
    }
}
