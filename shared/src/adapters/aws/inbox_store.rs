//! Inboxes on the data table: one partition per user
//! (`{tenant}#inbox#{user}`), items sorted by id (creation time first), read
//! newest first with a `Query`.
use async_trait::async_trait;

use super::items::{document, parse_doc, s, unavailable};
use super::table::{Expect, Table};
use crate::domain::{StoreError, TenantId, UserId, WriteError};
use crate::inbox::{InboxId, InboxItem, InboxStore};

#[derive(Clone)]
pub struct DynamoInboxStore {
    table: Table,
}

fn partition(tenant: &TenantId, user: &UserId) -> String {
    format!("{tenant}#inbox#{user}")
}

impl DynamoInboxStore {
    pub fn new(table: Table) -> Self {
        Self { table }
    }
}

#[async_trait]
impl InboxStore for DynamoInboxStore {
    async fn insert(&self, item: &InboxItem) -> Result<bool, StoreError> {
        let doc = document(partition(&item.tenant, &item.user), item.id.to_string(), item, item.version, item.expires_at)?;
        match self.table.put(doc, Expect::Absent).await {
            Ok(_) => Ok(true),
            Err(WriteError::Conflict) => Ok(false),
            Err(WriteError::Store(e)) => Err(e),
        }
    }

    async fn get(&self, tenant: &TenantId, user: &UserId, id: &InboxId) -> Result<Option<InboxItem>, StoreError> {
        self.table.get_item(partition(tenant, user), id.as_str()).await?.map(|item| parse_doc(&item)).transpose()
    }

    async fn page(&self, tenant: &TenantId, user: &UserId, before: Option<&InboxId>, limit: usize) -> Result<Vec<InboxItem>, StoreError> {
        self.table.requests.add(1);
        let request = self
            .table
            .client
            .query()
            .table_name(&self.table.name)
            .expression_attribute_values(":pk", s(partition(tenant, user)))
            .scan_index_forward(false)
            .consistent_read(true)
            .limit(i32::try_from(limit).unwrap_or(100));
        let request = match before {
            Some(before) => request.key_condition_expression("pk = :pk AND sk < :before").expression_attribute_values(":before", s(before.as_str())),
            None => request.key_condition_expression("pk = :pk"),
        };
        let out = request.send().await.map_err(unavailable)?;
        out.items.unwrap_or_default().iter().map(parse_doc).collect()
    }

    async fn replace(&self, item: &InboxItem, expected: u64) -> Result<(), WriteError> {
        let doc = document(partition(&item.tenant, &item.user), item.id.to_string(), item, item.version, item.expires_at)?;
        self.table.put(doc, Expect::Version(expected)).await
    }

    async fn delete(&self, tenant: &TenantId, user: &UserId, id: &InboxId) -> Result<bool, StoreError> {
        self.table.delete_item(partition(tenant, user), id.to_string()).await
    }
}
