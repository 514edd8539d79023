//! Subscriptions: `POST /{db}/subscriptions`, `GET /{db}/subscriptions`
//! (own; admins may pass `?subscriber=user:3|group:x|company:y`),
//! `GET|PUT|DELETE /{db}/subscriptions/{id}`. Users manage their own;
//! admins any.
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::extract::{Id, JsonBody, SignedIn};
use super::ApiError;
use crate::domain::{CompanyId, GroupName, SubscriptionId, UserId};
use crate::services::Services;
use crate::subscriptions::{Caller, Subscriber, Subscription, SubscriptionRequest, MAX_PAGE};

pub fn routes(services: Services) -> Router {
    Router::new()
        .route("/{db}/subscriptions", get(list).post(create))
        .route("/{db}/subscriptions/{id}", get(show).put(replace).delete(remove))
        .with_state(services)
}

impl SignedIn {
    fn caller(&self) -> Caller<'_> {
        Caller { user: &self.principal.user, admin: self.principal.is_admin() }
    }
}

fn subscription_json(s: &Subscription) -> Value {
    json!({
        "id": s.id,
        "subscriber": s.subscriber,
        "resources": s.resources,
        "filter": s.filter_source,
        "filter_text": s.filter.to_string(),
        "notify_on": s.notify_on,
        "frequency": s.frequency,
        "methods": s.methods,
        "email_format": s.email_format,
        "created_at": s.created_at.to_rfc3339(),
        "last_check_time": s.last_check_time.to_rfc3339(),
        "next_check_time": s.is_scheduled().then(|| s.next_check_time.to_rfc3339()),
        "failures": s.failures,
        "suspended": s.suspended,
        "last_error": s.last_error,
    })
}

async fn create(State(services): State<Services>, caller: SignedIn, JsonBody(request): JsonBody<SubscriptionRequest>) -> Result<(StatusCode, Json<Value>), ApiError> {
    let created = services.subscriptions.create(&caller.tenant, &caller.caller(), request).await?;
    Ok((StatusCode::CREATED, Json(subscription_json(&created))))
}

/// `user:3`, `group:manager`, `company:acme`.
fn parse_subscriber(text: &str) -> Result<Subscriber, ApiError> {
    let bad = || ApiError::bad_request("subscriber is user:<id>, group:<name> or company:<id>");
    let (kind, id) = text.split_once(':').ok_or_else(bad)?;
    Ok(match kind {
        "user" => Subscriber::User(UserId::parse(id).map_err(ApiError::bad_request)?),
        "group" => Subscriber::Group(GroupName::parse(id).map_err(ApiError::bad_request)?),
        "company" => Subscriber::Company(CompanyId::parse(id).map_err(ApiError::bad_request)?),
        _ => return Err(bad()),
    })
}

/// Subscriptions a page holds when the caller does not say.
pub const DEFAULT_PAGE: usize = 50;

/// Longest query string of `GET /{db}/subscriptions`.
pub const MAX_SUBSCRIPTIONS_QUERY_BYTES: usize = 1024;

async fn list(State(services): State<Services>, caller: SignedIn, RawQuery(query): RawQuery) -> Result<Json<Value>, ApiError> {
    let query = query.unwrap_or_default();
    if query.len() > MAX_SUBSCRIPTIONS_QUERY_BYTES {
        return Err(ApiError::bad_request("the query string is too long"));
    }
    let (mut subscriber, mut cursor, mut limit) = (None, None, DEFAULT_PAGE);
    for (name, value) in serde_urlencoded::from_str::<Vec<(String, String)>>(&query).map_err(ApiError::bad_request)? {
        match name.as_str() {
            "subscriber" => subscriber = Some(parse_subscriber(&value)?),
            "cursor" => cursor = Some(SubscriptionId::parse(&value).map_err(|_| ApiError::bad_request("cursor: not one this list gave"))?),
            "limit" => {
                limit = value.parse().ok().filter(|n| (1..=MAX_PAGE).contains(n)).ok_or_else(|| ApiError::BadRequest(format!("limit is 1 to {MAX_PAGE}")))?
            }
            other => return Err(ApiError::BadRequest(format!("unknown query parameter '{other}'"))),
        }
    }
    let page = services.subscriptions.list(&caller.tenant, &caller.caller(), subscriber, cursor.as_ref(), limit).await?;
    Ok(Json(json!({
        "subscriptions": page.subscriptions.iter().map(subscription_json).collect::<Vec<_>>(),
        "next_cursor": page.next,
    })))
}

async fn show(State(services): State<Services>, caller: SignedIn, Id(id): Id<SubscriptionId>) -> Result<Json<Value>, ApiError> {
    let found = services.subscriptions.get(&caller.tenant, &caller.caller(), &id).await?;
    Ok(Json(subscription_json(&found)))
}

async fn replace(
    State(services): State<Services>,
    caller: SignedIn,
    Id(id): Id<SubscriptionId>,
    JsonBody(request): JsonBody<SubscriptionRequest>,
) -> Result<Json<Value>, ApiError> {
    let replaced = services.subscriptions.replace(&caller.tenant, &caller.caller(), &id, request).await?;
    Ok(Json(subscription_json(&replaced)))
}

async fn remove(State(services): State<Services>, caller: SignedIn, Id(id): Id<SubscriptionId>) -> Result<Json<Value>, ApiError> {
    services.subscriptions.delete(&caller.tenant, &caller.caller(), &id).await?;
    Ok(Json(json!({ "deleted": true })))
}
