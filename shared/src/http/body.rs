//! Reading request bodies: bounded in size, JSON objects only, with errors
//! that name the problem.
use axum::body::Body;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::ApiError;

/// Largest request body accepted by any route.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub async fn json_object(body: Body) -> Result<Map<String, Value>, ApiError> {
    optional_json_object(body).await?.ok_or_else(|| ApiError::bad_request("the body must be a JSON object"))
}

/// A JSON object, or `None` for an empty (or blank) body.
pub async fn optional_json_object(body: Body) -> Result<Option<Map<String, Value>>, ApiError> {
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::BadRequest(format!("the body exceeds {MAX_BODY_BYTES} bytes")))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| ApiError::bad_request(format_args!("the body is not valid JSON: {e}")))?;
    match value {
        Value::Object(map) => Ok(Some(map)),
        _ => Err(ApiError::bad_request("the body must be a JSON object")),
    }
}

/// A typed request out of a JSON object; serde's message names the field.
pub fn parse<T: DeserializeOwned>(object: Map<String, Value>) -> Result<T, ApiError> {
    serde_json::from_value(Value::Object(object)).map_err(|e| ApiError::bad_request(format_args!("invalid request: {e}")))
}
