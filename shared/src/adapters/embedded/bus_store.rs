use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension as _};

use super::db::{self, Database};
use crate::bus::store::{next_read, Look, NewMessage, Seen};
use crate::bus::{BusStore, ChannelKey, ClientBinding, Seq, StoredMessage};
use crate::domain::{StoreError, TenantId, Timestamp, UserId};

/// The bus: a head per channel and its messages. An append reads the head
/// and writes head and message in one transaction of the single writer, so
/// sequences are contiguous whatever the number of publishers. Expired
/// messages, and channels whose last message expired, are deleted by the
/// sweeper (`Database::sweep`).
pub struct EmbeddedBusStore {
    db: Arc<Database>,
}

impl EmbeddedBusStore {
    pub fn new(db: Arc<Database>) -> Self {
        Self { db }
    }
}

fn seq(value: i64) -> rusqlite::Result<Seq> {
    Seq::try_from(value).map_err(db::corrupt)
}

fn head(conn: &rusqlite::Connection, tenant: &str, channel: &str) -> rusqlite::Result<Option<Seq>> {
    conn.prepare_cached("SELECT head FROM bus_channels WHERE tenant = ?1 AND channel = ?2")?
        .query_row(params![tenant, channel], |row| row.get::<_, i64>(0))
        .optional()?
        .map(seq)
        .transpose()
}

fn first_after(conn: &rusqlite::Connection, tenant: &str, channel: &str, after: Seq, now: Timestamp, published_after: Option<Timestamp>) -> rusqlite::Result<Option<StoredMessage>> {
    let published_after = published_after.map_or(i64::MIN, Timestamp::as_millis);
    let found = conn
        .prepare_cached(
            "SELECT seq, published_at, expires_at, body FROM bus_messages \
             WHERE tenant = ?1 AND channel = ?2 AND seq > ?3 AND expires_at > ?4 AND published_at >= ?5 ORDER BY seq LIMIT 1",
        )?
        .query_row(params![tenant, channel, db::int(after), now.as_millis(), published_after], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?, row.get::<_, i64>(2)?, row.get::<_, String>(3)?))
        })
        .optional()?;
    found
        .map(|(at, published_at, expires_at, body)| {
            Ok(StoredMessage { seq: seq(at)?, published_at: Timestamp::from_millis(published_at), expires_at: Timestamp::from_millis(expires_at), body: db::from_json(&body)? })
        })
        .transpose()
}

