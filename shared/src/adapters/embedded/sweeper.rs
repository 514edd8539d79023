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
    pub inbox_items: usize,
    pub deliveries: usize,
    pub changes: usize,
    pub idempotency_keys: usize,
    pub dead_letters: usize,
}

impl SweepReport {
    pub fn total(&self) -> usize {
        self.bus_messages + self.bus_channels + self.inbox_items + self.deliveries + self.changes + self.idempotency_keys + self.dead_letters
    }
}

/// A table, the columns that name a row, and the column of its expiry.
struct Expiring {
    table: &'static str,
    key: &'static str,
    expires: &'static str,
}

const BUS_MESSAGES: Expiring = Expiring { table: "bus_messages", key: "tenant, channel, seq", expires: "expires_at" };
const BUS_CHANNELS: Expiring = Expiring { table: "bus_channels", key: "tenant, channel", expires: "expires_at" };
const INBOX: Expiring = Expiring { table: "inbox", key: "tenant, user, id", expires: "expires_at" };
const DELIVERIES: Expiring = Expiring { table: "deliveries", key: "tenant, notification, revision, recipient_kind, recipient", expires: "expires_at" };
const CHANGES: Expiring = Expiring { table: "changes", key: "seq", expires: "expires_at" };
const IDEMPOTENCY_KEYS: Expiring = Expiring { table: "idempotency_keys", key: "tenant, key", expires: "expires_at" };
const DEAD_LETTERS: Expiring = Expiring { table: "dead_letters", key: "id", expires: "moved_at" };

impl Database {
    /// Deletes every row expired at `now`, in bounded batches, then hands
    /// the freed pages back to the file system.
    pub async fn sweep(&self, now: Timestamp) -> Result<SweepReport, StoreError> {
        let at = now.as_millis();
        let dead_before = at.saturating_sub(i64::try_from(DEAD_LETTER_RETENTION.as_millis()).unwrap_or(i64::MAX));
        let report = SweepReport {
            bus_messages: self.delete_expired(&BUS_MESSAGES, at).await?,
            bus_channels: self.delete_expired(&BUS_CHANNELS, at).await?,
            inbox_items: self.delete_expired(&INBOX, at).await?,
            deliveries: self.delete_expired(&DELIVERIES, at).await?,
            changes: self.delete_expired(&CHANGES, at).await?,
            idempotency_keys: self.delete_expired(&IDEMPOTENCY_KEYS, at).await?,
            dead_letters: self.delete_expired(&DEAD_LETTERS, dead_before).await?,
        };
        if report.total() > 0 {
            self.write(|conn| conn.execute_batch("PRAGMA incremental_vacuum")).await?;
        }
        Ok(report)
    }

    async fn delete_expired(&self, expiring: &'static Expiring, at: i64) -> Result<usize, StoreError> {
        let Expiring { table, key, expires } = expiring;
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
