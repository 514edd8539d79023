//! Publishing and long polling, as trytond's `Bus` and `_MessageQueue.get_next`
//! do it, over any [`BusStore`] and any number of instances.
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Map, Value};
use tokio::sync::Notify;
use tokio::time::Instant;

use super::channel::{authorize_subscriptions, check_name, publish_key, ChannelGrants, ChannelKey, Subscription, MAX_CHANNELS};
use super::cursor::{Cursor, MAX_CURSOR_LEN};
use super::store::{BusStore, ClientBinding, Look, NewMessage, Seq, StoredMessage};
use crate::domain::{Clock, StoreError, TenantId, UserId};

/// Longest title and body of a Tryton `notify`: those of a typed
/// notification (`notifications::model::MAX_TITLE_BYTES`, `MAX_BODY_BYTES`),
/// as README says.
pub const MAX_NOTIFY_TITLE_BYTES: usize = 256;
pub const MAX_NOTIFY_BODY_BYTES: usize = 16 * 1024;
/// Longest client id of a `client:<id>` channel given to `notify`.
pub const MAX_CLIENT_ID_BYTES: usize = 128;
/// How long a client id stays bound to its user: longer than a client runs
/// (trytond's sessions last 30 days at most by default); once it ends, the
/// next poll binds it again.
pub const CLIENT_BINDING_LIFETIME: Duration = Duration::from_secs(30 * 86_400);
/// Client bindings an instance keeps in memory (each is read from the store
/// once, then known until it expires); past this they are forgotten.
const MAX_KNOWN_CLIENTS: usize = 65_536;

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
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
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct PollRequest {
    #[serde(default)]
    pub last_message: Option<String>,
    #[serde(default)]
    pub channels: Vec<String>,
}

/// A raw message for a channel (`POST /{db}/bus/publish`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    pub channel: String,
    pub message: Map<String, Value>,
    /// The user a `client:` channel's client id belongs to (a number or a
    /// string): binds the id to that user if it is not bound yet, refused
    /// (409) if it is bound to another. Without it the message goes to
    /// whoever polls the client id, as in Tryton.
    #[serde(default)]
    #[schema(schema_with = crate::domain::schema::optional_user_ref)]
    pub user: Option<Value>,
}

/// Messages to publish in order (`POST /{db}/bus/messages`): a trytond
/// transaction's, sent once it committed.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishBatch {
    /// At most [`MAX_BATCH_MESSAGES`].
    pub messages: Vec<BatchMessage>,
}

/// One message of a batch: a channel and what to put on it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchMessage {
    pub channel: String,
    pub message: Map<String, Value>,
    /// The publisher's id for it (trytond's `message_id`): a channel
    /// publishes an id once while the message is kept, so a batch sent again
    /// after a failure publishes only what was missing. Letters, digits,
    /// `-`, `_`, `.`, `:`; at most [`MAX_PUBLICATION_ID_BYTES`].
    #[serde(default)]
    pub id: Option<String>,
}

/// Most messages one batch publishes.
pub const MAX_BATCH_MESSAGES: usize = 100;
/// Longest publisher's id of a batch message.
pub const MAX_PUBLICATION_ID_BYTES: usize = 64;

fn check_publication_id(id: &str) -> Result<(), BusError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':');
    if id.is_empty() || id.len() > MAX_PUBLICATION_ID_BYTES || !id.chars().all(allowed) {
        return Err(BusError::Invalid(format!("id: 1 to {MAX_PUBLICATION_ID_BYTES} letters, digits, '-', '_', '.' or ':'")));
    }
    Ok(())
}

/// Tryton's `notify(title, body, priority, user, client)` (`POST /{db}/notify`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotifyRequest {
    pub title: String,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub priority: Option<i64>,
    /// The user notified (a number or a string); the publisher by default.
    /// With `client`, the user that client id belongs to (see
    /// `PublishRequest::user`).
    #[serde(default)]
    #[schema(schema_with = crate::domain::schema::optional_user_ref)]
    pub user: Option<Value>,
    /// A client id: the message goes to that client alone (`client:<id>`),
    /// whoever polls it.
    #[serde(default)]
    pub client: Option<String>,
}

