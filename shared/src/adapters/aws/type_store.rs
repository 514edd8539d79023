//! Tenants' notification types on the data table: one partition per tenant
//! (`{tenant}#types`), one item per key, read with a `Query`.
use async_trait::async_trait;

use super::items::{json_text, parse_doc, s, Item};
use super::table::Table;
use crate::domain::{StoreError, TenantId};
use crate::notifications::{NotificationType, TypeStore};

#[derive(Clone)]
pub struct DynamoTypeStore {
    table: Table,
}

fn partition(tenant: &TenantId) -> String {
    format!("{tenant}#types")
}

impl DynamoTypeStore {
    pub fn new(table: Table) -> Self {
        Self { table }
    }
}

#[async_trait]
impl TypeStore for DynamoTypeStore {
    async fn put_type(&self, tenant: &TenantId, notification_type: &NotificationType) -> Result<(), StoreError> {
        let doc = json_text(notification_type)?;
        self.table.put_any(Item::from([("pk".into(), s(partition(tenant))), ("sk".into(), s(notification_type.key.to_string())), ("doc".into(), s(doc))])).await
    }

    async fn tenant_types(&self, tenant: &TenantId) -> Result<Vec<NotificationType>, StoreError> {
        self.table.query_partition(s(partition(tenant))).await?.iter().map(parse_doc).collect()
    }
}
