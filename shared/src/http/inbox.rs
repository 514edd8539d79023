//! The signed-in user's inbox: `GET /{db}/inbox` (unread and due by
//! default; `state`, `channel`, `key`, `due_before`, `cursor`, `limit`),
//! `GET /{db}/inbox/{id}`, `POST /{db}/inbox/{id}/read`,
//! `POST /{db}/inbox/read-all`, `POST /{db}/inbox/{id}/postpone`
//! (`{"days": n}`, default 7), `DELETE /{db}/inbox/{id}`.
//! Only the caller's own items: anyone else's id is simply not found.
use axum::extract::{RawQuery, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::extract::{ActiveUser, Id, OptionalJsonBody};
use super::ApiError;
use crate::auth::Principal;
use crate::domain::Timestamp;
use crate::inbox::service::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::inbox::{inbox_json, InboxFilter, InboxId, ReadState};
use crate::notifications::{Channel, TypeKey};
use crate::services::Services;

pub fn routes(services: Services) -> Router {
    Router::new()
        .route("/{db}/inbox", get(list))
        .route("/{db}/inbox/read-all", post(read_all))
        .route("/{db}/inbox/{id}", get(show).delete(remove))
        .route("/{db}/inbox/{id}/read", post(read))
        .route("/{db}/inbox/{id}/postpone", post(postpone))
        .with_state(services)
}

/// Longest query string of `GET /{db}/inbox`.
pub const MAX_INBOX_QUERY_BYTES: usize = 2048;

async fn list(State(services): State<Services>, ActiveUser { tenant, principal: Principal { user, .. }, .. }: ActiveUser, RawQuery(query): RawQuery) -> Result<Json<Value>, ApiError> {
    let query = query.unwrap_or_default();
    if query.len() > MAX_INBOX_QUERY_BYTES {
        return Err(ApiError::BadRequest(format!("the query string exceeds {MAX_INBOX_QUERY_BYTES} bytes")));
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&query).map_err(ApiError::bad_request)?;
    let mut filter = InboxFilter::default();
    let mut cursor = None;
    let mut limit = DEFAULT_LIMIT;
    for (name, value) in pairs {
        match name.as_str() {
            "state" => {
                filter.state = match value.as_str() {
                    "unread" => ReadState::Unread,
                    "read" => ReadState::Read,
                    "all" => ReadState::All,
                    _ => return Err(ApiError::bad_request("state must be unread, read or all")),
                }
            }
            "channel" => {
                filter.channel = Some(
                    serde_json::from_value::<Channel>(Value::String(value))
                        .map_err(|_| ApiError::bad_request("channel must be email, message, header_message or alert"))?,
                )
            }
            "key" => filter.key = Some(TypeKey::parse(value).map_err(ApiError::bad_request)?),
            "due_before" => {
                filter.due_before = Some(
                    Timestamp::parse_rfc3339(&value)
                        .or_else(|| value.parse::<i64>().ok().map(Timestamp::from_millis))
                        .ok_or_else(|| ApiError::bad_request("due_before must be an RFC 3339 date-time or milliseconds"))?,
                )
            }
            "cursor" => cursor = Some(InboxId::parse(value).map_err(|_| ApiError::bad_request("cursor is not one this API gave"))?),
            "limit" => {
                limit = value
                    .parse::<usize>()
                    .ok()
                    .filter(|l| (1..=MAX_LIMIT).contains(l))
                    .ok_or_else(|| ApiError::BadRequest(format!("limit must be 1 to {MAX_LIMIT}")))?
            }
            other => return Err(ApiError::BadRequest(format!("unknown query parameter '{other}'"))),
        }
    }
    let page = services.inbox.list(&tenant, &user, &filter, cursor, limit).await?;
    Ok(Json(json!({
        "items": page.items.iter().map(inbox_json).collect::<Vec<_>>(),
        "next_cursor": page.next,
    })))
}

async fn show(State(services): State<Services>, ActiveUser { tenant, principal: Principal { user, .. }, .. }: ActiveUser, Id(id): Id<InboxId>) -> Result<Json<Value>, ApiError> {
    let item = services.inbox.get(&tenant, &user, &id).await?;
    Ok(Json(inbox_json(&item)))
}

async fn read(State(services): State<Services>, ActiveUser { tenant, principal: Principal { user, .. }, .. }: ActiveUser, Id(id): Id<InboxId>) -> Result<Json<Value>, ApiError> {
    let item = services.inbox.mark_read(&tenant, &user, &id).await?;
    Ok(Json(inbox_json(&item)))
}

async fn read_all(State(services): State<Services>, ActiveUser { tenant, principal: Principal { user, .. }, .. }: ActiveUser) -> Result<Json<Value>, ApiError> {
    let marked = services.inbox.mark_all_read(&tenant, &user).await?;
    Ok(Json(json!({ "marked": marked })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PostponeBody {
    #[serde(default)]
    days: Option<u32>,
}

async fn postpone(
    State(services): State<Services>,
    ActiveUser { tenant, principal: Principal { user, .. }, .. }: ActiveUser,
    Id(id): Id<InboxId>,
    OptionalJsonBody(request): OptionalJsonBody<PostponeBody>,
) -> Result<Json<Value>, ApiError> {
    let item = services.inbox.postpone(&tenant, &user, &id, request.and_then(|r| r.days)).await?;
    Ok(Json(inbox_json(&item)))
}

async fn remove(State(services): State<Services>, ActiveUser { tenant, principal: Principal { user, .. }, .. }: ActiveUser, Id(id): Id<InboxId>) -> Result<Json<Value>, ApiError> {
    services.inbox.delete(&tenant, &user, &id).await?;
    Ok(Json(json!({ "deleted": true })))
}
