//! Publishing and long polling, as trytond's `Bus` and `_MessageQueue.get_next`
//! do it, over any [`BusStore`] and any number of instances.
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Map, Value};
use tokio::sync::Notify;
use tokio::time::Instant;

use super::channel::{authorize_subscriptions, check_name, publish_key, ChannelGrants, ChannelKey, Subscription, MAX_CHANNELS};
use super::cursor::{Cursor, MAX_CURSOR_LEN};
use super::store::{BusStore, NewMessage, Seq, StoredMessage};
use crate::domain::{Clock, StoreError, TenantId, UserId};

/// Longest title and body of a Tryton `notify`: those of a typed
/// notification (`notifications::model::MAX_TITLE_BYTES`, `MAX_BODY_BYTES`),
/// as README says.
pub const MAX_NOTIFY_TITLE_BYTES: usize = 256;
pub const MAX_NOTIFY_BODY_BYTES: usize = 16 * 1024;
/// Longest client id of a `client:<id>` channel given to `notify`.
pub const MAX_CLIENT_ID_BYTES: usize = 128;

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl BusError {
    fn invalid(message: impl std::fmt::Display) -> Self {
        Self::Invalid(message.to_string())
    }
}

/// A long poll as a Tryton client sends it (`POST /{db}/bus`). Unknown
/// fields are ignored: clients may send more than Herald reads.
#[derive(Debug, Clone, Deserialize)]
pub struct PollRequest {
    #[serde(default)]
    pub last_message: Option<String>,
    #[serde(default)]
    pub channels: Vec<String>,
}

/// A raw message for a channel (`POST /{db}/bus/publish`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    pub channel: String,
    pub message: Map<String, Value>,
    /// Owner of a `client:` channel (a number or a string); the publisher
    /// by default.
    #[serde(default)]
    pub user: Option<Value>,
}

/// Tryton's `notify(title, body, priority, user, client)` (`POST /{db}/notify`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyRequest {
    pub title: String,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub priority: Option<i64>,
    /// The user notified (a number or a string); the publisher by default.
    #[serde(default)]
    pub user: Option<Value>,
    #[serde(default)]
    pub client: Option<String>,
}

/// The user a request names, or the publisher.
fn target_user(user: Option<&Value>, publisher: &UserId) -> Result<UserId, BusError> {
    match user {
        None | Some(Value::Null) => Ok(publisher.clone()),
        Some(v) => UserId::from_json(v).map_err(|e| BusError::invalid(format_args!("user: {e}"))),
    }
}

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

    /// Answers a client's poll: the channels it may read out of those it
    /// names (its own `user:<uid>` always), checked, then [`Bus::poll`].
    pub async fn listen(&self, tenant: &TenantId, user: &UserId, grants: &ChannelGrants, request: &PollRequest) -> Result<Option<Delivery>, BusError> {
        if request.channels.len() > MAX_CHANNELS {
            return Err(BusError::Invalid(format!("at most {MAX_CHANNELS} channels per poll")));
        }
        for name in &request.channels {
            check_name(name).map_err(BusError::invalid)?;
        }
        if request.last_message.as_ref().is_some_and(|m| m.len() > MAX_CURSOR_LEN) {
            return Err(BusError::Invalid(format!("last_message is limited to {MAX_CURSOR_LEN} bytes")));
        }
        let subscriptions = authorize_subscriptions(user, grants, &request.channels);
        Ok(self.poll(tenant, &subscriptions, request.last_message.as_deref()).await?)
    }

    /// Puts a raw message on the channel a publisher names.
    pub async fn publish_named(&self, tenant: &TenantId, publisher: &UserId, request: &PublishRequest) -> Result<Published, BusError> {
        let user = target_user(request.user.as_ref(), publisher)?;
        let key = publish_key(&request.channel, &user).map_err(BusError::invalid)?;
        Ok(self.publish(tenant, &key, &request.message).await?)
    }

    /// Tryton's `notify`: a `notification` message on the client's own
    /// channel when one is named, else on the user's (every client of it
    /// gets it). The channel's name and the message's sequence.
    pub async fn notify(&self, tenant: &TenantId, publisher: &UserId, request: &NotifyRequest) -> Result<(String, Published), BusError> {
        if request.title.trim().is_empty() {
            return Err(BusError::invalid("title must not be empty"));
        }
        if request.title.len() > MAX_NOTIFY_TITLE_BYTES {
            return Err(BusError::Invalid(format!("title is limited to {MAX_NOTIFY_TITLE_BYTES} bytes")));
        }
        if request.body.as_ref().is_some_and(|body| body.len() > MAX_NOTIFY_BODY_BYTES) {
            return Err(BusError::Invalid(format!("body is limited to {MAX_NOTIFY_BODY_BYTES} bytes")));
        }
        let priority = request.priority.unwrap_or(1);
        if !(0..=3).contains(&priority) {
            return Err(BusError::invalid("priority must be 0, 1, 2 or 3"));
        }
        let user = target_user(request.user.as_ref(), publisher)?;
        let channel = match &request.client {
            Some(client) if client.is_empty() || client.len() > MAX_CLIENT_ID_BYTES => {
                return Err(BusError::Invalid(format!("client must be 1 to {MAX_CLIENT_ID_BYTES} bytes")));
            }
            Some(client) => format!("client:{client}"),
            None => format!("user:{user}"),
        };
        let key = publish_key(&channel, &user).map_err(BusError::invalid)?;
        let mut message = Map::new();
        message.insert("type".into(), json!("notification"));
        message.insert("title".into(), json!(request.title));
        message.insert("body".into(), json!(request.body));
        message.insert("priority".into(), json!(priority));
        let published = self.publish(tenant, &key, &message).await?;
        Ok((channel, published))
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
