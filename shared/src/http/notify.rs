//! Publishing (admin role): `POST /{db}/bus/publish` puts a raw message on a
//! channel; `POST /{db}/notify` is Tryton's `notify(title, body, priority,
//! user, client)`.
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{authorize_admin, body, ApiError};
use crate::app::Services;
use crate::auth::Principal;
use crate::bus::channel::publish_key;
use crate::domain::UserId;

pub const MAX_TITLE_BYTES: usize = 1024;
pub const MAX_CLIENT_ID_BYTES: usize = 128;

pub fn routes(services: Services) -> Router {
    Router::new()
        .route("/{db}/bus/publish", post(publish))
        .route("/{db}/notify", post(notify))
        .with_state(services)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishRequest {
    channel: String,
    message: Map<String, Value>,
    /// Owner of a `client:` channel; the caller by default.
    #[serde(default)]
    user: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotifyRequest {
    title: String,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    priority: Option<i64>,
    #[serde(default)]
    user: Option<Value>,
    #[serde(default)]
    client: Option<String>,
}

fn target_user(user: Option<Value>, principal: &Principal) -> Result<UserId, ApiError> {
    match user {
        None | Some(Value::Null) => Ok(principal.user.clone()),
        Some(v) => UserId::from_json(&v).map_err(|e| ApiError::bad_request(format_args!("user: {e}"))),
    }
}

async fn publish(
    State(services): State<Services>,
    Path(db): Path<String>,
    headers: HeaderMap,
    request: Body,
) -> Result<Json<Value>, ApiError> {
    let (principal, tenant) = authorize_admin(&services, &headers, db)?;
    let request: PublishRequest = body::parse(body::json_object(request).await?)?;
    let user = target_user(request.user, &principal)?;
    let key = publish_key(&request.channel, &user).map_err(ApiError::bad_request)?;
    let published = services.bus.publish(&tenant, &key, &request.message).await?;
    Ok(Json(json!({ "channel": request.channel, "sequence": published.seq })))
}

async fn notify(
    State(services): State<Services>,
    Path(db): Path<String>,
    headers: HeaderMap,
    request: Body,
) -> Result<Json<Value>, ApiError> {
    let (principal, tenant) = authorize_admin(&services, &headers, db)?;
    let request: NotifyRequest = body::parse(body::json_object(request).await?)?;
    if request.title.trim().is_empty() {
        return Err(ApiError::bad_request("title must not be empty"));
    }
    if request.title.len() > MAX_TITLE_BYTES {
        return Err(ApiError::BadRequest(format!("title is limited to {MAX_TITLE_BYTES} bytes")));
    }
    let priority = request.priority.unwrap_or(1);
    if !(0..=3).contains(&priority) {
        return Err(ApiError::bad_request("priority must be 0, 1, 2 or 3"));
    }
    let user = target_user(request.user, &principal)?;
    // As Tryton: a client gets the message on its own channel, else every
    // client of the user does.
    let channel = match request.client {
        Some(client) if client.is_empty() || client.len() > MAX_CLIENT_ID_BYTES => {
            return Err(ApiError::BadRequest(format!("client must be 1 to {MAX_CLIENT_ID_BYTES} bytes")));
        }
        Some(client) => format!("client:{client}"),
        None => format!("user:{user}"),
    };
    let key = publish_key(&channel, &user).map_err(ApiError::bad_request)?;
    let mut message = Map::new();
    message.insert("type".into(), json!("notification"));
    message.insert("title".into(), json!(request.title));
    message.insert("body".into(), json!(request.body));
    message.insert("priority".into(), json!(priority));
    let published = services.bus.publish(&tenant, &key, &message).await?;
    Ok(Json(json!({ "channel": channel, "sequence": published.seq })))
}
