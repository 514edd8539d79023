//! Publishing and long polling, as trytond's `Bus` and `_MessageQueue.get_next`
//! do it, over any [`BusStore`] and any number of instances.
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::Notify;
use tokio::time::Instant;

use super::channel::{ChannelKey, Subscription};
use super::cursor::Cursor;
use super::store::{BusStore, NewMessage, Seq, StoredMessage};
use crate::domain::{Clock, TenantId};
use crate::ports::StoreError;

#[derive(Debug, Clone)]
pub struct BusSettings {
    /// How long messages are kept (trytond's `cache_timeout`).
    pub retention: Duration,
    /// How long a poll waits for a message before answering with none.
    pub wait: Duration,
    /// How often a waiting poll looks at the store for messages published by
    /// other instances (same-instance publishes wake it at once).
    pub poll_interval: Duration,
}

impl Default for BusSettings {
    fn default() -> Self {
        Self {
            retention: Duration::from_secs(300),
            wait: Duration::from_secs(20),
            poll_interval: Duration::from_millis(500),
        }
    }
}

/// One reply of a poll: the channel name as the client wrote it and the
/// message with its `message_id` (the client's next cursor).
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub channel: String,
    pub message: Map<String, Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    pub seq: Seq,
}

pub struct Bus {
    store: Arc<dyn BusStore>,
    clock: Arc<dyn Clock>,
    settings: BusSettings,
    /// Wakes this instance's waiting polls when it publishes.
    published: Notify,
}

impl Bus {
    pub fn new(store: Arc<dyn BusStore>, clock: Arc<dyn Clock>, settings: BusSettings) -> Self {
        Self { store, clock, settings, published: Notify::new() }
    }

    pub fn settings(&self) -> &BusSettings {
        &self.settings
    }

    pub async fn publish(
        &self,
        tenant: &TenantId,
        channel: &ChannelKey,
        body: &Map<String, Value>,
    ) -> Result<Published, StoreError> {
        let now = self.clock.now();
        let message = NewMessage {
            body,
            published_at: now,
            expires_at: now.plus(self.settings.retention),
            // Microseconds of the wall clock: a channel whose head expired and
            // is created again starts above every sequence it had before.
            first_seq: u64::try_from(now.as_millis()).unwrap_or(0).saturating_mul(1000).max(1),
        };
        let seq = self.store.append(tenant, channel, message).await?;
        self.published.notify_waiters();
        Ok(Published { seq })
    }

    /// Waits up to the configured time for the next message after
    /// `last_message` on `subscriptions`; `None` when the wait runs out.
    pub async fn poll(
        &self,
        tenant: &TenantId,
        subscriptions: &[Subscription],
        last_message: Option<&str>,
    ) -> Result<Option<Delivery>, StoreError> {
        let cursor = last_message.and_then(Cursor::decode);
        let deadline = Instant::now() + self.settings.wait;
        loop {
            // Registered before looking, so a publish in between still wakes us.
            let published = self.published.notified();
            tokio::pin!(published);
            published.as_mut().enable();

            if let Some(delivery) = self.next_message(tenant, subscriptions, cursor.as_ref()).await? {
                return Ok(Some(delivery));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            let nap = self.settings.poll_interval.min(deadline - now);
            tokio::select! {
                _ = &mut published => {}
                _ = tokio::time::sleep(nap) => {}
            }
        }
    }

    /// The oldest pending message across the subscriptions, if any, with the
    /// cursor that follows it.
    async fn next_message(
        &self,
        tenant: &TenantId,
        subscriptions: &[Subscription],
        cursor: Option<&Cursor>,
    ) -> Result<Option<Delivery>, StoreError> {
        let now = self.clock.now();
        let keys: Vec<ChannelKey> = subscriptions.iter().map(|s| s.key.clone()).collect();
        let heads = self.store.heads(tenant, &keys).await?;

        let mut candidates: Vec<Option<StoredMessage>> = Vec::with_capacity(subscriptions.len());
        for (sub, head) in subscriptions.iter().zip(&heads) {
            let known = cursor.and_then(|c| c.position(&sub.key));
            let candidate = match (head, known) {
                (None, _) => None,
                (Some(head), Some(position)) if *head <= position => None,
                (Some(_), Some(position)) => {
                    self.store.first_after(tenant, &sub.key, position, now, None).await?
                }
                // A channel the cursor does not know: what was published since
                // the client's last message (everything, for a new client).
                (Some(_), None) => {
                    let since = cursor.map(|c| c.last_published);
                    self.store.first_after(tenant, &sub.key, 0, now, since).await?
                }
            };
            candidates.push(candidate);
        }

        let chosen = candidates
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.as_ref().map(|m| (i, m)))
            .min_by_key(|(i, m)| (m.published_at, *i));
        let Some((chosen_index, chosen)) = chosen else {
            return Ok(None);
        };

        // Record an exact position on every channel, so later polls never
        // depend on clocks: sequence numbers of a channel are contiguous.
        let mut next = Cursor::new(chosen.published_at);
        for (i, sub) in subscriptions.iter().enumerate() {
            let position = if i == chosen_index {
                chosen.seq
            } else if let Some(known) = cursor.and_then(|c| c.position(&sub.key)) {
                known
            } else {
                match &candidates[i] {
                    Some(pending) => pending.seq.saturating_sub(1),
                    None => heads[i].unwrap_or(0),
                }
            };
            next.set_position(&sub.key, position);
        }

        let mut message = chosen.body.clone();
        message.insert("message_id".to_owned(), Value::String(next.encode()));
        Ok(Some(Delivery { channel: subscriptions[chosen_index].name.clone(), message }))
    }
}
