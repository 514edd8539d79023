use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::params;

use super::db::{self, Database};
use crate::domain::{Clock, StoreError};
use crate::notifications::{DeliveryKey, OutboxQueue};
use crate::outbox::{QueueConsumer, Received};

/// How long a received message stays hidden if it is neither deleted nor
/// released: the outbox function's SQS visibility timeout (template.yaml).
pub const VISIBILITY_TIMEOUT: Duration = Duration::from_secs(180);

/// The outbox queue in the database, with SQS's contract: a received
/// message is hidden until deleted, released, or its visibility timeout
/// ends; after `max_receives` receives it moves to the dead letters
/// instead. Times are the services' clock, so a moved clock hurries a
/// retry as it would hurry SQS's.
pub struct EmbeddedQueue {
    db: Arc<Database>,
    clock: Arc<dyn Clock>,
    max_receives: u32,
}

impl EmbeddedQueue {
    pub fn new(db: Arc<Database>, clock: Arc<dyn Clock>, max_receives: u32) -> Self {
        Self { db, clock, max_receives: max_receives.max(1) }
    }

    /// Bodies of the messages moved to the dead letters, oldest first.
    pub async fn dead_letters(&self) -> Result<Vec<String>, StoreError> {
        self.db
            .read(|conn| {
                let mut statement = conn.prepare_cached("SELECT body FROM dead_letters ORDER BY id LIMIT 10000")?;
                let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
                rows.collect()
            })
            .await
    }

    /// Messages waiting (visible or delayed, not in flight).
    pub async fn ready_len(&self) -> Result<usize, StoreError> {
        self.db.read(|conn| db::count(conn, "SELECT count(*) FROM queue WHERE receipt IS NULL", [])).await
    }

    /// Tells the drainer something was enqueued, here or by a write of
    /// another store (a publication): `Database::queued`.
    pub(super) fn wake(&self) {
        self.db.wake_queue();
    }
}

/// The queue's message bodies for `keys`, made before the write.
pub(super) fn bodies(keys: &[DeliveryKey]) -> Result<Vec<String>, StoreError> {
    keys.iter().map(|key| serde_json::to_string(key).map_err(|e| StoreError::Corrupt(e.to_string()))).collect()
}

/// Queues `bodies`, visible at once, inside the caller's transaction.
pub(super) fn insert(conn: &rusqlite::Connection, bodies: &[String]) -> rusqlite::Result<()> {
    let mut insert = conn.prepare_cached("INSERT INTO queue (body, receives, visible_at) VALUES (?1, 0, 0)")?;
    for body in bodies {
        insert.execute([body])?;
    }
    Ok(())
}

/// A receipt names the message and the receive: `{id}-{receives}`.
fn parse_receipt(handle: &str) -> Option<i64> {
    handle.split_once('-').and_then(|(id, _)| id.parse().ok())
}

#[async_trait]
impl OutboxQueue for EmbeddedQueue {
    async fn enqueue(&self, keys: &[DeliveryKey]) -> Result<(), StoreError> {
        let bodies = bodies(keys)?;
        self.db.write(move |conn| insert(conn, &bodies)).await?;
        self.wake();
        Ok(())
    }
}

#[async_trait]
impl QueueConsumer for EmbeddedQueue {
    async fn receive(&self, max: usize) -> Result<Vec<Received>, StoreError> {
        let now = self.clock.now().as_millis();
        let hidden_until = self.clock.now().plus(VISIBILITY_TIMEOUT).as_millis();
        let max_receives = i64::from(self.max_receives);
        self.db
            .write(move |conn| {
                let mut out = Vec::new();
                // Messages moved to the dead letters make room for others,
                // as in SQS: look again until some are received or none is
                // visible (bounded: each look moves or receives its rows).
                for _ in 0..64 {
                    let visible: Vec<(i64, String, i64)> = {
                        let mut statement = conn.prepare_cached("SELECT id, body, receives FROM queue WHERE visible_at <= ?1 ORDER BY visible_at, id LIMIT ?2")?;
                        let rows = statement.query_map(params![now, db::limit(max - out.len())], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
                        rows.collect::<rusqlite::Result<_>>()?
                    };
                    if visible.is_empty() {
                        break;
                    }
                    for (id, body, receives) in visible {
                        if receives >= max_receives {
                            conn.prepare_cached("INSERT OR REPLACE INTO dead_letters (id, body, receives, moved_at) VALUES (?1, ?2, ?3, ?4)")?.execute(params![id, body, receives, now])?;
                            conn.prepare_cached("DELETE FROM queue WHERE id = ?1")?.execute([id])?;
                            continue;
                        }
                        let handle = format!("{id}-{}", receives + 1);
                        conn.prepare_cached("UPDATE queue SET receives = receives + 1, visible_at = ?2, receipt = ?3 WHERE id = ?1")?.execute(params![id, hidden_until, handle])?;
                        out.push(Received { handle, body });
                    }
                    if out.len() >= max {
                        break;
                    }
                }
                Ok(out)
            })
            .await
    }

    async fn delete(&self, handle: &str) -> Result<(), StoreError> {
        let (Some(id), handle) = (parse_receipt(handle), handle.to_owned()) else { return Ok(()) };
        // Only with the current receipt: a stale one (the message came back
        // and was received again) deletes nothing, as in SQS.
        self.db.write(move |conn| conn.prepare_cached("DELETE FROM queue WHERE id = ?1 AND receipt = ?2")?.execute(params![id, handle]).map(|_| ())).await
    }

    async fn release(&self, handle: &str, after: Duration) -> Result<(), StoreError> {
        let (Some(id), handle) = (parse_receipt(handle), handle.to_owned()) else { return Ok(()) };
        let visible_at = self.clock.now().plus(after).as_millis();
        let released = self
            .db
            .write(move |conn| {
                conn.prepare_cached("UPDATE queue SET visible_at = ?3, receipt = NULL WHERE id = ?1 AND receipt = ?2")?.execute(params![id, handle, visible_at])
            })
            .await?;
        if released > 0 && after.is_zero() {
            self.wake();
        }
        Ok(())
    }
}