/// The user a request names, if it names one.
fn named_user(user: Option<&Value>) -> Result<Option<UserId>, BusError> {
    match user {
        None | Some(Value::Null) => Ok(None),
        Some(v) => UserId::from_json(v).map(Some).map_err(|e| BusError::invalid(format_args!("user: {e}"))),
    }
}

#[derive(Debug, Clone)]
pub struct BusSettings {
    /// How long messages are kept (trytond's `cache_timeout`).
    pub retention: Duration,
    /// How long a poll waits for a message before answering with none.
    pub wait: Duration,
    /// How often a process's watcher learns which of the channels its
    /// polls wait on moved, for messages other processes publish (a publish
    /// of the same process wakes them at once; the embedded store, which one
    /// process holds, is never read on a timer).
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
    /// Wakes this process's polls waiting on a channel when it moves: at
    /// once for a publish of this process, at the watcher's next read for
    /// another process's.
    watchers: Arc<Watchers>,
    /// Client bindings read from the store, until they expire.
    clients: std::sync::Mutex<std::collections::HashMap<(TenantId, String), ClientBinding>>,
}

type WatchKey = (TenantId, ChannelKey);

/// What a process's watcher has done, for benchmarks and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatcherStats {
    /// Distinct channels some poll of this process waits on.
    pub channels: usize,
    /// Of those, the channels whose head a waiting poll has seen (the ones
    /// the watcher reads).
    pub looked: usize,
    /// Polls that have looked once and wait.
    pub waiting: usize,
    /// The watcher's reads so far (of the store's feed, or of the heads).
    pub rounds: u64,
}

/// One per process: a wake-up per channel that some poll waits on, so a
/// publish wakes only the polls of its own channel, and (when other
/// processes publish too) one task that learns which waiting channels
/// moved, so the store's reads do not grow with polls.
struct Watchers {
    store: Arc<dyn BusStore>,
    clock: Arc<dyn Clock>,
    interval: Duration,
    state: std::sync::Mutex<WatchState>,
    rounds: AtomicU64,
    waiting: AtomicUsize,
}

#[derive(Default)]
struct WatchState {
    channels: std::collections::HashMap<WatchKey, Watched>,
    /// Whether the reading task runs; it ends when nothing is watched.
    reading: bool,
}

/// How far back a watcher reads the store's feed of moved channels each
/// time, beyond its previous read: what a publisher's clock, a slow commit
/// and an eventually consistent read may lag by.
const FEED_OVERLAP: Duration = Duration::from_secs(5);
/// How often a watcher reading a feed still reads every waiting channel's
/// head, for a move the feed showed too late: a wake-up is never later
/// than this.
const FEED_HEADS_EVERY: Duration = Duration::from_secs(60);

struct Watched {
    notify: Arc<Notify>,
    polls: usize,
    /// The lowest head a waiting poll saw at its last look (`Some(None)`:
    /// the channel had none); `None` until one has looked. The watcher
    /// wakes the channel's polls when the head it reads is past it.
    seen: Option<Option<Seq>>,
}

