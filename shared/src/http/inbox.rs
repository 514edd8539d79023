//! The signed-in user's inbox: `GET /{db}/inbox` (unread and due by
//! default; `state`, `channel`, `key`, `due_before`, `cursor`, `limit`),
//! `GET /{db}/inbox/{id}`, `POST /{db}/inbox/{id}/read`,
//! `POST /{db}/inbox/read-all`, `POST /{db}/inbox/{id}/postpone`
//! (`{"days": n}`, default 7), `DELETE /{db}/inbox/{id}`.
//! Only the caller's own items: anyone else's id is simply not found.
use axum::extract::{RawQuery, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ActiveUser, Id, OptionalJsonBody};
use super::openapi::{BodyRefusals, Deleted, InboxParams, Refusals, TenantPath, WriteRefusals};
use super::ApiError;
use crate::auth::Principal;
use crate::domain::Timestamp;
use crate::inbox::service::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::inbox::{InboxFilter, InboxId, InboxView, ReadState};
use crate::notifications::{Channel, TypeKey};
use crate::services::Services;

pub(super) fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(read_all))
        .routes(routes!(show, remove))
        .routes(routes!(read))
        .routes(routes!(postpone))
}

/// A page of the caller's inbox, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxPage {
    pub items: Vec<InboxView>,
    pub next_cursor: Option<InboxId>,
}

/// How many items were marked read.
#[derive(Debug, Serialize, ToSchema)]
pub struct Marked {
    pub marked: usize,
}

const ID: &str = "The inbox item's id";

/// Longest query string of `GET /{db}/inbox`.
pub const MAX_INBOX_QUERY_BYTES: usize = 2048;

/// The caller's inbox items.
#[utoipa::path(
    get,
    path = "/{db}/inbox",
    tag = "inbox",
    params(TenantPath, InboxParams),
    responses((status = 200, description = "A page of items", body = InboxPage), Refusals)
)]
async fn list(State(services): State<Services>, ActiveUser { tenant, principal: Principal { user, .. }, .. }: ActiveUser, RawQuery(query): RawQuery) -> Result<Json<InboxPage>, ApiError> {
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
    Ok(Json(InboxPage { items: page.items.iter().map(InboxView::from).collect(), next_cursor: page.next }))
}

/// Inbox item `id` of the caller.
#[utoipa::path(
    get,
    path = "/{db}/inbox/{id}",
    tag = "inbox",
    params(TenantPath, ("id" = inline(InboxId), Path, description = ID)),
    responses((status = 200, description = "The item", body = InboxView), Refusals)
)]
async fn show(State(services): State<Services>, ActiveUser { tenant, principal: Principal { user, .. }, .. }: ActiveUser, Id(id): Id<InboxId>) -> Result<Json<InboxView>, ApiError> {
    let item = services.inbox.get(&tenant, &user, &id).await?;
    Ok(Json(InboxView::from(&item)))
}

/// Marks inbox item `id` read.
#[utoipa::path(
    post,
    path = "/{db}/inbox/{id}/read",
    tag = "inbox",
    params(TenantPath, ("id" = inline(InboxId), Path, description = ID)),
    responses((status = 200, description = "The item, read", body = InboxView), Refusals, WriteRefusals)
)]
async fn read(State(services): State<Services>, ActiveUser { tenant, principal: Principal { user, .. }, .. }: ActiveUser, Id(id): Id<InboxId>) -> Result<Json<InboxView>, ApiError> {
    let item = services.inbox.mark_read(&tenant, &user, &id).await?;
    Ok(Json(InboxView::from(&item)))
}

/// Marks every unread item of the caller read.
#[utoipa::path(
    post,
    path = "/{db}/inbox/read-all",
    tag = "inbox",
    params(TenantPath),
    responses((status = 200, description = "How many were marked", body = Marked), Refusals, WriteRefusals)
)]
async fn read_all(State(services): State<Services>, ActiveUser { tenant, principal: Principal { user, .. }, .. }: ActiveUser) -> Result<Json<Marked>, ApiError> {
    let marked = services.inbox.mark_all_read(&tenant, &user).await?;
    Ok(Json(Marked { marked }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PostponeBody {
    /// How many days later it shows as due again (7 if absent).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 365)]
    days: Option<u32>,
}

/// Moves inbox item `id` later (an empty body: 7 days).
#[utoipa::path(
    post,
    path = "/{db}/inbox/{id}/postpone",
    tag = "inbox",
    params(TenantPath, ("id" = inline(InboxId), Path, description = ID)),
    request_body(content = Option<PostponeBody>, description = "Optional"),
    responses((status = 200, description = "The item, postponed", body = InboxView), Refusals, BodyRefusals)
)]
async fn postpone(
    State(services): State<Services>,
    ActiveUser { tenant, principal: Principal { user, .. }, .. }: ActiveUser,
    Id(id): Id<InboxId>,
    OptionalJsonBody(request): OptionalJsonBody<PostponeBody>,
) -> Result<Json<InboxView>, ApiError> {
    let item = services.inbox.postpone(&tenant, &user, &id, request.and_then(|r| r.days)).await?;
    Ok(Json(InboxView::from(&item)))
}

/// Removes inbox item `id`.
#[utoipa::path(
    delete,
    path = "/{db}/inbox/{id}",
    tag = "inbox",
    params(TenantPath, ("id" = inline(InboxId), Path, description = ID)),
    responses((status = 200, description = "Removed", body = Deleted), Refusals, WriteRefusals)
)]
async fn remove(State(services): State<Services>, ActiveUser { tenant, principal: Principal { user, .. }, .. }: ActiveUser, Id(id): Id<InboxId>) -> Result<Json<Deleted>, ApiError> {
    services.inbox.delete(&tenant, &user, &id).await?;
    Ok(Json(Deleted { deleted: true }))
}
