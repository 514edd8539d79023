//! Shared pieces of the data table's items: a JSON `doc`, a `version` for
//! conditional writes, a `ttl`.
use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::describe;
use crate::domain::Timestamp;
use crate::domain::{StoreError, WriteError};

pub(crate) type Item = HashMap<String, AttributeValue>;

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// An item with its key, `doc`, `version` and, if it expires, `ttl`.
pub(crate) fn document<T: Serialize>(pk: String, sk: String, value: &T, version: u64, expires: Option<Timestamp>) -> Result<Item, StoreError> {
    let doc = serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let mut item = Item::from([("pk".into(), s(pk)), ("sk".into(), s(sk)), ("doc".into(), s(doc)), ("version".into(), n(version))]);
    if let Some(at) = expires {
        item.insert(super::tables::TTL_ATTRIBUTE.into(), n(at.as_secs()));
    }
    Ok(item)
}

pub(crate) fn parse_doc<T: DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    let doc = item.get("doc").and_then(|v| v.as_s().ok()).ok_or_else(|| StoreError::Corrupt("item without doc".into()))?;
    serde_json::from_str(doc).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// One item by its key, strongly consistent; counted in `requests`.
pub(crate) async fn get_item(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    pk: String,
    sk: &str,
    requests: &super::RequestCount,
) -> Result<Option<Item>, StoreError> {
    requests.add(1);
    let out = client
        .get_item()
        .table_name(table)
        .key("pk", s(pk))
        .key("sk", s(sk))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| StoreError::Unavailable(describe(&e)))?;
    Ok(out.item)
}

/// A conditional `PutItem`'s error: a failed condition is a conflict.
pub(crate) fn put_error(e: SdkError<PutItemError, aws_sdk_dynamodb::config::http::HttpResponse>) -> WriteError {
    if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) {
        WriteError::Conflict
    } else {
        WriteError::Store(StoreError::Unavailable(describe(&e)))
    }
}

/// The `due` index attributes of an item due at `at` in `partition`.
pub(crate) fn due_keys(item: &mut Item, partition: &str, at: Timestamp, tenant: &crate::domain::TenantId, id: &str) {
    item.insert("due_pk".into(), s(partition));
    item.insert("due_sk".into(), s(format!("{:013}#{tenant}#{id}", at.as_millis().max(0))));
}

/// Items of `partition` in the sparse `due` index due at or before `now`,
/// oldest first: (tenant, id).
pub(crate) async fn query_due(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    partition: &str,
    now: Timestamp,
    limit: usize,
    requests: &super::RequestCount,
) -> Result<Vec<(crate::domain::TenantId, String)>, StoreError> {
    requests.add(1);
    let out = client
        .query()
        .table_name(table)
        .index_name(super::DUE_INDEX)
        .key_condition_expression("due_pk = :p AND due_sk < :upper")
        .expression_attribute_values(":p", s(partition))
        .expression_attribute_values(":upper", s(format!("{:013}", now.as_millis().saturating_add(1).max(0))))
        .limit(i32::try_from(limit).unwrap_or(100))
        .send()
        .await
        .map_err(|e| StoreError::Unavailable(describe(&e)))?;
    let mut due = Vec::new();
    for item in out.items.unwrap_or_default() {
        let key = item.get("due_sk").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
        let mut parts = key.splitn(3, '#');
        match (parts.next(), parts.next().and_then(|t| crate::domain::TenantId::parse(t).ok()), parts.next()) {
            (Some(_), Some(tenant), Some(id)) => due.push((tenant, id.to_owned())),
            _ => return Err(StoreError::Corrupt(format!("bad due index key {key}"))),
        }
    }
    Ok(due)
}