impl Watchers {
    fn new(store: Arc<dyn BusStore>, clock: Arc<dyn Clock>, interval: Duration) -> Arc<Self> {
        Arc::new(Self { store, clock, interval, state: Default::default(), rounds: AtomicU64::new(0), waiting: AtomicUsize::new(0) })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, WatchState> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn watch<'a>(self: &'a Arc<Self>, tenant: &TenantId, keys: impl Iterator<Item = &'a ChannelKey>) -> Watch<'a> {
        let mut state = self.lock();
        let mut watched = Vec::new();
        for key in keys {
            let watch_key = (tenant.clone(), key.clone());
            let entry = state.channels.entry(watch_key.clone()).or_insert_with(|| Watched { notify: Arc::new(Notify::new()), polls: 0, seen: None });
            entry.polls += 1;
            watched.push((watch_key, entry.notify.clone()));
        }
        if !watched.is_empty() && !state.reading && !self.store.appends_are_local() {
            state.reading = true;
            tokio::spawn(self.clone().watch_moves());
        }
        Watch { watchers: self, watched, looked: std::sync::atomic::AtomicBool::new(false) }
    }

    /// A publish of this process: its channel's polls wake at once, and
    /// the watcher will not wake them again for the same append.
    fn published(&self, tenant: &TenantId, key: &ChannelKey, seq: Seq) {
        let mut state = self.lock();
        if let Some(watched) = state.channels.get_mut(&(tenant.clone(), key.clone())) {
            if watched.seen.is_some_and(|seen| Some(seq) > seen) {
                watched.seen = Some(Some(seq));
            }
            watched.notify.notify_waiters();
        }
    }

    /// Every interval while some poll waits: which of the channels polls
    /// have looked at moved since, from the store's feed where it keeps
    /// one (its heads every [`FEED_HEADS_EVERY`] too), else from their
    /// heads, read at once; the polls of each channel whose head moved past
    /// what they saw are woken.
    async fn watch_moves(self: Arc<Self>) {
        // Should the task end otherwise than below (a panic, its runtime
        // shutting down), the next poll starts another.
        let mut running = Running { watchers: &self, ended: false };
        let mut feed_since: Option<crate::domain::Timestamp> = None;
        let mut heads_read = Instant::now();
        loop {
            tokio::time::sleep(self.interval).await;
            let looked: Vec<(WatchKey, Option<Seq>)> = {
                let mut state = self.lock();
                if state.channels.is_empty() {
                    state.reading = false;
                    running.ended = true;
                    return;
                }
                state.channels.iter().filter_map(|(key, watched)| watched.seen.map(|seen| (key.clone(), seen))).collect()
            };
            if looked.is_empty() {
                continue;
            }
            self.rounds.fetch_add(1, Ordering::Relaxed);
            let keys: Vec<WatchKey> = looked.iter().map(|(key, _)| key.clone()).collect();
            let started = self.clock.now();
            // Read back from the previous read (less the overlap), or, at
            // the first read, from the overlap before it.
            let since = feed_since.unwrap_or(started).minus(FEED_OVERLAP);
            if heads_read.elapsed() < FEED_HEADS_EVERY {
                match self.store.moved_since(&keys, since).await {
                    Ok(Some(moved)) if moved.complete => {
                        self.wake_moved(moved.channels.into_iter().map(|(tenant, key, seq)| ((tenant, key), Some(seq))));
                        feed_since = Some(started);
                        continue;
                    }
                    // No feed, or more than one read takes: the heads.
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!(%error, channels = keys.len(), "bus watcher: reading the feed failed");
                        continue;
                    }
                }
            }
            match self.store.watched_heads(&keys).await {
                Ok(heads) => {
                    self.wake_moved(keys.into_iter().zip(heads));
                    feed_since = Some(started);
                    heads_read = Instant::now();
                }
                // The polls still answer at their deadline; the next read may succeed.
                Err(error) => tracing::warn!(%error, channels = keys.len(), "bus watcher: reading the heads failed"),
            }
        }
    }

    /// Wakes the polls of each watched channel whose head is past what they
    /// saw (a stale or repeated read of an older head wakes no one).
    fn wake_moved(&self, heads: impl Iterator<Item = (WatchKey, Option<Seq>)>) {
        let mut state = self.lock();
        for (key, head) in heads {
            if let Some(watched) = state.channels.get_mut(&key) {
                if watched.seen.is_some_and(|seen| head > seen) {
                    watched.seen = Some(head);
                    watched.notify.notify_waiters();
                }
            }
        }
    }

    fn stats(&self) -> WatcherStats {
        let state = self.lock();
        WatcherStats {
            channels: state.channels.len(),
            looked: state.channels.values().filter(|w| w.seen.is_some()).count(),
            rounds: self.rounds.load(Ordering::Relaxed),
            waiting: self.waiting.load(Ordering::Relaxed),
        }
    }
}

