use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::params;

use super::db::{self, Database};
use crate::domain::{StoreError, TenantId, UserId};
use crate::sessions::{KeyHash, MirroredSession, SessionStore};

/// Mirrored Tryton sessions, by tenant, user and key hash; the sweeper
/// deletes them when they end.
pub struct EmbeddedSessionStore {
    db: Arc<Database>,
}

impl EmbeddedSessionStore {
    pub fn new(db: Arc<Database>) -> Self {
        Self { db }
    }
}

#[async_trait]
impl SessionStore for EmbeddedSessionStore {
    async fn put(&self, session: &MirroredSession) -> Result<(), StoreError> {
        let body = db::encode(session)?;
        let (tenant, user, hash, expires_at) = (session.tenant.to_string(), session.user.to_string(), session.key_hash.to_string(), session.expires_at.as_millis());
        self.db
            .write(move |conn| {
                conn.prepare_cached("INSERT OR REPLACE INTO tryton_sessions (tenant, user, key_hash, expires_at, body) VALUES (?1, ?2, ?3, ?4, ?5)")?
                    .execute(params![tenant, user, hash, expires_at, body])
                    .map(|_| ())
            })
            .await
    }

    async fn get(&self, tenant: &TenantId, user: &UserId, key_hash: &KeyHash) -> Result<Option<MirroredSession>, StoreError> {
        let (tenant, user, hash) = (tenant.to_string(), user.to_string(), key_hash.to_string());
        self.db.read(move |conn| db::document(conn, "SELECT body FROM tryton_sessions WHERE tenant = ?1 AND user = ?2 AND key_hash = ?3", params![tenant, user, hash])).await
    }

    async fn delete(&self, tenant: &TenantId, user: &UserId, key_hash: &KeyHash) -> Result<bool, StoreError> {
        let (tenant, user, hash) = (tenant.to_string(), user.to_string(), key_hash.to_string());
        self.db
            .write(move |conn| {
                conn.prepare_cached("DELETE FROM tryton_sessions WHERE tenant = ?1 AND user = ?2 AND key_hash = ?3")?.execute(params![tenant, user, hash]).map(|deleted| deleted > 0)
            })
            .await
    }

    async fn page(&self, tenant: &TenantId, after: Option<(&UserId, &KeyHash)>, limit: usize) -> Result<Vec<MirroredSession>, StoreError> {
        let tenant = tenant.to_string();
        let (user, hash) = after.map_or((String::new(), String::new()), |(u, h)| (u.to_string(), h.to_string()));
        self.db
            .read(move |conn| {
                db::documents(
                    conn,
                    "SELECT body FROM tryton_sessions WHERE tenant = ?1 AND (user, key_hash) > (?2, ?3) ORDER BY user, key_hash LIMIT ?4",
                    params![tenant, user, hash, db::limit(limit)],
                )
            })
            .await
    }

    async fn of_user(&self, tenant: &TenantId, user: &UserId, limit: usize) -> Result<Vec<MirroredSession>, StoreError> {
        let (tenant, user) = (tenant.to_string(), user.to_string());
        self.db
            .read(move |conn| db::documents(conn, "SELECT body FROM tryton_sessions WHERE tenant = ?1 AND user = ?2 ORDER BY key_hash LIMIT ?3", params![tenant, user, db::limit(limit)]))
            .await
    }
}
