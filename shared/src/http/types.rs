//! Notification types (admin role): `PUT /{db}/types/{key}`, `GET /{db}/types`.
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{authorize_admin, body, ApiError};
use crate::app::Services;
use crate::notifications::types::{effective_types, Channel, NotificationType, StatusType, TypeKey};

const MAX_LABEL_BYTES: usize = 256;

pub fn routes(services: Services) -> Router {
    Router::new()
        .route("/{db}/types", get(list_types))
        .route("/{db}/types/{key}", put(put_type))
        .with_state(services)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutType {
    label: String,
    default_channel: Channel,
    status_type: StatusType,
}

async fn put_type(
    State(services): State<Services>,
    Path((db, key)): Path<(String, String)>,
    headers: HeaderMap,
    request: Body,
) -> Result<Json<Value>, ApiError> {
    let (_, tenant) = authorize_admin(&services, &headers, db)?;
    let key = TypeKey::parse(key).map_err(ApiError::bad_request)?;
    let request: PutType = body::parse(body::json_object(request).await?)?;
    if request.label.trim().is_empty() || request.label.len() > MAX_LABEL_BYTES {
        return Err(ApiError::BadRequest(format!("label must be 1 to {MAX_LABEL_BYTES} bytes")));
    }
    let notification_type = NotificationType {
        key,
        label: request.label,
        default_channel: request.default_channel,
        status_type: request.status_type,
    };
    services.types.put_type(&tenant, &notification_type).await?;
    Ok(Json(serde_json::to_value(&notification_type).unwrap_or(Value::Null)))
}

async fn list_types(
    State(services): State<Services>,
    Path(db): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let (_, tenant) = authorize_admin(&services, &headers, db)?;
    let types = effective_types(services.types.tenant_types(&tenant).await?);
    Ok(Json(json!({ "types": types })))
}
