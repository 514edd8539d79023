//! The bus on DynamoDB. One partition per channel (`pk` = tenant and channel):
//! the head item (`sk` = 0, attribute `seq`) and the messages (`sk` = their
//! sequence number). An append is one transaction: head `n` → `n + 1` on the
//! condition it is still `n`, and put message `n + 1`; so messages become
//! visible exactly in sequence order, with no gap. Reads are strongly
//! consistent. See `docs/data-model.md`.
use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, Put, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;
use rand::Rng;
use serde_json::{Map, Value};

use super::sdk_client::SdkClient;
use super::tables::TTL_ATTRIBUTE;
use super::{describe, RequestCount};
use crate::bus::store::NewMessage;
use crate::bus::{BusStore, ChannelKey, Seq, StoredMessage};
use crate::domain::{TenantId, Timestamp};
use crate::domain::StoreError;

const HEAD_SK: &str = "0";
/// Appends retried on conflict before giving up (with jittered backoff).
const MAX_APPEND_ATTEMPTS: u32 = 64;
/// Heads outlive the last message by this much, so a channel's numbering is
/// stable while any of its messages can still be read.
const HEAD_GRACE: Duration = Duration::from_secs(24 * 3600);
const QUERY_PAGE: i32 = 16;

#[derive(Clone)]
pub struct DynamoBusStore {
    client: SdkClient<Client>,
    table: String,
    requests: RequestCount,
}

fn partition(tenant: &TenantId, channel: &ChannelKey) -> AttributeValue {
    AttributeValue::S(format!("{tenant}#{}", channel.as_str()))
}

fn number(n: impl ToString) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

fn get_number<T: std::str::FromStr>(item: &HashMap<String, AttributeValue>, name: &str) -> Result<T, StoreError> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| StoreError::Corrupt(format!("attribute {name} missing or not a number")))
}

fn build_error(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

impl DynamoBusStore {
    pub fn new(client: impl Into<SdkClient<Client>>, table: impl Into<String>) -> Self {
        Self { client: client.into(), table: table.into(), requests: RequestCount::default() }
    }

    /// Counts its requests in `requests` (shared by the stores of one wiring).
    pub fn counting(self, requests: &RequestCount) -> Self {
        Self { requests: requests.clone(), ..self }
    }

    /// Requests sent to DynamoDB so far (for benchmarks).
    pub fn requests(&self) -> RequestCount {
        self.requests.clone()
    }

    async fn read_head(&self, pk: &AttributeValue) -> Result<Option<Seq>, StoreError> {
        self.requests.add(1);
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", pk.clone())
            .key("sk", number(HEAD_SK))
            .projection_expression("#seq")
            .expression_attribute_names("#seq", "seq")
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::Unavailable(describe(&e)))?;
        out.item.map(|item| get_number(&item, "seq")).transpose()
    }

    fn message_from_item(item: &HashMap<String, AttributeValue>) -> Result<StoredMessage, StoreError> {
        let body = item
            .get("body")
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| StoreError::Corrupt("message without body".into()))?;
        let body: Map<String, Value> =
            serde_json::from_str(body).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(StoredMessage {
            seq: get_number(item, "sk")?,
            published_at: Timestamp::from_millis(get_number(item, "published_ms")?),
            expires_at: Timestamp::from_millis(get_number(item, "expires_ms")?),
            body,
        })
    }
}

