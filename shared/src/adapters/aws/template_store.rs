//! Tenants' message templates on the data table (`{tenant}#templates`,
//! one item per name).
use async_trait::async_trait;

use super::items::{s, Item};
use super::table::Table;
use crate::domain::{StoreError, TenantId};
use crate::subscriptions::TemplateStore;

#[derive(Clone)]
pub struct DynamoTemplateStore {
    table: Table,
}

impl DynamoTemplateStore {
    pub fn new(table: Table) -> Self {
        Self { table }
    }
}

fn partition(tenant: &TenantId) -> String {
    format!("{tenant}#templates")
}

#[async_trait]
impl TemplateStore for DynamoTemplateStore {
    async fn put_template(&self, tenant: &TenantId, name: &str, source: &str) -> Result<(), StoreError> {
        self.table.put_any(Item::from([("pk".into(), s(partition(tenant))), ("sk".into(), s(name)), ("source".into(), s(source))])).await
    }

    async fn get_template(&self, tenant: &TenantId, name: &str) -> Result<Option<String>, StoreError> {
        let item = self.table.get_item(partition(tenant), name).await?;
        Ok(item.and_then(|i| i.get("source").and_then(|v| v.as_s().ok()).cloned()))
    }

    async fn count_templates(&self, tenant: &TenantId, at_most: usize) -> Result<usize, StoreError> {
        self.table.count_partition(s(partition(tenant)), at_most).await
    }
}
