use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::params;

use super::db::{self, Database};
use crate::domain::{StoreError, TenantId, Timestamp, UserId, WriteError};
use crate::inbox::{InboxId, InboxItem, InboxStore};

/// Inboxes: one key range per user, items by id (newest last).
pub struct EmbeddedInboxStore {
    db: Arc<Database>,
}

impl EmbeddedInboxStore {
    pub fn new(db: Arc<Database>) -> Self {
        Self { db }
    }
}

/// An item's columns: tenant, user, id, version, expiry, due index time,
/// document.
type Columns<'a> = (&'a str, &'a str, &'a str, i64, Option<i64>, Option<i64>, String);

/// The item's key, version, expiry, due index time and document, as its
/// columns take them.
fn columns(item: &InboxItem) -> rusqlite::Result<Columns<'_>> {
    Ok((
        item.tenant.as_str(),
        item.user.as_str(),
        item.id.as_str(),
        db::int(item.version),
        item.expires_at.map(Timestamp::as_millis),
        item.due_index_at().map(Timestamp::as_millis),
        db::to_json(item)?,
    ))
}

#[async_trait]
impl InboxStore for EmbeddedInboxStore {
    async fn insert(&self, item: &InboxItem) -> Result<bool, StoreError> {
        let item = item.clone();
        self.db
            .write(move |conn| {
                conn.prepare_cached("INSERT OR IGNORE INTO inbox (tenant, user, id, version, expires_at, due_at, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?
                    .execute(columns(&item)?)
                    .map(|inserted| inserted > 0)
            })
            .await
    }

    async fn get(&self, tenant: &TenantId, user: &UserId, id: &InboxId) -> Result<Option<InboxItem>, StoreError> {
        let (tenant, user, id) = (tenant.to_string(), user.to_string(), id.as_str().to_owned());
        self.db.read(move |conn| db::document(conn, "SELECT body FROM inbox WHERE tenant = ?1 AND user = ?2 AND id = ?3", params![tenant, user, id])).await
    }

    async fn page(&self, tenant: &TenantId, user: &UserId, before: Option<&InboxId>, limit: usize) -> Result<Vec<InboxItem>, StoreError> {
        let (tenant, user, before) = (tenant.to_string(), user.to_string(), before.map(|b| b.as_str().to_owned()));
        self.db
            .read(move |conn| match before {
                Some(before) => db::documents(
                    conn,
                    "SELECT body FROM inbox WHERE tenant = ?1 AND user = ?2 AND id < ?3 ORDER BY id DESC LIMIT ?4",
                    params![tenant, user, before, db::limit(limit)],
                ),
                None => db::documents(conn, "SELECT body FROM inbox WHERE tenant = ?1 AND user = ?2 ORDER BY id DESC LIMIT ?3", params![tenant, user, db::limit(limit)]),
            })
            .await
    }

    async fn due_items(&self, now: Timestamp, limit: usize) -> Result<Vec<InboxItem>, StoreError> {
        self.db
            .read(move |conn| {
                db::documents(
                    conn,
                    "SELECT body FROM inbox WHERE due_at IS NOT NULL AND due_at <= ?1 ORDER BY due_at, tenant, user, id LIMIT ?2",
                    params![now.as_millis(), db::limit(limit)],
                )
            })
            .await
    }

    async fn replace(&self, item: &InboxItem, expected: u64) -> Result<(), WriteError> {
        let item = item.clone();
        let applied = self
            .db
            .write(move |conn| {
                let (tenant, user, id, version, expires_at, due_at, body) = columns(&item)?;
                conn.prepare_cached("UPDATE inbox SET version = ?4, expires_at = ?5, due_at = ?6, body = ?7 WHERE tenant = ?1 AND user = ?2 AND id = ?3 AND version = ?8")?
                    .execute(params![tenant, user, id, version, expires_at, due_at, body, db::int(expected)])
                    .map(|updated| updated > 0)
            })
            .await?;
        db::applied(applied)
    }

    async fn delete(&self, tenant: &TenantId, user: &UserId, id: &InboxId) -> Result<bool, StoreError> {
        let (tenant, user, id) = (tenant.to_string(), user.to_string(), id.as_str().to_owned());
        self.db
            .write(move |conn| {
                conn.prepare_cached("DELETE FROM inbox WHERE tenant = ?1 AND user = ?2 AND id = ?3")?.execute(params![tenant, user, id]).map(|deleted| deleted > 0)
            })
            .await
    }
}
