//! One DynamoDB table as the stores use it: the client they share, the
//! table's name, and the requests sent (benchmarks count an operation's cost
//! with it). Every read a store makes goes through here or through a
//! conditional write of its own: `GetItem` and `Query` on designed keys,
//! never a scan (docs/data-model.md).
use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;

use super::items::{due_partition, n, put_error, s, unavailable, Item, DUE_SHARDS};
use super::sdk_client::SdkClient;
use super::RequestCount;
use crate::domain::{StoreError, TenantId, Timestamp, WriteError};

/// The sparse index of what is due: notifications awaiting publication,
/// scheduled subscriptions and postponed inbox items still to be pushed
/// (`due_pk` = which, `due_sk` = when).
pub const DUE_INDEX: &str = "due";

/// When a put applies.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Expect {
    /// Only if no item has its key: creates once.
    Absent,
    /// Only over the item stored at this `version`.
    Version(u64),
    /// Only if no item has its key or the stored one's `expires_ms` is at
    /// or before this time (TTL deletes late): takes an expired claim over.
    AbsentOrExpired(Timestamp),
}

impl Expect {
    pub(crate) fn absent_or(version: Option<u64>) -> Self {
        version.map_or(Self::Absent, Self::Version)
    }

    /// The condition expression, for a put or a transaction's write.
    pub(crate) fn condition(self) -> &'static str {
        match self {
            Self::Absent => "attribute_not_exists(pk)",
            Self::Version(_) => "version = :v",
            Self::AbsentOrExpired(_) => "attribute_not_exists(pk) OR expires_ms <= :now",
        }
    }

    /// The condition's values.
    pub(crate) fn values(self) -> Option<HashMap<String, AttributeValue>> {
        match self {
            Self::Absent => None,
            Self::Version(v) => Some(HashMap::from([(":v".to_owned(), n(v))])),
            Self::AbsentOrExpired(now) => Some(HashMap::from([(":now".to_owned(), n(now.as_millis()))])),
        }
    }
}

#[derive(Clone)]
pub struct Table {
    pub(crate) client: SdkClient<Client>,
    pub(crate) name: String,
    pub(crate) requests: RequestCount,
}

impl Table {
    pub fn new(client: impl Into<SdkClient<Client>>, name: impl Into<String>) -> Self {
        Self { client: client.into(), name: name.into(), requests: RequestCount::default() }
    }

    /// Counts its requests in `requests` (shared by the stores of one wiring).
    pub fn counting(self, requests: &RequestCount) -> Self {
        Self { requests: requests.clone(), ..self }
    }

    /// Writes `item` if `expect` holds; a conflict if not.
    pub(crate) async fn put(&self, item: Item, expect: Expect) -> Result<(), WriteError> {
        self.requests.add(1);
        let request = self.client.put_item().table_name(&self.name).set_item(Some(item));
        request.condition_expression(expect.condition()).set_expression_attribute_values(expect.values()).send().await.map_err(put_error)?;
        Ok(())
    }

    /// Writes `item` whatever is stored (a replace, last writer wins).
    pub(crate) async fn put_any(&self, item: Item) -> Result<(), StoreError> {
        self.requests.add(1);
        self.client.put_item().table_name(&self.name).set_item(Some(item)).send().await.map_err(unavailable)?;
        Ok(())
    }

    /// One item by its key, strongly consistent.
    pub(crate) async fn get_item(&self, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
        self.requests.add(1);
        let out = self.client.get_item().table_name(&self.name).key("pk", s(pk)).key("sk", s(sk)).consistent_read(true).send().await.map_err(unavailable)?;
        Ok(out.item)
    }