/// The watcher task while it runs: if it ends without saying so, the
/// `reading` flag is cleared, so the next poll starts another.
struct Running<'a> {
    watchers: &'a Watchers,
    ended: bool,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if !self.ended {
            self.watchers.lock().reading = false;
        }
    }
}

/// The channels one poll waits on; forgotten when it ends.
struct Watch<'a> {
    watchers: &'a Watchers,
    watched: Vec<(WatchKey, Arc<Notify>)>,
    /// Whether the poll has looked once (counted in `waiting`).
    looked: std::sync::atomic::AtomicBool,
}

impl Watch<'_> {
    /// The heads the poll's look found, in the order of its channels.
    fn saw(&self, heads: &[Option<Seq>]) {
        if !self.looked.swap(true, Ordering::Relaxed) {
            self.watchers.waiting.fetch_add(1, Ordering::Relaxed);
        }
        let mut state = self.watchers.lock();
        for ((key, _), head) in self.watched.iter().zip(heads) {
            if let Some(watched) = state.channels.get_mut(key) {
                watched.seen = Some(watched.seen.map_or(*head, |seen| seen.min(*head)));
            }
        }
    }
}

impl Drop for Watch<'_> {
    fn drop(&mut self) {
        if self.looked.load(Ordering::Relaxed) {
            self.watchers.waiting.fetch_sub(1, Ordering::Relaxed);
        }
        let mut state = self.watchers.lock();
        for (key, _) in &self.watched {
            if let Some(entry) = state.channels.get_mut(key) {
                entry.polls -= 1;
                if entry.polls == 0 {
                    state.channels.remove(key);
                }
            }
        }
    }
}

impl Bus {
    pub fn new(store: Arc<dyn BusStore>, clock: Arc<dyn Clock>, settings: BusSettings) -> Self {
        let watchers = Watchers::new(store.clone(), clock.clone(), settings.poll_interval);
        Self { store, clock, settings, watchers, clients: Default::default() }
    }

    pub fn settings(&self) -> &BusSettings {
        &self.settings
    }

    /// What this process's watcher watches and has read.
    pub fn watcher_stats(&self) -> WatcherStats {
        self.watchers.stats()
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
        let mut subscriptions = Vec::new();
        for subscription in authorize_subscriptions(user, grants, &request.channels) {
            // A client channel is read by the user its id is bound to alone.
            let readable = match subscription.key.client_id() {
                Some(client) => self.client_owner(tenant, client, user).await? == *user,
                None => true,
            };
            if readable {
                subscriptions.push(subscription);
            }
        }
        Ok(self.poll(tenant, &subscriptions, request.last_message.as_deref()).await?)
    }

    /// The user `client` is bound to, binding it to `user` if no one holds
    /// it: the first poller (or the user a publisher names) owns a client id
    /// until the binding ends. Known bindings are not read again.
    async fn client_owner(&self, tenant: &TenantId, client: &str, user: &UserId) -> Result<UserId, StoreError> {
        let now = self.clock.now();
        let key = (tenant.clone(), client.to_owned());
        let known = self.clients.lock().ok().and_then(|clients| clients.get(&key).filter(|b| b.expires_at > now).map(|b| b.user.clone()));
        if let Some(owner) = known {
            return Ok(owner);
        }
        let binding = self.store.bind_client(tenant, client, user, now, now.plus(CLIENT_BINDING_LIFETIME)).await?;
        let owner = binding.user.clone();
        if let Ok(mut clients) = self.clients.lock() {
            if clients.len() >= MAX_KNOWN_CLIENTS {
                clients.clear();
            }
            clients.insert(key, binding);
        }
        Ok(owner)
    }

    /// Where a publisher's message for `channel` goes; a client channel
    /// named with its user is bound to that user, and refused if it is
    /// another's.
    async fn publish_target(&self, tenant: &TenantId, channel: &str, user: Option<&UserId>) -> Result<ChannelKey, BusError> {
        let key = publish_key(channel).map_err(BusError::invalid)?;
        if let (Some(client), Some(user)) = (key.client_id(), user) {
            if self.client_owner(tenant, client, user).await? != *user {
                return Err(BusError::Conflict(format!("{channel} belongs to another user")));
            }
        }
        Ok(key)
    }

