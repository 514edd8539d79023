//! Tenants' message templates on the data table (`{tenant}#templates`,
//! one item per name).
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;

use super::sdk_client::SdkClient;
use super::items::{get_item, s};
use super::{describe, RequestCount};
use crate::domain::TenantId;
use crate::domain::StoreError;
use crate::subscriptions::TemplateStore;

#[derive(Clone)]
pub struct DynamoTemplateStore {
    client: SdkClient<Client>,
    table: String,
    requests: RequestCount,
}

impl DynamoTemplateStore {
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

fn partition(tenant: &TenantId) -> String {
    format!("{tenant}#templates")
}

#[async_trait]
impl TemplateStore for DynamoTemplateStore {
    async fn put_template(&self, tenant: &TenantId, name: &str, source: &str) -> Result<(), StoreError> {
        self.requests.add(1);
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(partition(tenant)))
            .item("sk", s(name))
            .item("source", s(source))
            .send()
            .await
            .map_err(|e| StoreError::Unavailable(describe(&e)))?;
        Ok(())
    }

    async fn get_template(&self, tenant: &TenantId, name: &str) -> Result<Option<String>, StoreError> {
        let item = get_item(&self.client, &self.table, partition(tenant), name, &self.requests).await?;
        Ok(item.and_then(|i| i.get("source").and_then(|v| v.as_s().ok()).cloned()))
    }
}
