//! The one dialect of the tables' items: attribute values, a JSON `doc`
//! with a `version` for conditional writes and a `ttl`, the `due` index
//! keys, and the errors of SDK calls.
use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::describe;
use crate::domain::{StoreError, TenantId, Timestamp, WriteError};

pub(crate) type Item = HashMap<String, AttributeValue>;

/// The sort key of an item that is the whole of its partition's document
/// (a user, a record, a subscription, a notification).
pub(crate) const DOC_SK: &str = "#";

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A number attribute of `item`.
pub(crate) fn number<T: std::str::FromStr>(item: &Item, name: &str) -> Result<T, StoreError> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| StoreError::Corrupt(format!("attribute {name} missing or not a number")))
}

/// A failed SDK call: the store is unavailable (the message never carries
/// a secret).
pub(crate) fn unavailable<E: std::error::Error>(e: E) -> StoreError {
    StoreError::Unavailable(describe(&e))
}

/// A request builder that refused what it was given.
pub(crate) fn built<T, E: std::fmt::Display>(r: Result<T, E>) -> Result<T, StoreError> {
    r.map_err(|e| StoreError::Unavailable(e.to_string()))
}

/// A value as JSON text, for a `doc` or a message body.
pub(crate) fn json_text<T: Serialize + ?Sized>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// An item with its key, `doc`, `version` and, if it expires, `ttl`.
pub(crate) fn document<T: Serialize>(pk: String, sk: String, value: &T, version: u64, expires: Option<Timestamp>) -> Result<Item, StoreError> {
    let mut item = Item::from([("pk".into(), s(pk)), ("sk".into(), s(sk)), ("doc".into(), s(json_text(value)?)), ("version".into(), n(version))]);
    if let Some(at) = expires {
        item.insert(super::tables::TTL_ATTRIBUTE.into(), n(at.as_secs()));
    }
    Ok(item)
}

/// The `doc` of an item, verbatim.
pub(crate) fn doc_text(item: &Item) -> Result<&str, StoreError> {
    item.get("doc").and_then(|v| v.as_s().ok()).map(String::as_str).ok_or_else(|| StoreError::Corrupt("item without doc".into()))
}

pub(crate) fn parse_doc<T: DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    serde_json::from_str(doc_text(item)?).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A conditional `PutItem`'s error: a failed condition is a conflict.
pub(crate) fn put_error(e: SdkError<PutItemError, aws_sdk_dynamodb::config::http::HttpResponse>) -> WriteError {
    if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) {
        WriteError::Conflict
    } else {
        WriteError::Store(unavailable(e))
    }
}

/// How many partitions each kind of due item (`due`, `subscriptions`, `inbox`) is
/// spread over, so that no single key carries every tenant's schedule; a
/// check reads each (one `Query` apiece).
pub(crate) const DUE_SHARDS: u64 = 8;

/// A due time as the index's sort key: milliseconds padded to 15 digits,
/// enough for every time Herald accepts (up to 9999-12-31), so that text
/// order is time order.
pub(crate) fn due_millis(at: Timestamp) -> String {
    format!("{:015}", at.as_millis().clamp(0, Timestamp::MAX_MILLIS))
}

/// The `due` index partition of `kind` for the shard `n`.
pub(crate) fn due_partition(kind: &str, n: u64) -> String {
    format!("{kind}#{n}")
}

/// The `due` index attributes of an item of `kind` due at `at`, in the
/// shard its tenant and id hash to.
pub(crate) fn due_keys(item: &mut Item, kind: &str, at: Timestamp, tenant: &TenantId, id: &str) {
    let shard = {
        use std::hash::Hasher;
        let mut hasher = fnv::FnvHasher::default();
        hasher.write(tenant.as_str().as_bytes());
        hasher.write(b"#");
        hasher.write(id.as_bytes());
        hasher.finish() % DUE_SHARDS
    };
    item.insert("due_pk".into(), s(due_partition(kind, shard)));
    item.insert("due_sk".into(), s(format!("{}#{tenant}#{id}", due_millis(at))));
}