    /// Puts a raw message on the channel a publisher names.
    pub async fn publish_named(&self, tenant: &TenantId, request: &PublishRequest) -> Result<Published, BusError> {
        let user = named_user(request.user.as_ref())?;
        let key = self.publish_target(tenant, &request.channel, user.as_ref()).await?;
        Ok(self.publish(tenant, &key, &request.message).await?)
    }

    /// Publishes a batch in its order (each channel's sequence keeps it);
    /// every channel is checked before any message is published.
    pub async fn publish_batch(&self, tenant: &TenantId, batch: &PublishBatch) -> Result<Vec<(String, Published)>, BusError> {
        if batch.messages.len() > MAX_BATCH_MESSAGES {
            return Err(BusError::Invalid(format!("at most {MAX_BATCH_MESSAGES} messages per batch")));
        }
        let keys = batch.messages.iter().map(|m| publish_key(&m.channel).map_err(|e| BusError::Invalid(format!("{}: {e}", m.channel)))).collect::<Result<Vec<_>, _>>()?;
        for id in batch.messages.iter().filter_map(|m| m.id.as_deref()) {
            check_publication_id(id)?;
        }
        let mut published = Vec::with_capacity(keys.len());
        for (message, key) in batch.messages.iter().zip(keys) {
            published.push((message.channel.clone(), self.publish_once(tenant, &key, &message.message, message.id.as_deref()).await?));
        }
        Ok(published)
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
        let user = named_user(request.user.as_ref())?;
        // As Tryton's: the client's own channel when one is named (whoever
        // the user), else the user's, the publisher's by default.
        let channel = match &request.client {
            Some(client) if client.is_empty() || client.len() > MAX_CLIENT_ID_BYTES => {
                return Err(BusError::Invalid(format!("client must be 1 to {MAX_CLIENT_ID_BYTES} bytes")));
            }
            Some(client) => format!("client:{client}"),
            None => format!("user:{}", user.as_ref().unwrap_or(publisher)),
        };
        let key = self.publish_target(tenant, &channel, user.as_ref()).await?;
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
        self.publish_once(tenant, channel, body, None).await
    }

    /// [`Bus::publish`], once per `publication_id` on the channel (while the
    /// message is kept): a repeated id answers the first one's sequence.
    async fn publish_once(
        &self,
        tenant: &TenantId,
        channel: &ChannelKey,
        body: &Map<String, Value>,
        publication_id: Option<&str>,
    ) -> Result<Published, StoreError> {
        let now = self.clock.now();
        let message = NewMessage {
            body,
            published_at: now,
            expires_at: now.plus(self.settings.retention),
            // Microseconds of the wall clock: a channel whose head expired and
            // is created again starts above every sequence it had before.
            first_seq: u64::try_from(now.as_millis()).unwrap_or(0).saturating_mul(1000).max(1),
            publication_id,
        };
        let seq = self.store.append(tenant, channel, message).await?;
        self.watchers.published(tenant, channel, seq);
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
        let watch = self.watchers.watch(tenant, subscriptions.iter().map(|s| &s.key));
        loop {
            // Registered before looking, so a publish in between still wakes us.
            let mut published: Vec<_> = watch.watched.iter().map(|(_, notify)| Box::pin(notify.notified())).collect();
            for notified in &mut published {
                notified.as_mut().enable();
            }

            let (delivery, heads) = self.next_message(tenant, subscriptions, cursor.as_ref()).await?;
            if delivery.is_some() {
                return Ok(delivery);
            }
            watch.saw(&heads);
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            let any_published = async {
                if !published.is_empty() {
                    futures::future::select_all(published).await;
                }
            };
            tokio::select! {
                _ = any_published, if !watch.watched.is_empty() => {}
                _ = tokio::time::sleep(deadline - now) => {}
            }
        }
    }

