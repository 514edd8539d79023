//! Tenants' notification types on the data table: one partition per tenant
//! (`{tenant}#types`), one item per key, read with a `Query`.
use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;

use super::{describe, RequestCount};
use crate::domain::TenantId;
use crate::notifications::types::{NotificationType, TypeStore};
use crate::ports::StoreError;

#[derive(Clone)]
pub struct DynamoTypeStore {
    client: Client,
    table: String,
    requests: RequestCount,
}

fn partition(tenant: &TenantId) -> AttributeValue {
    AttributeValue::S(format!("{tenant}#types"))
}

impl DynamoTypeStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into(), requests: RequestCount::default() }
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
        let mut types = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            self.requests.add(1);
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", partition(tenant))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| StoreError::Unavailable(describe(&e)))?;
            for item in out.items.unwrap_or_default() {
                let doc = item.get("doc").and_then(|v| v.as_s().ok()).ok_or_else(|| StoreError::Corrupt("type without doc".into()))?;
                types.push(serde_json::from_str(doc).map_err(|e| StoreError::Corrupt(e.to_string()))?);
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(types),
            }
        }
    }
}
