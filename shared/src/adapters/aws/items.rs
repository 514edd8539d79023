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
use crate::ports::{StoreError, WriteError};

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
