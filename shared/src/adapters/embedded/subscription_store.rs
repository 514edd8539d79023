use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension as _};

use super::db::{self, Database};
use crate::domain::{StoreError, SubscriptionId, TenantId, Timestamp, WriteError};
use crate::subscriptions::{Subscriber, Subscription, SubscriptionStore};

/// Subscriptions, indexed by subscriber and by due time.
pub struct EmbeddedSubscriptionStore {
    db: Arc<Database>,
}

impl EmbeddedSubscriptionStore {
    pub fn new(db: Arc<Database>) -> Self {
        Self { db }
    }
}

/// The stored version and subscriber of a subscription.
fn stored(conn: &rusqlite::Connection, tenant: &str, id: &str) -> rusqlite::Result<Option<(i64, String)>> {
    conn.prepare_cached("SELECT version, subscriber FROM subscriptions WHERE tenant = ?1 AND id = ?2")?
        .query_row(params![tenant, id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()
}

#[async_trait]
impl SubscriptionStore for EmbeddedSubscriptionStore {
    async fn save(&self, subscription: &Subscription, expected: Option<u64>) -> Result<(), WriteError> {
        let body = db::encode(subscription)?;
        let (tenant, id, subscriber) = (subscription.tenant.to_string(), subscription.id.to_string(), subscription.subscriber.to_string());
        let (version, due_at) = (db::int(subscription.version), subscription.due_index_at().map(Timestamp::as_millis));
        let applied = self
            .db
            .write(move |conn| {
                // Updated in place, and the subscriber's index only when the
                // subscriber changes: a check's writes touch the row and the
                // due index alone.
                let sql = match (stored(conn, &tenant, &id)?, expected.map(db::int)) {
                    (None, None) => "INSERT INTO subscriptions (tenant, id, subscriber, version, due_at, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    (Some((stored, before)), Some(expected)) if stored == expected && before == subscriber => {
                        "UPDATE subscriptions SET version = ?4, due_at = ?5, body = ?6 WHERE tenant = ?1 AND id = ?2 AND subscriber = ?3"
                    }
                    (Some((stored, _)), Some(expected)) if stored == expected => {
                        "UPDATE subscriptions SET subscriber = ?3, version = ?4, due_at = ?5, body = ?6 WHERE tenant = ?1 AND id = ?2"
                    }
                    _ => return Ok(false),
                };
                conn.prepare_cached(sql)?.execute(params![tenant, id, subscriber, version, due_at, body])?;
                Ok(true)
            })
            .await?;
        db::applied(applied)
    }

    async fn get(&self, tenant: &TenantId, id: &SubscriptionId) -> Result<Option<Subscription>, StoreError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        self.db.read(move |conn| db::document(conn, "SELECT body FROM subscriptions WHERE tenant = ?1 AND id = ?2", params![tenant, id])).await
    }

    async fn get_many(&self, ids: &[(TenantId, SubscriptionId)]) -> Result<Vec<Subscription>, StoreError> {
        let ids: Vec<(String, String)> = ids.iter().map(|(tenant, id)| (tenant.to_string(), id.to_string())).collect();
        self.db
            .read(move |conn| {
                let mut found = Vec::with_capacity(ids.len());
                for (tenant, id) in &ids {
                    found.extend(db::document(conn, "SELECT body FROM subscriptions WHERE tenant = ?1 AND id = ?2", params![tenant, id])?);
                }
                Ok(found)
            })
            .await
    }

    async fn delete(&self, subscription: &Subscription, expected: u64) -> Result<(), WriteError> {
        let (tenant, id) = (subscription.tenant.to_string(), subscription.id.to_string());
        let applied = self
            .db
            .write(move |conn| {
                conn.prepare_cached("DELETE FROM subscriptions WHERE tenant = ?1 AND id = ?2 AND version = ?3")?
                    .execute(params![tenant, id, db::int(expected)])
                    .map(|deleted| deleted > 0)
            })
            .await?;
        db::applied(applied)
    }

    async fn of_subscriber(&self, tenant: &TenantId, subscriber: &Subscriber, after: Option<&SubscriptionId>, limit: usize) -> Result<Vec<Subscription>, StoreError> {
        let (tenant, subscriber, after) = (tenant.to_string(), subscriber.to_string(), after.map(|a| a.to_string()).unwrap_or_default());
        self.db
            .read(move |conn| {
                db::documents(
                    conn,
                    "SELECT body FROM subscriptions WHERE tenant = ?1 AND subscriber = ?2 AND id > ?3 ORDER BY id LIMIT ?4",
                    params![tenant, subscriber, after, db::limit(limit)],
                )
            })
            .await
    }

    async fn count_of_subscriber(&self, tenant: &TenantId, subscriber: &Subscriber, at_most: usize) -> Result<usize, StoreError> {
        let (tenant, subscriber) = (tenant.to_string(), subscriber.to_string());
        self.db
            .read(move |conn| {
                db::count(
                    conn,
                    "SELECT count(*) FROM (SELECT 1 FROM subscriptions WHERE tenant = ?1 AND subscriber = ?2 LIMIT ?3)",
                    params![tenant, subscriber, db::limit(at_most)],
                )
            })
            .await
    }

    async fn due(&self, now: Timestamp, limit: usize) -> Result<Vec<(TenantId, SubscriptionId)>, StoreError> {
        self.db.read(move |conn| db::due(conn, "subscriptions", now, limit, |id| SubscriptionId::parse(id))).await
    }
}
