use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension as _};

use super::db::{self, Database};
use super::queue::{self, EmbeddedQueue};
use crate::domain::{StoreError, TenantId, Timestamp, WriteError};
use crate::notifications::{Context, Delivery, DeliveryKey, Notification, NotificationId, NotificationStore, Publication, Recipient, TypeKey};

/// Notifications with their context and idempotency bindings, and their
/// deliveries; every state change conditioned on the version read.
pub struct EmbeddedNotificationStore {
    db: Arc<Database>,
}

impl EmbeddedNotificationStore {
    pub fn new(db: Arc<Database>) -> Self {
        Self { db }
    }
}

/// The recipient's columns: its kind and id, ordered as the DynamoDB
/// adapter's sort keys (`company:…` before `user:…`).
fn recipient_columns(recipient: &Recipient) -> (i64, String) {
    match recipient {
        Recipient::Company(id) => (0, id.to_string()),
        Recipient::User(id) => (1, id.to_string()),
    }
}

/// A delivery's columns: tenant, notification, revision, recipient kind and
/// id, version, expiry, document.
type DeliveryColumns<'a> = (&'a str, &'a str, u32, i64, String, i64, Option<i64>, String);

/// The delivery's key, version, expiry and document, as its columns take them.
fn delivery_columns(delivery: &Delivery) -> rusqlite::Result<DeliveryColumns<'_>> {
    let key = &delivery.key;
    let (kind, recipient) = recipient_columns(&key.recipient);
    Ok((key.tenant.as_str(), key.notification.as_str(), key.revision, kind, recipient, db::int(delivery.version), delivery.expires_at.map(Timestamp::as_millis), db::to_json(delivery)?))
}

