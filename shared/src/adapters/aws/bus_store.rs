//! The bus on DynamoDB. One partition per channel (`pk` = tenant and channel):
//! the head item (`sk` = 0, attribute `seq`) and the messages (`sk` = their
//! sequence number). An append is one transaction: head `n` → `n + 1` on the
//! condition it is still `n`, and put message `n + 1`; so messages become
//! visible exactly in sequence order, with no gap. A message with a
//! publisher's id also puts, in the same transaction, the item that says the
//! channel took that id. Reads are strongly consistent. See
//! `docs/data-model.md`.
use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, Put, TransactWriteItem, Update};
use rand::Rng;
use serde_json::{Map, Value};

use super::items::{built, json_text, n, number, s, unavailable, Item};
use super::table::{Expect, Table};
use super::tables::TTL_ATTRIBUTE;
use crate::bus::store::NewMessage;
use crate::bus::{BusStore, ChannelKey, ClientBinding, Moved, Seq, StoredMessage};
use crate::domain::{StoreError, TenantId, Timestamp, UserId, WriteError};

const HEAD_SK: &str = "0";
/// Appends retried on conflict before giving up (with jittered backoff).
const MAX_APPEND_ATTEMPTS: u32 = 64;
const QUERY_PAGE: i32 = 16;

#[derive(Clone)]
pub struct DynamoBusStore {
    table: Table,
}

fn partition(tenant: &TenantId, channel: &ChannelKey) -> AttributeValue {
    s(partition_key(tenant, channel))
}