    /// Deletes one item by its key; false if there was none.
    pub(crate) async fn delete_item(&self, pk: String, sk: String) -> Result<bool, StoreError> {
        self.requests.add(1);
        let out = self
            .client
            .delete_item()
            .table_name(&self.name)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.attributes.is_some_and(|a| !a.is_empty()))
    }

    /// The table answers a strongly consistent read (of an item no one
    /// writes): what `GET /health` asks on AWS.
    pub(crate) async fn check(&self) -> Result<(), StoreError> {
        self.get_item("health#".into(), "#").await.map(|_| ())
    }

    /// At most `limit` items of one partition whose sort key is after
    /// `after`, in sort key order (one `Query`, or a few when DynamoDB's own
    /// pages are smaller).
    pub(crate) async fn query_page(&self, pk: AttributeValue, after: Option<String>, limit: usize) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            self.requests.add(1);
            let mut query = self
                .client
                .query()
                .table_name(&self.name)
                .expression_attribute_values(":pk", pk.clone())
                .limit(i32::try_from(limit - items.len()).unwrap_or(100))
                .set_exclusive_start_key(start.take());
            query = match &after {
                Some(after) => query.key_condition_expression("pk = :pk AND sk > :after").expression_attribute_values(":after", s(after.clone())),
                None => query.key_condition_expression("pk = :pk"),
            };
            let out = query.send().await.map_err(unavailable)?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() && items.len() < limit => start = Some(key),
                _ => return Ok(items),
            }
        }
    }

    /// A `Query` of the partition `pk`, all of it.
    fn partition_query(&self, pk: &AttributeValue) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        self.client.query().table_name(&self.name).key_condition_expression("pk = :pk").expression_attribute_values(":pk", pk.clone())
    }

    /// How many items one partition holds, counted up to `at_most`.
    pub(crate) async fn count_partition(&self, pk: AttributeValue, at_most: usize) -> Result<usize, StoreError> {
        let mut count = 0;
        let mut start = None;
        loop {
            self.requests.add(1);
            let out = self
                .partition_query(&pk)
                .select(aws_sdk_dynamodb::types::Select::Count)
                // A quota counts what a delete just freed.
                .consistent_read(true)
                .limit(i32::try_from(at_most - count).unwrap_or(100))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(unavailable)?;
            count += usize::try_from(out.count).unwrap_or(0);
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() && count < at_most => start = Some(key),
                _ => return Ok(count.min(at_most)),
            }
        }
    }

    /// Every item of one partition, following DynamoDB's pages.
    pub(crate) async fn query_partition(&self, pk: AttributeValue) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            self.requests.add(1);
            let out = self
                .partition_query(&pk)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(unavailable)?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }

    /// Items of `kind` in the `due` index due at or before `now`, oldest
    /// first, at most `limit`: (tenant, id). Each shard gives its oldest
    /// `limit`, so the oldest `limit` of all are among them.
    pub(crate) async fn query_due(&self, kind: &str, now: Timestamp, limit: usize) -> Result<Vec<(TenantId, String)>, StoreError> {
        // Not clamped: one past the latest time is still 15 digits.
        let upper = format!("{:015}", now.as_millis().clamp(0, Timestamp::MAX_MILLIS) + 1);
        let shards = (0..DUE_SHARDS).map(|n| {
            let upper = upper.clone();
            async move {
                self.requests.add(1);
                self.client
                    .query()
                    .table_name(&self.name)
                    .index_name(DUE_INDEX)
                    .key_condition_expression("due_pk = :p AND due_sk < :upper")
                    .expression_attribute_values(":p", s(due_partition(kind, n)))
                    .expression_attribute_values(":upper", s(upper))
                    .limit(i32::try_from(limit).unwrap_or(100))
                    .send()
                    .await
                    .map_err(unavailable)
            }
        });
        let mut keys = Vec::new();
        for out in futures::future::try_join_all(shards).await? {
            for item in out.items.unwrap_or_default() {
                keys.push(item.get("due_sk").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default());
            }
        }
        keys.sort();
        keys.truncate(limit);
        let mut due = Vec::with_capacity(keys.len());
        for key in keys {
            let mut parts = key.splitn(3, '#');
            match (parts.next(), parts.next().and_then(|t| TenantId::parse(t).ok()), parts.next()) {
                (Some(_), Some(tenant), Some(id)) => due.push((tenant, id.to_owned())),
                _ => return Err(StoreError::Corrupt(format!("bad due index key {key}"))),
            }
        }
        Ok(due)
    }
}

#[async_trait::async_trait]
impl crate::domain::StoreHealth for Table {
    async fn check(&self) -> Result<(), StoreError> {
        Table::check(self).await
    }
}
