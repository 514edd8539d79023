use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension as _};

use super::db::{self, Database};
use crate::domain::{RecordId, ResourceName, StoreError, TenantId, Timestamp, WriteError};
use crate::records::{Record, RecordStore, Resource, CHANGE_LOG_RETENTION};

/// Resources, records and each resource's change log.
pub struct EmbeddedRecordStore {
    db: Arc<Database>,
}

impl EmbeddedRecordStore {
    pub fn new(db: Arc<Database>) -> Self {
        Self { db }
    }
}

fn change_expires(record: &Record, retention: Duration) -> i64 {
    record.modified_on.plus(retention).as_millis()
}

#[async_trait]
impl RecordStore for EmbeddedRecordStore {
    async fn put_resource(&self, tenant: &TenantId, resource: &Resource) -> Result<(), StoreError> {
        let (tenant, resource) = (tenant.to_string(), resource.clone());
        self.db
            .write(move |conn| {
                conn.prepare_cached("INSERT OR REPLACE INTO resources (tenant, name, body) VALUES (?1, ?2, ?3)")?
                    .execute(params![tenant, resource.name.as_str(), db::to_json(&resource)?])
                    .map(|_| ())
            })
            .await
    }

    async fn get_resource(&self, tenant: &TenantId, name: &ResourceName) -> Result<Option<Resource>, StoreError> {
        let (tenant, name) = (tenant.to_string(), name.to_string());
        self.db.read(move |conn| db::document(conn, "SELECT body FROM resources WHERE tenant = ?1 AND name = ?2", params![tenant, name])).await
    }

    async fn resources(&self, tenant: &TenantId) -> Result<Vec<Resource>, StoreError> {
        let tenant = tenant.to_string();
        self.db.read(move |conn| db::documents(conn, "SELECT body FROM resources WHERE tenant = ?1 ORDER BY name", params![tenant])).await
    }

    async fn get_record(&self, tenant: &TenantId, resource: &ResourceName, id: &RecordId) -> Result<Option<Record>, StoreError> {
        let (tenant, resource, id) = (tenant.to_string(), resource.to_string(), id.to_string());
        self.db
            .read(move |conn| db::document(conn, "SELECT body FROM records WHERE tenant = ?1 AND resource = ?2 AND id = ?3", params![tenant, resource, id]))
            .await
    }

    async fn save_record(&self, tenant: &TenantId, record: &Record, expected: Option<u64>) -> Result<(), WriteError> {
        let (tenant, record) = (tenant.to_string(), record.clone());
        let saved = self
            .db
            .write(move |conn| {
                let (resource, id) = (record.resource.as_str(), record.id.as_str());
                let stored: Option<i64> = conn
                    .prepare_cached("SELECT version FROM records WHERE tenant = ?1 AND resource = ?2 AND id = ?3")?
                    .query_row(params![tenant, resource, id], |row| row.get(0))
                    .optional()?;
                if stored != expected.map(db::int) {
                    return Ok(false);
                }
                let body = db::to_json(&record)?;
                conn.prepare_cached("INSERT OR REPLACE INTO records (tenant, resource, id, version, body) VALUES (?1, ?2, ?3, ?4, ?5)")?
                    .execute(params![tenant, resource, id, db::int(record.version), body])?;
                conn.prepare_cached("INSERT INTO changes (tenant, resource, modified_on, record, version, expires_at, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?
                    .execute(params![
                        tenant,
                        resource,
                        record.modified_on.as_millis(),
                        id,
                        db::int(record.version),
                        change_expires(&record, CHANGE_LOG_RETENTION),
                        body
                    ])?;
                Ok(true)
            })
            .await?;
        db::applied(saved)
    }

    async fn changes(&self, tenant: &TenantId, resource: &ResourceName, from: Timestamp, to: Timestamp) -> Result<Vec<Record>, StoreError> {
        let (tenant, resource) = (tenant.to_string(), resource.to_string());
        self.db
            .read(move |conn| {
                db::documents(
                    conn,
                    "SELECT body FROM changes WHERE tenant = ?1 AND resource = ?2 AND modified_on >= ?3 AND modified_on < ?4 ORDER BY modified_on, record, version",
                    params![tenant, resource, from.as_millis(), to.as_millis()],
                )
            })
            .await
    }
}