/// The item that says a channel took a publisher's id (`sk` 0, attribute
/// `seq`: the message it published). Ids hold no `#` (the service checks).
fn publication(tenant: &TenantId, channel: &ChannelKey, id: &str) -> AttributeValue {
    s(format!("{tenant}#published#{}#{id}", channel.as_str()))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Consistency {
    Strong,
    Eventual,
}

fn partition_key(tenant: &TenantId, channel: &ChannelKey) -> String {
    format!("{tenant}#{}", channel.as_str())
}

/// Keys one `BatchGetItem` takes at most.
const BATCH_GET_KEYS: usize = 100;
/// `BatchGetItem` requests of one read of heads in flight at once.
const CONCURRENT_BATCH_GETS: usize = 8;

/// Partitions of the feed of moved channels. Each append writes one entry
/// into the partition of its channel (a stable hash), so the feed takes
/// eight partitions' worth of writes (about 4,000 appends a second), and a
/// watcher reads only the partitions its channels fall in: one for one
/// channel, eight at most.
const FEED_PARTITIONS: u64 = 8;
/// How long a feed entry is kept: far longer than a watcher reads back.
const FEED_LIFETIME: Duration = Duration::from_secs(600);
/// Pages of one feed partition a watcher's read takes; past them it reads
/// the heads instead.
const FEED_PAGES: usize = 4;

/// FNV-1a: stable across processes and builds, unlike std's hasher.
fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

fn feed_partition(channel_partition: &str) -> AttributeValue {
    s(format!("feed#{}", stable_hash(channel_partition) % FEED_PARTITIONS))
}

/// A feed entry's sort key: the publication's millisecond, then six digits
/// that tell appends of one millisecond apart.
fn feed_sort_key(published: Timestamp, channel_partition: &str, seq: Seq) -> u64 {
    let millis = u64::try_from(published.as_millis()).unwrap_or(0);
    millis.saturating_mul(1_000_000) + stable_hash(&format!("{channel_partition}#{seq}")) % 1_000_000
}

impl DynamoBusStore {
    pub fn new(table: Table) -> Self {
        Self { table }
    }

    /// The heads of the channels at these partitions, by partition (a
    /// channel without a head is absent): one `BatchGetItem` per 100
    /// distinct partitions, a few at once, plus a retry of what DynamoDB
    /// left unprocessed.
    async fn read_heads(&self, partitions: &[String], consistency: Consistency) -> Result<HashMap<String, Seq>, StoreError> {
        // A request naming a key twice is refused.
        let mut distinct: Vec<&String> = partitions.iter().collect();
        distinct.sort_unstable();
        distinct.dedup();
        let chunks: Vec<Vec<String>> = distinct.chunks(BATCH_GET_KEYS).map(|chunk| chunk.iter().map(|pk| (*pk).clone()).collect()).collect();
        let chunks = futures::stream::iter(chunks).map(|chunk| self.read_head_chunk(chunk, consistency));
        let mut found: HashMap<String, Seq> = HashMap::with_capacity(distinct.len());
        let mut read = chunks.buffer_unordered(CONCURRENT_BATCH_GETS);
        while let Some(heads) = read.next().await {
            found.extend(heads?);
        }
        Ok(found)
    }

    async fn read_head_chunk(&self, chunk: Vec<String>, consistency: Consistency) -> Result<Vec<(String, Seq)>, StoreError> {
        let size = chunk.len();
        let keys: Vec<Item> = chunk.into_iter().map(|pk| Item::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), n(HEAD_SK))])).collect();
        let mut pending = Some(built(
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(consistency == Consistency::Strong)
                .projection_expression("pk, #seq")
                .expression_attribute_names("#seq", "seq")
                .build(),
        )?);
        let mut found = Vec::with_capacity(size);
        let mut rounds = 0u32;
        while let Some(request) = pending.take() {
            self.table.requests.add(1);
            let out = self.table.client.batch_get_item().request_items(&self.table.name, request).send().await.map_err(unavailable)?;
            for item in out.responses.and_then(|mut r| r.remove(&self.table.name)).unwrap_or_default() {
                let pk = item.get("pk").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                found.push((pk, number(&item, "seq")?));
            }
            pending = out.unprocessed_keys.and_then(|mut u| u.remove(&self.table.name)).filter(|k| !k.keys.is_empty());
            rounds += 1;
            if pending.is_some() {
                if rounds > 10 {
                    return Err(StoreError::Unavailable("unprocessed keys after 10 rounds".into()));
                }
                tokio::time::sleep(Duration::from_millis(10 << rounds.min(5))).await;
            }
        }
        Ok(found)
    }

    /// The item at `sk` 0 of a partition (a channel's head, a client's
    /// binding), read consistently.
    async fn read_first(&self, pk: &AttributeValue) -> Result<Option<Item>, StoreError> {
        self.table.requests.add(1);
        let out = self
            .table
            .client
            .get_item()
            .table_name(&self.table.name)
            .key("pk", pk.clone())
            .key("sk", n(HEAD_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.item)
    }

    async fn read_head(&self, pk: &AttributeValue) -> Result<Option<Seq>, StoreError> {
        self.read_first(pk).await?.map(|item| number(&item, "seq")).transpose()
    }

    /// A client id's binding, if live at `now`.
    async fn read_binding(&self, pk: &AttributeValue, now: Timestamp) -> Result<Option<ClientBinding>, StoreError> {
        let Some(item) = self.read_first(pk).await? else { return Ok(None) };
        let expires_at = Timestamp::from_millis(number(&item, "expires_ms")?);
        if expires_at <= now {
            // TTL deletes late.
            return Ok(None);
        }
        let user = item.get("user").and_then(|v| v.as_s().ok()).ok_or_else(|| StoreError::Corrupt("client binding without user".into()))?;
        Ok(Some(ClientBinding { user: UserId::parse(user.as_str()).map_err(|e| StoreError::Corrupt(e.to_string()))?, expires_at }))
    }

    fn message_from_item(item: &Item) -> Result<StoredMessage, StoreError> {
        let body = item
            .get("body")
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| StoreError::Corrupt("message without body".into()))?;
        let body: Map<String, Value> =
            serde_json::from_str(body).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(StoredMessage {
            seq: number(item, "sk")?,
            published_at: Timestamp::from_millis(number(item, "published_ms")?),
            expires_at: Timestamp::from_millis(number(item, "expires_ms")?),
            body,
        })
    }
}

#[async_trait]
impl BusStore for DynamoBusStore {
    /// A binding is an item of its own partition (`{tenant}#client#{id}`,
    /// `sk` 0): read first (bound already, mostly), then put on the
    /// condition that none is there or it expired.
    async fn bind_client(&self, tenant: &TenantId, client: &str, user: &UserId, now: Timestamp, expires_at: Timestamp) -> Result<ClientBinding, StoreError> {
        let pk = s(format!("{tenant}#client#{client}"));
        for _ in 0..4 {
            if let Some(bound) = self.read_binding(&pk, now).await? {
                return Ok(bound);
            }
            let item = Item::from([
                ("pk".into(), pk.clone()),
                ("sk".into(), n(HEAD_SK)),
                ("user".into(), s(user.as_str())),
                ("expires_ms".into(), n(expires_at.as_millis())),
                (TTL_ATTRIBUTE.into(), n(expires_at.as_secs())),
            ]);
            match self.table.put(item, Expect::AbsentOrExpired(now)).await {
                Ok(()) => return Ok(ClientBinding { user: user.clone(), expires_at }),
                // Another bound it first: read theirs.
                Err(WriteError::Conflict) => continue,
                Err(WriteError::Store(e)) => return Err(e),
            }
        }
        Err(StoreError::Contention)
    }

