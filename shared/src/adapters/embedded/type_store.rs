use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::params;

use super::db::{self, Database};
use crate::domain::{StoreError, TenantId};
use crate::notifications::{NotificationType, TypeStore};

/// Tenants' notification types.
pub struct EmbeddedTypeStore {
    db: Arc<Database>,
}

impl EmbeddedTypeStore {
    pub fn new(db: Arc<Database>) -> Self {
        Self { db }
    }
}

#[async_trait]
impl TypeStore for EmbeddedTypeStore {
    async fn put_type(&self, tenant: &TenantId, notification_type: &NotificationType) -> Result<(), StoreError> {
        let (tenant, notification_type) = (tenant.to_string(), notification_type.clone());
        self.db
            .write(move |conn| {
                conn.prepare_cached("INSERT OR REPLACE INTO types (tenant, key, body) VALUES (?1, ?2, ?3)")?
                    .execute(params![tenant, notification_type.key.as_str(), db::to_json(&notification_type)?])
                    .map(|_| ())
            })
            .await
    }

    async fn tenant_types(&self, tenant: &TenantId) -> Result<Vec<NotificationType>, StoreError> {
        let tenant = tenant.to_string();
        self.db.read(move |conn| db::documents(conn, "SELECT body FROM types WHERE tenant = ?1 ORDER BY key", params![tenant])).await
    }
}
