//! The sweeper: deletes what has expired, so the database stays bounded by
//! the retention of each kind of data, not by its history. DynamoDB's TTL
//! does this for the AWS tables.
use std::time::Duration;

use serde::Serialize;

use super::db::{self, Database};
use crate::domain::{StoreError, Timestamp};

/// Rows deleted per write, so a sweep never holds the writer for long.
const BATCH: usize = 2000;
/// Dead letters are kept this long (the DLQ's retention in template.yaml).
pub const DEAD_LETTER_RETENTION: Duration = Duration::from_secs(14 * 86_400);

/// What one sweep deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    pub bus_messages: usize,
    pub bus_channels: usize,
    pub client_bindings: usize,
    pub tryton_sessions: usize,
    pub inbox_items: usize,
    pub deliveries: usize,
    pub changes: usize,
    pub idempotency_keys: usize,
    pub dead_letters: usize,
}

impl SweepReport {
    pub fn total(&self) -> usize {
        self.bus_messages + self.bus_channels + self.client_bindings + self.tryton_sessions + self.inbox_items + self.deliveries + self.changes + self.idempotency_keys + self.dead_letters
    }
}

/// A table, the columns that name a row, the column of its expiry, and how
/// long past it a row is kept.
struct Expiring {
    table: &'static str,
    key: &'static str,
    expires: &'static str,
    grace: Duration,
}

const fn expiring(table: &'static str, key: &'static str) -> Expiring {
    Expiring { table, key, expires: "expires_at", grace: Duration::ZERO }
}

const BUS_MESSAGES: Expiring = expiring("bus_messages", "tenant, channel, seq");
/// A channel's head is kept a day past its last message, as on DynamoDB.
const BUS_CHANNELS: Expiring = Expiring { grace: crate::bus::store::HEAD_GRACE, ..expiring("bus_channels", "tenant, channel") };
const CLIENT_BINDINGS: Expiring = expiring("bus_clients", "tenant, client");
const TRYTON_SESSIONS: Expiring = expiring("tryton_sessions", "tenant, user, key_hash");
const INBOX: Expiring = expiring("inbox", "tenant, user, id");
const DELIVERIES: Expiring = expiring("deliveries", "tenant, notification, revision, recipient_kind, recipient");
const CHANGES: Expiring = expiring("changes", "seq");
const IDEMPOTENCY_KEYS: Expiring = expiring("idempotency_keys", "tenant, key");
const DEAD_LETTERS: Expiring = Expiring { expires: "moved_at", grace: DEAD_LETTER_RETENTION, ..expiring("dead_letters", "id") };

impl Database {
    /// Deletes every row expired at `now`, in bounded batches, then hands
    /// the freed pages back to the file system.
    pub async fn sweep(&self, now: Timestamp) -> Result<SweepReport, StoreError> {
        let report = SweepReport {
            bus_messages: self.delete_expired(&BUS_MESSAGES, now).await?,
            bus_channels: self.delete_expired(&BUS_CHANNELS, now).await?,
            client_bindings: self.delete_expired(&CLIENT_BINDINGS, now).await?,
            tryton_sessions: self.delete_expired(&TRYTON_SESSIONS, now).await?,
            inbox_items: self.delete_expired(&INBOX, now).await?,
            deliveries: self.delete_expired(&DELIVERIES, now).await?,
            changes: self.delete_expired(&CHANGES, now).await?,
            idempotency_keys: self.delete_expired(&IDEMPOTENCY_KEYS, now).await?,
            dead_letters: self.delete_expired(&DEAD_LETTERS, now).await?,
        };
        if report.total() > 0 {
            // Freed pages back to the file system, and the log into the file
            // (without waiting for readers), so the files shrink.
            self.write(db::free_pages).await?;
            self.checkpoint().await?;
        }
        Ok(report)
    }

    async fn delete_expired(&self, expiring: &'static Expiring, now: Timestamp) -> Result<usize, StoreError> {
        let Expiring { table, key, expires, grace } = expiring;
        let at = now.as_millis().saturating_sub(i64::try_from(grace.as_millis()).unwrap_or(i64::MAX));
        let sql = format!("DELETE FROM {table} WHERE ({key}) IN (SELECT {key} FROM {table} WHERE {expires} <= ?1 LIMIT ?2)");
        let mut deleted = 0;
        loop {
            let sql = sql.clone();
            let batch = self.write(move |conn| conn.prepare_cached(&sql)?.execute(rusqlite::params![at, db::limit(BATCH)])).await?;
            deleted += batch;
            if batch < BATCH {
                return Ok(deleted);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::embedded::{Durability, Location};

    #[tokio::test]
    async fn a_sweep_hands_the_freed_pages_back() {
        let dir = std::env::temp_dir().join("herald-db-tests").join(uuid::Uuid::new_v4().to_string());
        let db = Database::open(&Location::Directory(dir), Durability::Normal).unwrap();
        let insert = "INSERT INTO idempotency_keys (tenant, key, notification, expires_at) VALUES ('t', ?1, 'n', 1)";
        db.write(move |conn| {
            for n in 0..5000 {
                conn.prepare_cached(insert)?.execute([format!("key-{n}-{}", "x".repeat(200))])?;
            }
            Ok(())
        })
        .await
        .unwrap();
        let pages = |name: &'static str| db.write(move |conn| conn.query_row(&format!("PRAGMA {name}"), [], |row| row.get::<_, i64>(0)));
        let full = pages("page_count").await.unwrap();
        let report = db.sweep(Timestamp::from_millis(2)).await.unwrap();
        assert_eq!(report.idempotency_keys, 5000);
        assert_eq!(pages("freelist_count").await.unwrap(), 0, "every free page handed back");
        let left = pages("page_count").await.unwrap();
        assert!(left * 10 < full, "{full} pages before, {left} after");
    }
}
