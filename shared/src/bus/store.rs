//! The storage port of the bus. Both adapters (embedded, DynamoDB) pass the
//! same contract suite (`shared/tests/it/bus_store_contract.rs`).
use async_trait::async_trait;
use serde_json::{Map, Value};

use super::channel::ChannelKey;
use crate::domain::{StoreError, TenantId, Timestamp, UserId};

/// A channel's head outlives its last message by this much (both adapters),
/// so its numbering stays stable while a client may still hold a cursor in
/// it, even if the clock steps back a little.
pub const HEAD_GRACE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// A message's position on its channel. Sequence numbers of one channel are
/// contiguous: a store commits message `n + 1` only together with moving the
/// channel's head from `n` to `n + 1`, so commit order is sequence order.
pub type Seq = u64;

#[derive(Debug, Clone, PartialEq)]
pub struct StoredMessage {
    pub seq: Seq,
    pub published_at: Timestamp,
    pub expires_at: Timestamp,
    pub body: Map<String, Value>,
}

/// What a publisher hands the store.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub body: &'a Map<String, Value>,
    pub published_at: Timestamp,
    pub expires_at: Timestamp,
    /// The sequence number of a channel's first message (also after its head
    /// expired): chosen by the domain so it exceeds any earlier one.
    pub first_seq: Seq,
    /// The publisher's id for the message (trytond's `message_id`), checked
    /// by the service: a channel takes an id once, while that message is
    /// kept, so a publisher's retry does not publish it twice.
    pub publication_id: Option<&'a str>,
}

/// What a poll asks of one of its channels.
#[derive(Debug, Clone, Copy)]
pub struct Look<'a> {
    pub channel: &'a ChannelKey,
    /// The client's position on it; `None` for a channel its cursor does
    /// not know.
    pub after: Option<Seq>,
}

/// Where a look reads a channel's next message from, given its head:
/// after the position, or (a position the cursor does not know) from the
/// start but published at or after `published_after`; `None` when the head
/// is not past the position. The one rule of every store's `look`.
pub fn next_read(head: Option<Seq>, after: Option<Seq>, published_after: Option<Timestamp>) -> Option<(Seq, Option<Timestamp>)> {
    match (head, after) {
        (None, _) => None,
        (Some(head), Some(after)) if head <= after => None,
        (Some(_), Some(after)) => Some((after, None)),
        (Some(_), None) => Some((0, published_after)),
    }
}

/// What a look finds on one channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    pub head: Option<Seq>,
    /// The first message after the position (for an unknown position: the
    /// first published at or after the look's `published_after`), when the
    /// head is past it.
    pub next: Option<StoredMessage>,
}

/// What a store's feed says moved.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Moved {
    /// A channel and a sequence its head reached, per append read.
    pub channels: Vec<(TenantId, ChannelKey, Seq)>,
    /// False when the feed held more than one read takes: then the watcher
    /// reads the heads instead.
    pub complete: bool,
}

/// Whose a client id is (`client:<id>`), and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientBinding {
    pub user: UserId,
    pub expires_at: Timestamp,
}

#[async_trait]
pub trait BusStore: Send + Sync {
    /// Appends after the channel's head, atomically; returns the new sequence.
    /// A message whose `publication_id` the channel already took adds
    /// nothing and answers that message's sequence.
    async fn append(&self, tenant: &TenantId, channel: &ChannelKey, message: NewMessage<'_>) -> Result<Seq, StoreError>;

    /// The head (last sequence number) of each channel, `None` if it has none.
    async fn heads(&self, tenant: &TenantId, channels: &[ChannelKey]) -> Result<Vec<Option<Seq>>, StoreError>;

    /// The heads of channels of any tenants, for a process's watcher: it
    /// only learns which channels moved (each woken poll then looks for
    /// itself), so a store may answer from a slightly stale copy. As
    /// written here, one [`BusStore::heads`] per tenant.
    async fn watched_heads(&self, channels: &[(TenantId, ChannelKey)]) -> Result<Vec<Option<Seq>>, StoreError> {
        let mut by_tenant: std::collections::HashMap<&TenantId, Vec<(usize, ChannelKey)>> = std::collections::HashMap::new();
        for (i, (tenant, key)) in channels.iter().enumerate() {
            by_tenant.entry(tenant).or_default().push((i, key.clone()));
        }
        let mut heads = vec![None; channels.len()];
        for (tenant, keys) in by_tenant {
            let (positions, keys): (Vec<usize>, Vec<ChannelKey>) = keys.into_iter().unzip();
            for (i, head) in positions.into_iter().zip(self.heads(tenant, &keys).await?) {
                heads[i] = head;
            }
        }
        Ok(heads)
    }

    /// The channels whose head moved by an append published at or after
    /// `since` (the publisher's clock), among the parts of the store's feed
    /// that hold `channels`' moves, if the store keeps such a feed: a
    /// process's watcher then reads what moved instead of every waiting
    /// channel's head. The answer may hold other channels too. `None`: no
    /// feed (as written here).
    async fn moved_since(&self, channels: &[(TenantId, ChannelKey)], since: Timestamp) -> Result<Option<Moved>, StoreError> {
        let _ = (channels, since);
        Ok(None)
    }

    /// Whether every append to this store goes through this process (the
    /// embedded store, whose data directory one process holds): then a
    /// publish wakes its polls itself and nothing needs to watch the heads.
    fn appends_are_local(&self) -> bool {
        false
    }

    /// The first message after `after` that has not expired at `now` and, if
    /// given, was published at or after `published_after` (ties included: a
    /// message in the same millisecond as the client's last one is not older).
    async fn first_after(&self, tenant: &TenantId, channel: &ChannelKey, after: Seq, now: Timestamp, published_after: Option<Timestamp>) -> Result<Option<StoredMessage>, StoreError>;

    /// Binds the client id `client` to `user` until `expires_at`, unless a
    /// binding of it is live at `now`: created once (of two first binds at
    /// once, one wins and both see it). The binding that holds.
    async fn bind_client(&self, tenant: &TenantId, client: &str, user: &UserId, now: Timestamp, expires_at: Timestamp) -> Result<ClientBinding, StoreError>;

    /// One look of a poll at its channels: each one's head and, where the
    /// head is past the position, the next message ([`Seen`]). As written
    /// here, [`BusStore::heads`] then [`BusStore::first_after`] where
    /// needed; a store may answer it in one read.
    async fn look(&self, tenant: &TenantId, looks: &[Look<'_>], now: Timestamp, published_after: Option<Timestamp>) -> Result<Vec<Seen>, StoreError> {
        let keys: Vec<ChannelKey> = looks.iter().map(|l| l.channel.clone()).collect();
        let heads = self.heads(tenant, &keys).await?;
        let mut seen = Vec::with_capacity(looks.len());
        for (look, head) in looks.iter().zip(heads) {
            let next = match next_read(head, look.after, published_after) {
                Some((after, since)) => self.first_after(tenant, look.channel, after, now, since).await?,
                None => None,
            };
            seen.push(Seen { head, next });
        }
        Ok(seen)
    }
}
