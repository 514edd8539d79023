use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension as _};

use super::db::{self, Database};
use crate::domain::{StoreError, TenantId};
use crate::subscriptions::TemplateStore;

/// Tenants' templates, by name.
pub struct EmbeddedTemplateStore {
    db: Arc<Database>,
}

impl EmbeddedTemplateStore {
    pub fn new(db: Arc<Database>) -> Self {
        Self { db }
    }
}

#[async_trait]
impl TemplateStore for EmbeddedTemplateStore {
    async fn put_template(&self, tenant: &TenantId, name: &str, source: &str) -> Result<(), StoreError> {
        let (tenant, name, source) = (tenant.to_string(), name.to_owned(), source.to_owned());
        self.db
            .write(move |conn| {
                conn.prepare_cached("INSERT OR REPLACE INTO templates (tenant, name, source) VALUES (?1, ?2, ?3)")?.execute(params![tenant, name, source]).map(|_| ())
            })
            .await
    }

    async fn get_template(&self, tenant: &TenantId, name: &str) -> Result<Option<String>, StoreError> {
        let (tenant, name) = (tenant.to_string(), name.to_owned());
        self.db
            .read(move |conn| {
                conn.prepare_cached("SELECT source FROM templates WHERE tenant = ?1 AND name = ?2")?.query_row(params![tenant, name], |row| row.get(0)).optional()
            })
            .await
    }

    async fn count_templates(&self, tenant: &TenantId, at_most: usize) -> Result<usize, StoreError> {
        let tenant = tenant.to_string();
        self.db.read(move |conn| db::count(conn, "SELECT count(*) FROM (SELECT 1 FROM templates WHERE tenant = ?1 LIMIT ?2)", params![tenant, db::limit(at_most)])).await
    }
}