/// The binding of a client id live at `now`, if any.
fn client_binding(conn: &rusqlite::Connection, tenant: &str, client: &str, now: Timestamp) -> rusqlite::Result<Option<ClientBinding>> {
    let found: Option<(String, i64)> = conn
        .prepare_cached("SELECT user, expires_at FROM bus_clients WHERE tenant = ?1 AND client = ?2 AND expires_at > ?3")?
        .query_row(params![tenant, client, now.as_millis()], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    found.map(|(user, expires_at)| Ok(ClientBinding { user: UserId::parse(user).map_err(db::corrupt)?, expires_at: Timestamp::from_millis(expires_at) })).transpose()
}

#[async_trait]
impl BusStore for EmbeddedBusStore {
    async fn bind_client(&self, tenant: &TenantId, client: &str, user: &UserId, now: Timestamp, expires_at: Timestamp) -> Result<ClientBinding, StoreError> {
        let (tenant, client) = (tenant.to_string(), client.to_owned());
        let read = (tenant.clone(), client.clone());
        // Bound already, mostly: a read, and the writer only for a first bind.
        if let Some(bound) = self.db.read(move |conn| client_binding(conn, &read.0, &read.1, now)).await? {
            return Ok(bound);
        }
        let user = user.clone();
        self.db
            .write(move |conn| {
                if let Some(bound) = client_binding(conn, &tenant, &client, now)? {
                    return Ok(bound);
                }
                conn.prepare_cached("INSERT OR REPLACE INTO bus_clients (tenant, client, user, expires_at) VALUES (?1, ?2, ?3, ?4)")?
                    .execute(params![tenant, client, user.as_str(), expires_at.as_millis()])?;
                Ok(ClientBinding { user, expires_at })
            })
            .await
    }

    async fn append(&self, tenant: &TenantId, channel: &ChannelKey, message: NewMessage<'_>) -> Result<Seq, StoreError> {
        let (tenant, channel) = (tenant.to_string(), channel.as_str().to_owned());
        let body = serde_json::to_string(message.body).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let (published_at, expires_at, first_seq) = (message.published_at.as_millis(), message.expires_at.as_millis(), db::int(message.first_seq));
        let publication_id = message.publication_id.map(str::to_owned);
        self.db
            .write(move |conn| {
                if let Some(id) = &publication_id {
                    let taken: Option<i64> = conn
                        .prepare_cached("SELECT seq FROM bus_messages WHERE tenant = ?1 AND channel = ?2 AND publication_id = ?3")?
                        .query_row(params![tenant, channel, id], |row| row.get(0))
                        .optional()?;
                    if let Some(taken) = taken {
                        return seq(taken);
                    }
                }
                let head: Option<i64> =
                    conn.prepare_cached("SELECT head FROM bus_channels WHERE tenant = ?1 AND channel = ?2")?.query_row(params![tenant, channel], |row| row.get(0)).optional()?;
                let next = head.map_or(first_seq, |head| head.saturating_add(1));
                conn.prepare_cached(
                    "INSERT INTO bus_channels (tenant, channel, head, expires_at) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT (tenant, channel) DO UPDATE SET head = excluded.head, expires_at = max(expires_at, excluded.expires_at)",
                )?
                .execute(params![tenant, channel, next, expires_at])?;
                conn.prepare_cached("INSERT INTO bus_messages (tenant, channel, seq, published_at, expires_at, body, publication_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?
                    .execute(params![tenant, channel, next, published_at, expires_at, body, publication_id])?;
                seq(next)
            })
            .await
    }

    /// One process holds the database (its data directory is locked), so
    /// every publish goes through the bus that wakes the polls.
    fn appends_are_local(&self) -> bool {
        true
    }

    async fn heads(&self, tenant: &TenantId, channels: &[ChannelKey]) -> Result<Vec<Option<Seq>>, StoreError> {
        let tenant = tenant.to_string();
        let channels: Vec<String> = channels.iter().map(|c| c.as_str().to_owned()).collect();
        self.db.read(move |conn| channels.iter().map(|channel| head(conn, &tenant, channel)).collect()).await
    }

    async fn first_after(&self, tenant: &TenantId, channel: &ChannelKey, after: Seq, now: Timestamp, published_after: Option<Timestamp>) -> Result<Option<StoredMessage>, StoreError> {
        let (tenant, channel) = (tenant.to_string(), channel.as_str().to_owned());
        self.db.read(move |conn| first_after(conn, &tenant, &channel, after, now, published_after)).await
    }

    /// Heads and next messages in one read: one snapshot, one trip to a
    /// reader, per look of a poll.
    async fn look(&self, tenant: &TenantId, looks: &[Look<'_>], now: Timestamp, published_after: Option<Timestamp>) -> Result<Vec<Seen>, StoreError> {
        let tenant = tenant.to_string();
        let looks: Vec<(String, Option<Seq>)> = looks.iter().map(|l| (l.channel.as_str().to_owned(), l.after)).collect();
        self.db
            .read(move |conn| {
                looks
                    .iter()
                    .map(|(channel, after)| {
                        let head = head(conn, &tenant, channel)?;
                        let next = match next_read(head, *after, published_after) {
                            Some((after, since)) => first_after(conn, &tenant, channel, after, now, since)?,
                            None => None,
                        };
                        Ok(Seen { head, next })
                    })
                    .collect()
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::UserId;
    use serde_json::Map;

    fn message(body: &Map<String, serde_json::Value>, at_secs: i64) -> NewMessage<'_> {
        let published_at = Timestamp::from_millis(at_secs * 1000);
        NewMessage { body, published_at, expires_at: Timestamp::from_millis((at_secs + 300) * 1000), first_seq: 1, publication_id: None }
    }

    /// Expired messages of quiet channels are deleted by the sweeper, their
    /// heads a day later (as on DynamoDB), and a channel created again then
    /// starts afresh.
    #[tokio::test]
    async fn the_sweeper_deletes_what_expired_on_quiet_channels() {
        let db = Database::in_memory();
        let store = EmbeddedBusStore::new(db.clone());
        let tenant = TenantId::parse("demo").unwrap();
        let (a, b) = (ChannelKey::user(&UserId::parse("1").unwrap()), ChannelKey::user(&UserId::parse("2").unwrap()));
        let body = Map::new();
        for n in 0..3000 {
            store.append(&tenant, &a, message(&body, n / 100)).await.unwrap();
        }
        store.append(&tenant, &b, message(&body, 320)).await.unwrap();
        // 301 s after A's last message: all of A has expired, B has not.
        // The messages go; A's head stays a day, so its numbering holds.
        let report = db.sweep(Timestamp::from_millis((29 + 301) * 1000)).await.unwrap();
        assert_eq!((report.bus_messages, report.bus_channels), (3000, 0), "{report:?}");
        assert_eq!(store.heads(&tenant, &[a.clone(), b.clone()]).await.unwrap(), [Some(3000), Some(1)]);
        assert_eq!(db.sweep(Timestamp::from_millis(330_000)).await.unwrap().total(), 0, "nothing left to sweep");
        assert_eq!(store.append(&tenant, &a, message(&body, 340)).await.unwrap(), 3001, "on from its head");
        // A day after: the heads go too, and a channel used again starts afresh.
        let report = db.sweep(Timestamp::from_millis((340 + 301 + 86_400) * 1000)).await.unwrap();
        assert_eq!((report.bus_messages, report.bus_channels), (2, 2), "{report:?}");
        assert_eq!(store.heads(&tenant, &[a.clone(), b.clone()]).await.unwrap(), [None, None]);
        assert_eq!(store.append(&tenant, &a, message(&body, 90_000)).await.unwrap(), 1, "A starts afresh");
    }
}