    async fn append(&self, tenant: &TenantId, channel: &ChannelKey, message: NewMessage<'_>) -> Result<Seq, StoreError> {
        let channel_key = partition_key(tenant, channel);
        let pk = s(channel_key.clone());
        let body = json_text(message.body)?;
        let message_ttl = message.expires_at.as_secs();
        let head_ttl = message.expires_at.plus(crate::bus::store::HEAD_GRACE).as_secs();
        let taken = message.publication_id.map(|id| publication(tenant, channel, id));
        for attempt in 0..MAX_APPEND_ATTEMPTS {
            let head = self.read_head(&pk).await?;
            let next = head.map_or(message.first_seq, |h| h + 1);

            let mut update = Update::builder()
                .table_name(&self.table.name)
                .key("pk", pk.clone())
                .key("sk", n(HEAD_SK))
                .update_expression("SET #seq = :next, #ttl = :ttl")
                .expression_attribute_names("#seq", "seq")
                .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
                .expression_attribute_values(":next", n(next))
                .expression_attribute_values(":ttl", n(head_ttl));
            update = match head {
                Some(h) => update
                    .condition_expression("#seq = :head")
                    .expression_attribute_values(":head", n(h)),
                None => update.condition_expression("attribute_not_exists(pk)"),
            };
            let put = built(
                Put::builder()
                    .table_name(&self.table.name)
                    .item("pk", pk.clone())
                    .item("sk", n(next))
                    .item("body", AttributeValue::S(body.clone()))
                    .item("published_ms", n(message.published_at.as_millis()))
                    .item("expires_ms", n(message.expires_at.as_millis()))
                    .item(TTL_ATTRIBUTE, n(message_ttl))
                    .condition_expression("attribute_not_exists(pk)")
                    .build(),
            )?;

            // The feed entry that tells other processes' watchers this
            // channel moved (unconditional: the head's condition decides).
            let moved = built(
                Put::builder()
                    .table_name(&self.table.name)
                    .item("pk", feed_partition(&channel_key))
                    .item("sk", n(feed_sort_key(message.published_at, &channel_key, next)))
                    .item("tenant", s(tenant.as_str()))
                    .item("channel", s(channel.as_str()))
                    .item("seq", n(next))
                    .item(TTL_ATTRIBUTE, n(message.published_at.plus(FEED_LIFETIME).as_secs()))
                    .build(),
            )?;
            let mut transaction = self
                .table
                .client
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().update(built(update.build())?).build())
                .transact_items(TransactWriteItem::builder().put(put).build())
                .transact_items(TransactWriteItem::builder().put(moved).build());
            if let Some(taken) = &taken {
                let mark = built(
                    Put::builder()
                        .table_name(&self.table.name)
                        .item("pk", taken.clone())
                        .item("sk", n(HEAD_SK))
                        .item("seq", n(next))
                        .item(TTL_ATTRIBUTE, n(message_ttl))
                        .condition_expression("attribute_not_exists(pk)")
                        .build(),
                )?;
                transaction = transaction.transact_items(TransactWriteItem::builder().put(mark).build());
            }
            self.table.requests.add(1);
            let result = transaction.send().await;
            match result {
                Ok(_) => return Ok(next),
                Err(e) => {
                    // Cancelled because the id was taken (by an earlier
                    // send of the same message): answer that message.
                    if let Some(taken) = &taken {
                        if let Some(seq) = self.read_first(taken).await?.map(|item| number(&item, "seq")).transpose()? {
                            return Ok(seq);
                        }
                    }
                    let retry = e.as_service_error().is_some_and(|s| {
                        s.is_transaction_canceled_exception()
                            || s.is_transaction_in_progress_exception()
                            || s.is_provisioned_throughput_exceeded_exception()
                            || s.is_request_limit_exceeded()
                    });
                    if !retry {
                        return Err(unavailable(e));
                    }
                }
            }
            // Another publisher moved the head first: back off a little, retry.
            let ceiling = 1u64 << attempt.min(6);
            let pause = rand::rng().random_range(0..=ceiling);
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
        Err(StoreError::Contention)
    }

