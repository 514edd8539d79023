//! The storage port of the bus. Both adapters (embedded, DynamoDB) pass the
//! same contract suite (`shared/tests/it/bus_store_contract.rs`).
use async_trait::async_trait;
use serde_json::{Map, Value};

use super::channel::ChannelKey;
use crate::domain::{StoreError, TenantId, Timestamp};

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
}

#[async_trait]
pub trait BusStore: Send + Sync {
    /// Appends after the channel's head, atomically; returns the new sequence.
    async fn append(&self, tenant: &TenantId, channel: &ChannelKey, message: NewMessage<'_>) -> Result<Seq, StoreError>;

    /// The head (last sequence number) of each channel, `None` if it has none.
    async fn heads(&self, tenant: &TenantId, channels: &[ChannelKey]) -> Result<Vec<Option<Seq>>, StoreError>;

    /// The first message after `after` that has not expired at `now` and, if
    /// given, was published at or after `published_after` (ties included: a
    /// message in the same millisecond as the client's last one is not older).
    async fn first_after(&self, tenant: &TenantId, channel: &ChannelKey, after: Seq, now: Timestamp, published_after: Option<Timestamp>) -> Result<Option<StoredMessage>, StoreError>;
}
