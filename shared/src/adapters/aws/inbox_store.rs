//! Inboxes on the data table: one partition per user
//! (`{tenant}#inbox#{user}`), items sorted by id (creation time first), read
//! newest first with a `Query`.
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;

use super::sdk_client::SdkClient;
use super::items::{document, n, parse_doc, put_error, s};
use super::{describe, RequestCount};
use crate::domain::{TenantId, UserId};
use crate::inbox::{InboxId, InboxItem, InboxStore};
use crate::domain::{StoreError, WriteError};

#[derive(Clone)]
pub struct DynamoInboxStore {
    client: SdkClient<Client>,
    table: String,
    requests: RequestCount,
}

fn partition(tenant: &TenantId, user: &UserId) -> String {
    format!("{tenant}#inbox#{user}")
}

fn unavailable<E: std::error::Error>(e: E) -> StoreError {
    StoreError::Unavailable(describe(&e))
}

impl DynamoInboxStore {
    pub fn new(client: impl Into<SdkClient<Client>>, table: impl Into<String>) -> Self {
        Self { client: client.into(), table: table.into(), requests: RequestCount::default() }
    }

    /// Counts its requests in `requests` (shared by the stores of one wiring).
    pub fn counting(self, requests: &RequestCount) -> Self {
        Self { requests: requests.clone(), ..self }
    }

    pub fn requests(&self) -> &RequestCount {
        &self.requests
    }
}

#[async_trait]
impl InboxStore for DynamoInboxStore {
    async fn insert(&self, item: &InboxItem) -> Result<bool, StoreError> {
        let doc = document(partition(&item.tenant, &item.user), item.id.to_string(), item, item.version, item.expires_at)?;
        self.requests.add(1);
        let put = self.client.put_item().table_name(&self.table).set_item(Some(doc)).condition_expression("attribute_not_exists(pk)").send().await;
        match put.map_err(put_error) {
            Ok(_) => Ok(true),
            Err(WriteError::Conflict) => Ok(false),
            Err(WriteError::Store(e)) => Err(e),
        }
    }

    async fn get(&self, tenant: &TenantId, user: &UserId, id: &InboxId) -> Result<Option<InboxItem>, StoreError> {
        let item = super::items::get_item(&self.client, &self.table, partition(tenant, user), id.as_str(), &self.requests).await?;
        item.map(|item| parse_doc(&item)).transpose()
    }

    async fn page(&self, tenant: &TenantId, user: &UserId, before: Option<&InboxId>, limit: usize) -> Result<Vec<InboxItem>, StoreError> {
        self.requests.add(1);
        let request = self
            .client
            .query()
            .table_name(&self.table)
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
        self.requests.add(1);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(doc))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", n(expected))
            .send()
            .await
            .map_err(put_error)?;
        Ok(())
    }

    async fn delete(&self, tenant: &TenantId, user: &UserId, id: &InboxId) -> Result<bool, StoreError> {
        self.requests.add(1);
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(partition(tenant, user)))
            .key("sk", s(id.as_str()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.attributes.is_some_and(|a| !a.is_empty()))
    }
}
