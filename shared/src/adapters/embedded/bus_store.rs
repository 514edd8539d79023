use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::bus::store::NewMessage;
use crate::bus::{BusStore, ChannelKey, Seq, StoredMessage};
use crate::domain::{StoreError, TenantId, Timestamp};

#[derive(Default)]
struct ChannelLog {
    head: Option<Seq>,
    messages: BTreeMap<Seq, StoredMessage>,
}

/// Every channel's messages, and when each expires in publishing order, so
/// that a publish on any channel frees what expired on quiet ones too.
#[derive(Default)]
struct Channels {
    logs: HashMap<(TenantId, ChannelKey), ChannelLog>,
    expiries: VecDeque<(Timestamp, TenantId, ChannelKey, Seq)>,
}

/// The most expired messages one publish frees: each publish adds one, so
/// this keeps up with any rate while bounding the work of a single call.
const MAX_FREED_PER_APPEND: usize = 1024;

impl Channels {
    /// Drops expired messages of every channel, oldest first, and channels
    /// left with none (a channel created again starts above its old
    /// sequences: `NewMessage::first_seq`).
    fn free_expired(&mut self, now: Timestamp) {
        for _ in 0..MAX_FREED_PER_APPEND {
            match self.expiries.front() {
                Some((expires_at, ..)) if *expires_at <= now => {}
                _ => break,
            }
            let Some((_, tenant, channel, seq)) = self.expiries.pop_front() else { break };
            let key = (tenant, channel);
            if let Some(log) = self.logs.get_mut(&key) {
                log.messages.remove(&seq);
                if log.messages.is_empty() {
                    self.logs.remove(&key);
                }
            }
        }
    }
}

/// The bus in memory. One lock makes every append atomic; expired messages
/// of every channel are dropped as new ones arrive on any, so memory stays
/// bounded by what the retention keeps.
#[derive(Default)]
pub struct EmbeddedBusStore {
    channels: Mutex<Channels>,
}

impl EmbeddedBusStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// The channels and messages held now (tests of the retention).
    pub fn held(&self) -> (usize, usize) {
        self.lock().map_or((0, 0), |c| (c.logs.len(), c.logs.values().map(|log| log.messages.len()).sum()))
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Channels>, StoreError> {
        self.channels.lock().map_err(|_| StoreError::Unavailable("bus store lock poisoned".into()))
    }
}

#[async_trait]
impl BusStore for EmbeddedBusStore {
    async fn append(&self, tenant: &TenantId, channel: &ChannelKey, message: NewMessage<'_>) -> Result<Seq, StoreError> {
        let mut channels = self.lock()?;
        channels.free_expired(message.published_at);
        channels.expiries.push_back((message.expires_at, tenant.clone(), channel.clone(), 0));
        let log = channels.logs.entry((tenant.clone(), channel.clone())).or_default();
        let seq = match log.head {
            Some(head) => head + 1,
            None => message.first_seq,
        };
        log.head = Some(seq);
        let now = message.published_at;
        while let Some(entry) = log.messages.first_entry() {
            if entry.get().expires_at > now {
                break;
            }
            entry.remove();
        }
        log.messages.insert(
            seq,
            StoredMessage {
                seq,
                published_at: message.published_at,
                expires_at: message.expires_at,
                body: message.body.clone(),
            },
        );
        if let Some(expiry) = channels.expiries.back_mut() {
            expiry.3 = seq;
        }
        Ok(seq)
    }

    async fn heads(&self, tenant: &TenantId, keys: &[ChannelKey]) -> Result<Vec<Option<Seq>>, StoreError> {
        let channels = self.lock()?;
        Ok(keys
            .iter()
            .map(|k| channels.logs.get(&(tenant.clone(), k.clone())).and_then(|log| log.head))
            .collect())
    }

    async fn first_after(&self, tenant: &TenantId, channel: &ChannelKey, after: Seq, now: Timestamp, published_after: Option<Timestamp>) -> Result<Option<StoredMessage>, StoreError> {
        let channels = self.lock()?;
        let Some(log) = channels.logs.get(&(tenant.clone(), channel.clone())) else {
            return Ok(None);
        };
        Ok(log
            .messages
            .range(after.saturating_add(1)..)
            .map(|(_, m)| m)
            .find(|m| m.expires_at > now && published_after.is_none_or(|t| m.published_at >= t))
            .cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;
    use crate::domain::UserId;

    fn message(body: &Map<String, serde_json::Value>, at_secs: i64) -> NewMessage<'_> {
        let published_at = Timestamp::from_millis(at_secs * 1000);
        NewMessage { body, published_at, expires_at: Timestamp::from_millis((at_secs + 300) * 1000), first_seq: 1 }
    }

    /// Finding 6 of issue 11: expired messages were dropped only when their
    /// own channel got a new one, so quiet channels held memory for ever.
    #[tokio::test]
    async fn a_publish_anywhere_frees_what_expired_on_quiet_channels() {
        let store = EmbeddedBusStore::new();
        let tenant = TenantId::parse("demo").unwrap();
        let (a, b) = (ChannelKey::user(&UserId::parse("1").unwrap()), ChannelKey::user(&UserId::parse("2").unwrap()));
        let body = Map::new();
        for n in 0..3000 {
            store.append(&tenant, &a, message(&body, n / 100)).await.unwrap();
        }
        assert_eq!(store.held(), (1, 3000));
        // 301 s after the last one: every message of A has expired. Each
        // publish frees a bounded number; a few publishes free them all.
        for _ in 0..3 {
            store.append(&tenant, &b, message(&body, 29 + 301)).await.unwrap();
        }
        assert_eq!(store.held(), (1, 3), "A is gone, B keeps its three");
        assert_eq!(store.heads(&tenant, std::slice::from_ref(&a)).await.unwrap(), [None]);
        // A channel created again starts afresh.
        assert!(store.append(&tenant, &a, message(&body, 400)).await.unwrap() >= 1);
        assert_eq!(store.held(), (2, 4));
    }
}