fn notification_id(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<Option<NotificationId>> {
    let id: Option<String> = conn.prepare_cached(sql)?.query_row(params, |row| row.get(0)).optional()?;
    id.map(|id| NotificationId::parse(&id).map_err(db::corrupt)).transpose()
}

/// A notification's columns, made before the write: tenant, id, version,
/// the due index's time, document.
struct NotificationRow {
    tenant: String,
    id: String,
    version: i64,
    due_at: Option<i64>,
    body: String,
}

impl NotificationRow {
    fn of(notification: &Notification) -> Result<Self, StoreError> {
        Ok(Self {
            tenant: notification.tenant.to_string(),
            id: notification.id.to_string(),
            version: db::int(notification.version),
            due_at: notification.due_index_at().map(Timestamp::as_millis),
            body: db::encode(notification)?,
        })
    }

    /// Creates it (`expected` = `None`: only if absent) or replaces the one
    /// stored at version `expected`, in place; false if neither applies.
    fn save(&self, conn: &Connection, expected: Option<u64>) -> rusqlite::Result<bool> {
        let stored: Option<i64> =
            conn.prepare_cached("SELECT version FROM notifications WHERE tenant = ?1 AND id = ?2")?.query_row(params![self.tenant, self.id], |row| row.get(0)).optional()?;
        // An update, not a replace: the row is changed in place.
        let sql = match (stored, expected.map(db::int)) {
            (None, None) => "INSERT INTO notifications (tenant, id, version, due_at, body) VALUES (?1, ?2, ?3, ?4, ?5)",
            (Some(stored), Some(expected)) if stored == expected => "UPDATE notifications SET version = ?3, due_at = ?4, body = ?5 WHERE tenant = ?1 AND id = ?2",
            _ => return Ok(false),
        };
        conn.prepare_cached(sql)?.execute(params![self.tenant, self.id, self.version, self.due_at, self.body])?;
        Ok(true)
    }
}

/// Creates the delivery unless it exists; false if it did.
fn insert_delivery(conn: &Connection, delivery: &Delivery) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO deliveries (tenant, notification, revision, recipient_kind, recipient, version, expires_at, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(delivery_columns(delivery)?)
    .map(|inserted| inserted > 0)
}

#[async_trait]
impl NotificationStore for EmbeddedNotificationStore {
    async fn save(&self, notification: &Notification, expected: Option<u64>) -> Result<(), WriteError> {
        let row = NotificationRow::of(notification)?;
        let applied = self.db.write(move |conn| row.save(conn, expected)).await?;
        db::applied(applied)
    }

    async fn get(&self, tenant: &TenantId, id: &NotificationId) -> Result<Option<Notification>, StoreError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        self.db.read(move |conn| db::document(conn, "SELECT body FROM notifications WHERE tenant = ?1 AND id = ?2", params![tenant, id])).await
    }

    async fn due(&self, now: Timestamp, limit: usize) -> Result<Vec<(TenantId, NotificationId)>, StoreError> {
        self.db.read(move |conn| db::due(conn, "notifications", now, limit, |id| NotificationId::parse(id))).await
    }

    async fn bind_context(&self, tenant: &TenantId, context: &Context, key: &TypeKey, id: &NotificationId) -> Result<NotificationId, StoreError> {
        let (tenant, context, key, id) = (tenant.to_string(), context.clone(), key.to_string(), id.clone());
        self.db
            .write(move |conn| {
                let keys = params![tenant, context.table, context.id, key];
                conn.prepare_cached("INSERT OR IGNORE INTO contexts (tenant, source_table, source_id, type_key, notification) VALUES (?1, ?2, ?3, ?4, ?5)")?
                    .execute(params![tenant, context.table, context.id, key, id.as_str()])?;
                let bound = notification_id(conn, "SELECT notification FROM contexts WHERE tenant = ?1 AND source_table = ?2 AND source_id = ?3 AND type_key = ?4", keys)?;
                Ok(bound.unwrap_or(id))
            })
            .await
    }

    async fn claim_idempotency_key(&self, tenant: &TenantId, key: &str, id: &NotificationId, now: Timestamp, expires: Timestamp) -> Result<Option<NotificationId>, StoreError> {
        let (tenant, key, id) = (tenant.to_string(), key.to_owned(), id.to_string());
        self.db
            .write(move |conn| {
                let existing = notification_id(
                    conn,
                    "SELECT notification FROM idempotency_keys WHERE tenant = ?1 AND key = ?2 AND expires_at > ?3",
                    params![tenant, key, now.as_millis()],
                )?;
                if existing.is_none() {
                    conn.prepare_cached("INSERT OR REPLACE INTO idempotency_keys (tenant, key, notification, expires_at) VALUES (?1, ?2, ?3, ?4)")?
                        .execute(params![tenant, key, id, expires.as_millis()])?;
                }
                Ok(existing)
            })
            .await
    }

    async fn create_delivery(&self, delivery: &Delivery) -> Result<bool, StoreError> {
        let delivery = delivery.clone();
        self.db.write(move |conn| insert_delivery(conn, &delivery)).await
    }

    async fn get_delivery(&self, key: &DeliveryKey) -> Result<Option<Delivery>, StoreError> {
        let key = key.clone();
        self.db
            .read(move |conn| {
                let (kind, recipient) = recipient_columns(&key.recipient);
                db::document(
                    conn,
                    "SELECT body FROM deliveries WHERE tenant = ?1 AND notification = ?2 AND revision = ?3 AND recipient_kind = ?4 AND recipient = ?5",
                    params![key.tenant.as_str(), key.notification.as_str(), key.revision, kind, recipient],
                )
            })
            .await
    }

    async fn update_delivery(&self, delivery: &Delivery, expected: u64) -> Result<(), WriteError> {
        let delivery = delivery.clone();
        let applied = self
            .db
            .write(move |conn| {
                let (tenant, notification, revision, kind, recipient, version, expires_at, body) = delivery_columns(&delivery)?;
                conn.prepare_cached(
                    "UPDATE deliveries SET version = ?6, expires_at = ?7, body = ?8 \
                     WHERE tenant = ?1 AND notification = ?2 AND revision = ?3 AND recipient_kind = ?4 AND recipient = ?5 AND version = ?9",
                )?
                .execute(params![tenant, notification, revision, kind, recipient, version, expires_at, body, db::int(expected)])
                .map(|updated| updated > 0)
            })
            .await?;
        db::applied(applied)
    }

    async fn deliveries(&self, tenant: &TenantId, id: &NotificationId) -> Result<Vec<Delivery>, StoreError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        self.db
            .read(move |conn| {
                db::documents(
                    conn,
                    "SELECT body FROM deliveries WHERE tenant = ?1 AND notification = ?2 ORDER BY revision, recipient_kind, recipient",
                    params![tenant, id],
                )
            })
            .await
    }
}

/// A publication in one transaction of the embedded database: the
/// notification, its deliveries and their queue messages.
pub struct EmbeddedPublication {
    db: Arc<Database>,
    queue: Arc<EmbeddedQueue>,
}

impl EmbeddedPublication {
    /// Publishes into `queue`, which must live in `db`.
    pub fn new(db: Arc<Database>, queue: Arc<EmbeddedQueue>) -> Self {
        Self { db, queue }
    }
}

#[async_trait]
impl Publication for EmbeddedPublication {
    async fn create_published(&self, notification: &Notification, deliveries: &[Delivery]) -> Result<bool, StoreError> {
        let row = NotificationRow::of(notification)?;
        let keys: Vec<DeliveryKey> = deliveries.iter().map(|d| d.key.clone()).collect();
        let bodies = queue::bodies(&keys)?;
        let deliveries = deliveries.to_vec();
        let created = self
            .db
            .write(move |conn| {
                if !row.save(conn, None)? {
                    return Ok(false);
                }
                for delivery in &deliveries {
                    insert_delivery(conn, delivery)?;
                }
                queue::insert(conn, &bodies)?;
                Ok(true)
            })
            .await?;
        if created {
            self.queue.wake();
        }
        Ok(created)
    }
}