    /// The oldest pending message across the subscriptions, if any, with the
    /// cursor that follows it; and the heads seen.
    async fn next_message(
        &self,
        tenant: &TenantId,
        subscriptions: &[Subscription],
        cursor: Option<&Cursor>,
    ) -> Result<(Option<Delivery>, Vec<Option<Seq>>), StoreError> {
        let now = self.clock.now();
        let looks: Vec<Look<'_>> = subscriptions.iter().map(|sub| Look { channel: &sub.key, after: cursor.and_then(|c| c.position(&sub.key)) }).collect();
        // A channel the cursor does not know: what was published since the
        // client's last message (everything, for a new client).
        let seen = self.store.look(tenant, &looks, now, cursor.map(|c| c.last_published)).await?;
        let heads: Vec<Option<Seq>> = seen.iter().map(|s| s.head).collect();
        let candidates: Vec<Option<StoredMessage>> = seen.into_iter().map(|s| s.next).collect();

        let chosen = candidates
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.as_ref().map(|m| (i, m)))
            .min_by_key(|(i, m)| (m.published_at, *i));
        let Some((chosen_index, chosen)) = chosen else {
            return Ok((None, heads));
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
        Ok((Some(Delivery { channel: subscriptions[chosen_index].name.clone(), message }), heads))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_trait::async_trait;

    use super::*;
    use crate::adapters::embedded::EmbeddedBusStore;
    use crate::domain::SystemClock;

    /// The embedded store, counting the looks of each tenant's polls.
    struct CountingStore {
        inner: EmbeddedBusStore,
        looks: std::sync::Mutex<std::collections::HashMap<TenantId, usize>>,
        appends: AtomicUsize,
    }

    impl Default for CountingStore {
        fn default() -> Self {
            Self { inner: EmbeddedBusStore::new(crate::adapters::embedded::Database::in_memory()), looks: Default::default(), appends: Default::default() }
        }
    }

    #[async_trait]
    impl BusStore for CountingStore {
        async fn append(&self, tenant: &TenantId, channel: &ChannelKey, message: NewMessage<'_>) -> Result<Seq, StoreError> {
            self.appends.fetch_add(1, Ordering::SeqCst);
            self.inner.append(tenant, channel, message).await
        }
        async fn heads(&self, tenant: &TenantId, keys: &[ChannelKey]) -> Result<Vec<Option<Seq>>, StoreError> {
            *self.looks.lock().unwrap().entry(tenant.clone()).or_default() += 1;
            self.inner.heads(tenant, keys).await
        }
        async fn first_after(&self, tenant: &TenantId, channel: &ChannelKey, after: Seq, now: crate::domain::Timestamp, since: Option<crate::domain::Timestamp>) -> Result<Option<StoredMessage>, StoreError> {
            self.inner.first_after(tenant, channel, after, now, since).await
        }
        async fn bind_client(&self, tenant: &TenantId, client: &str, user: &UserId, now: crate::domain::Timestamp, until: crate::domain::Timestamp) -> Result<ClientBinding, StoreError> {
            self.inner.bind_client(tenant, client, user, now, until).await
        }
    }

    /// A client id is read by one user: the first that polls it, or the
    /// one a publisher names; another user's poll of it is dropped, and a
    /// publisher naming another user is refused. A message for the client
    /// id alone reaches whoever holds it.
    #[tokio::test]
    async fn a_client_id_is_read_by_the_user_it_is_bound_to_alone() {
        let settings = BusSettings { wait: Duration::from_millis(50), ..BusSettings::default() };
        let bus = Bus::new(Arc::new(CountingStore::default()), Arc::new(SystemClock), settings);
        let tenant = TenantId::parse("demo").unwrap();
        let (ann, bob) = (UserId::parse("5").unwrap(), UserId::parse("6").unwrap());
        let poll = |channels: &[&str]| PollRequest { last_message: None, channels: channels.iter().map(|c| c.to_string()).collect() };
        let notify = |client: &str, user: Option<&str>| NotifyRequest {
            title: format!("to {client}"),
            body: None,
            priority: None,
            user: user.map(|u| serde_json::json!(u)),
            client: Some(client.into()),
        };
        let grants = ChannelGrants::default();
        // Ann polls first: the id is hers. A message for the id alone reaches her.
        assert_eq!(bus.listen(&tenant, &ann, &grants, &poll(&["client:a1"])).await.unwrap(), None);
        bus.notify(&tenant, &bob, &notify("a1", None)).await.unwrap();
        let got = bus.listen(&tenant, &ann, &grants, &poll(&["client:a1"])).await.unwrap().expect("delivered");
        assert_eq!((got.channel.as_str(), got.message["title"].as_str()), ("client:a1", Some("to a1")));
        // Bob asks for it: dropped (he hears his own channel only).
        assert_eq!(bus.listen(&tenant, &bob, &grants, &poll(&["client:a1"])).await.unwrap(), None);
        // A publisher naming Bob for Ann's client is refused; naming Ann is fine.
        assert!(matches!(bus.notify(&tenant, &bob, &notify("a1", Some("6"))).await, Err(BusError::Conflict(_))));
        bus.notify(&tenant, &bob, &notify("a1", Some("5"))).await.unwrap();
        // A publisher naming a user binds a new id to that user before anyone polls.
        bus.notify(&tenant, &ann, &notify("b1", Some("6"))).await.unwrap();
        assert_eq!(bus.listen(&tenant, &ann, &grants, &poll(&["client:b1"])).await.unwrap(), None, "Bob's, though Ann polled first");
        let got = bus.listen(&tenant, &bob, &grants, &poll(&["client:b1"])).await.unwrap().expect("delivered");
        assert_eq!(got.message["title"], "to b1");
        // Each tenant's ids are its own.
        let other = TenantId::parse("other").unwrap();
        bus.notify(&other, &bob, &notify("a1", Some("6"))).await.unwrap();
    }

    /// Finding 12 of issue 11: every publish woke every waiting poll of
    /// every tenant (one `Notify` for the whole bus).
    #[tokio::test]
    async fn a_publish_wakes_only_the_polls_of_its_channel() {
        let store = Arc::new(CountingStore::default());
        // No periodic look during the test: only a wake-up makes a poll look again.
        let settings = BusSettings { wait: Duration::from_secs(5), poll_interval: Duration::from_secs(60), ..BusSettings::default() };
        let bus = Arc::new(Bus::new(store.clone(), Arc::new(SystemClock), settings));
        let (quiet, busy) = (TenantId::parse("quiet").unwrap(), TenantId::parse("busy").unwrap());
        let user = UserId::parse("1").unwrap();
        let key = ChannelKey::user(&user);
        let subscriptions = vec![Subscription { name: "user:1".into(), key: key.clone() }];
        let mut polls = Vec::new();
        for _ in 0..20 {
            let (bus, tenant, subscriptions) = (bus.clone(), quiet.clone(), subscriptions.clone());
            polls.push(tokio::spawn(async move { bus.poll(&tenant, &subscriptions, None).await }));
        }
        while store.looks.lock().unwrap().get(&quiet).copied().unwrap_or(0) < 20 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // Let every poll reach its wait.
        tokio::time::sleep(Duration::from_millis(50)).await;
        for n in 0..50 {
            bus.publish(&busy, &key, &serde_json::json!({"n": n}).as_object().cloned().unwrap_or_default()).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(store.looks.lock().unwrap()[&quiet], 20, "another tenant's publishes woke no poll");
        assert_eq!(bus.watcher_stats().channels, 1, "one channel watched");

        // A publish on the channel itself answers every poll at once.
        bus.publish(&quiet, &key, &serde_json::json!({"hello": true}).as_object().cloned().unwrap_or_default()).await.unwrap();
        for poll in polls {
            let delivery = tokio::time::timeout(Duration::from_secs(2), poll).await.expect("woken").expect("joined").expect("poll");
            assert_eq!(delivery.map(|d| d.message["hello"].clone()), Some(serde_json::json!(true)));
        }
        assert_eq!(bus.watcher_stats().channels, 0, "nothing watched once the polls answered");
        assert_eq!(store.appends.load(Ordering::SeqCst), 51);
    }
}
