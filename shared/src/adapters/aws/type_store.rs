//! Tenants' notification types on the data table: one partition per tenant
//! (`{tenant}#types`), one item per key, read with a `Query`.
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;

use super::sdk_client::SdkClient;
use super::{describe, query_partition, RequestCount};
use crate::domain::TenantId;
use crate::notifications::{NotificationType, TypeStore};
use crate::domain::StoreError;

#[derive(Clone)]
pub struct DynamoTypeStore {
    client: SdkClient<Client>,
    table: String,
    requests: RequestCount,
}

fn partition(tenant: &TenantId) -> AttributeValue {
    AttributeValue::S(format!("{tenant}#types"))
}

impl DynamoTypeStore {
    pub fn new(client: impl Into<SdkClient<Client>>, table: impl Into<String>) -> Self {
        Self { client: client.into(), table: table.into(), requests: RequestCount::default() }
    }

    /// Counts its requests in `requests` (shared by the stores of one wiring).
    pub fn counting(self, requests: &RequestCount) -> Self {
        Self { requests: requests.clone(), ..self }
    }
}

#[async_trait]
impl TypeStore for DynamoTypeStore {
    async fn put_type(&self, tenant: &TenantId, notification_type: &NotificationType) -> Result<(), StoreError> {
        let doc = serde_json::to_string(notification_type).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.requests.add(1);
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", partition(tenant))
            .item("sk", AttributeValue::S(notification_type.key.to_string()))
            .item("doc", AttributeValue::S(doc))
            .send()
            .await
            .map_err(|e| StoreError::Unavailable(describe(&e)))?;
        Ok(())
    }

    async fn tenant_types(&self, tenant: &TenantId) -> Result<Vec<NotificationType>, StoreError> {
        query_partition(&self.client, &self.table, partition(tenant), &self.requests)
            .await?
            .iter()
            .map(|item| {
                let doc = item.get("doc").and_then(|v| v.as_s().ok()).ok_or_else(|| StoreError::Corrupt("type without doc".into()))?;
                serde_json::from_str(doc).map_err(|e| StoreError::Corrupt(e.to_string()))
            })
            .collect()
    }
}