#[async_trait]
impl BusStore for DynamoBusStore {
    async fn append(&self, tenant: &TenantId, channel: &ChannelKey, message: NewMessage<'_>) -> Result<Seq, StoreError> {
        let pk = partition(tenant, channel);
        let body = serde_json::to_string(message.body).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let message_ttl = message.expires_at.as_secs();
        let head_ttl = message.expires_at.plus(HEAD_GRACE).as_secs();
        for attempt in 0..MAX_APPEND_ATTEMPTS {
            let head = self.read_head(&pk).await?;
            let next = head.map_or(message.first_seq, |h| h + 1);

            let mut update = Update::builder()
                .table_name(&self.table)
                .key("pk", pk.clone())
                .key("sk", number(HEAD_SK))
                .update_expression("SET #seq = :next, #ttl = :ttl")
                .expression_attribute_names("#seq", "seq")
                .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
                .expression_attribute_values(":next", number(next))
                .expression_attribute_values(":ttl", number(head_ttl));
            update = match head {
                Some(h) => update
                    .condition_expression("#seq = :head")
                    .expression_attribute_values(":head", number(h)),
                None => update.condition_expression("attribute_not_exists(pk)"),
            };
            let put = Put::builder()
                .table_name(&self.table)
                .item("pk", pk.clone())
                .item("sk", number(next))
                .item("body", AttributeValue::S(body.clone()))
                .item("published_ms", number(message.published_at.as_millis()))
                .item("expires_ms", number(message.expires_at.as_millis()))
                .item(TTL_ATTRIBUTE, number(message_ttl))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(build_error)?;

            self.requests.add(1);
            let result = self
                .client
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().update(update.build().map_err(build_error)?).build())
                .transact_items(TransactWriteItem::builder().put(put).build())
                .send()
                .await;
            match result {
                Ok(_) => return Ok(next),
                Err(e) => {
                    let retry = e.as_service_error().is_some_and(|s| {
                        s.is_transaction_canceled_exception()
                            || s.is_transaction_in_progress_exception()
                            || s.is_provisioned_throughput_exceeded_exception()
                            || s.is_request_limit_exceeded()
                    });
                    if !retry {
                        return Err(StoreError::Unavailable(describe(&e)));
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
        let mut found: HashMap<String, Seq> = HashMap::new();
        // BatchGetItem takes 100 keys at most.
        for chunk in channels.chunks(100) {
            let keys: Vec<HashMap<String, AttributeValue>> = chunk
                .iter()
                .map(|c| HashMap::from([("pk".to_owned(), partition(tenant, c)), ("sk".to_owned(), number(HEAD_SK))]))
                .collect();
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .consistent_read(true)
                    .projection_expression("pk, #seq")
                    .expression_attribute_names("#seq", "seq")
                    .build()
                    .map_err(build_error)?,
            );
            let mut rounds = 0u32;
            while let Some(request) = pending.take() {
                self.requests.add(1);
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(|e| StoreError::Unavailable(describe(&e)))?;
                for item in out.responses.and_then(|mut r| r.remove(&self.table)).unwrap_or_default() {
                    let pk = item.get("pk").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                    found.insert(pk, get_number(&item, "seq")?);
                }
                pending = out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)).filter(|k| !k.keys.is_empty());
                rounds += 1;
                if pending.is_some() {
                    if rounds > 10 {
                        return Err(StoreError::Unavailable("unprocessed keys after 10 rounds".into()));
                    }
                    tokio::time::sleep(Duration::from_millis(10 << rounds.min(5))).await;
                }
            }
        }
        Ok(channels
            .iter()
            .map(|c| match partition(tenant, c) {
                AttributeValue::S(pk) => found.get(&pk).copied(),
                _ => None,
            })
            .collect())
    }

    async fn first_after(
        &self,
        tenant: &TenantId,
        channel: &ChannelKey,
        after: Seq,
        now: Timestamp,
        published_after: Option<Timestamp>,
    ) -> Result<Option<StoredMessage>, StoreError> {
        // TTL deletes late: expired messages are filtered here.
        let mut filter = "expires_ms > :now".to_owned();
        if published_after.is_some() {
            filter.push_str(" AND published_ms >= :since");
        }
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk > :after")
                .filter_expression(&filter)
                .expression_attribute_values(":pk", partition(tenant, channel))
                .expression_attribute_values(":after", number(after))
                .expression_attribute_values(":now", number(now.as_millis()))
                .consistent_read(true)
                .limit(QUERY_PAGE)
                .set_exclusive_start_key(start.take());
            if let Some(since) = published_after {
                query = query.expression_attribute_values(":since", number(since.as_millis()));
            }
            self.requests.add(1);
            let out = query.send().await.map_err(|e| StoreError::Unavailable(describe(&e)))?;
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