    async fn heads(&self, tenant: &TenantId, channels: &[ChannelKey]) -> Result<Vec<Option<Seq>>, StoreError> {
        let partitions: Vec<String> = channels.iter().map(|c| partition_key(tenant, c)).collect();
        let found = self.read_heads(&partitions, Consistency::Strong).await?;
        Ok(partitions.iter().map(|pk| found.get(pk).copied()).collect())
    }

    /// Eventually consistent (half the read units): the watcher only learns
    /// which channels moved, and a woken poll reads consistently.
    async fn watched_heads(&self, channels: &[(TenantId, ChannelKey)]) -> Result<Vec<Option<Seq>>, StoreError> {
        let partitions: Vec<String> = channels.iter().map(|(tenant, c)| partition_key(tenant, c)).collect();
        let found = self.read_heads(&partitions, Consistency::Eventual).await?;
        Ok(partitions.iter().map(|pk| found.get(pk).copied()).collect())
    }

    /// A `Query` of each feed partition the channels fall in (eventually
    /// consistent: the watcher reads a few seconds back each time), up to
    /// [`FEED_PAGES`] pages each; past them the answer is incomplete and
    /// the rest is not read.
    async fn moved_since(&self, channels: &[(TenantId, ChannelKey)], since: Timestamp) -> Result<Option<Moved>, StoreError> {
        let partitions: std::collections::BTreeSet<String> =
            channels.iter().filter_map(|(tenant, channel)| feed_partition(&partition_key(tenant, channel)).as_s().ok().cloned()).collect();
        let from = u64::try_from(since.as_millis()).unwrap_or(0).saturating_mul(1_000_000);
        let mut moved = Moved { channels: Vec::new(), complete: true };
        for partition in partitions {
            let mut start: Option<Item> = None;
            for page in 1..=FEED_PAGES {
                self.table.requests.add(1);
                let out = self
                    .table
                    .client
                    .query()
                    .table_name(&self.table.name)
                    .key_condition_expression("pk = :pk AND sk >= :from")
                    .expression_attribute_values(":pk", s(partition.clone()))
                    .expression_attribute_values(":from", n(from))
                    .projection_expression("tenant, channel, #seq")
                    .expression_attribute_names("#seq", "seq")
                    .set_exclusive_start_key(start.take())
                    .send()
                    .await
                    .map_err(unavailable)?;
                for item in out.items.unwrap_or_default() {
                    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned().ok_or_else(|| StoreError::Corrupt(format!("feed entry without {name}")));
                    let tenant = TenantId::parse(text("tenant")?).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    moved.channels.push((tenant, ChannelKey::stored(text("channel")?), number(&item, "seq")?));
                }
                match out.last_evaluated_key {
                    Some(key) if page < FEED_PAGES => start = Some(key),
                    Some(_) => {
                        moved.complete = false;
                        return Ok(Some(moved));
                    }
                    None => break,
                }
            }
        }
        Ok(Some(moved))
    }

    async fn first_after(&self, tenant: &TenantId, channel: &ChannelKey, after: Seq, now: Timestamp, published_after: Option<Timestamp>) -> Result<Option<StoredMessage>, StoreError> {
        // TTL deletes late: expired messages are filtered here.
        let mut filter = "expires_ms > :now".to_owned();
        if published_after.is_some() {
            filter.push_str(" AND published_ms >= :since");
        }
        let mut start: Option<Item> = None;
        loop {
            let mut query = self
                .table
                .client
                .query()
                .table_name(&self.table.name)
                .key_condition_expression("pk = :pk AND sk > :after")
                .filter_expression(&filter)
                .expression_attribute_values(":pk", partition(tenant, channel))
                .expression_attribute_values(":after", n(after))
                .expression_attribute_values(":now", n(now.as_millis()))
                .consistent_read(true)
                .limit(QUERY_PAGE)
                .set_exclusive_start_key(start.take());
            if let Some(since) = published_after {
                query = query.expression_attribute_values(":since", n(since.as_millis()));
            }
            self.table.requests.add(1);
            let out = query.send().await.map_err(unavailable)?;
            if let Some(item) = out.items.as_deref().and_then(<[_]>::first) {
                return Ok(Some(Self::message_from_item(item)?));
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(None),
            }
        }
    }
}
