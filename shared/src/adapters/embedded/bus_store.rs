use std::collections::{BTreeMap, HashMap};
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

type Channels = HashMap<(TenantId, ChannelKey), ChannelLog>;

/// The bus in memory. One lock makes every append atomic; expired messages
/// are dropped as new ones arrive, so memory stays bounded by the retention.
#[derive(Default)]
pub struct EmbeddedBusStore {
    channels: Mutex<Channels>,
}

impl EmbeddedBusStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Channels>, StoreError> {
        self.channels.lock().map_err(|_| StoreError::Unavailable("bus store lock poisoned".into()))
    }
}

#[async_trait]
impl BusStore for EmbeddedBusStore {
    async fn append(&self, tenant: &TenantId, channel: &ChannelKey, message: NewMessage<'_>) -> Result<Seq, StoreError> {
        let mut channels = self.lock()?;
        let log = channels.entry((tenant.clone(), channel.clone())).or_default();
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
        Ok(seq)
    }

    async fn heads(&self, tenant: &TenantId, keys: &[ChannelKey]) -> Result<Vec<Option<Seq>>, StoreError> {
        let channels = self.lock()?;
        Ok(keys
            .iter()
            .map(|k| channels.get(&(tenant.clone(), k.clone())).and_then(|log| log.head))
            .collect())
    }

    async fn first_after(&self, tenant: &TenantId, channel: &ChannelKey, after: Seq, now: Timestamp, published_after: Option<Timestamp>) -> Result<Option<StoredMessage>, StoreError> {
        let channels = self.lock()?;
        let Some(log) = channels.get(&(tenant.clone(), channel.clone())) else {
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
