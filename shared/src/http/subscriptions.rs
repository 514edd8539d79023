//! Subscriptions: `POST /{db}/subscriptions`, `GET /{db}/subscriptions`
//! (own; admins may pass `?subscriber=user:3|group:x|company:y`),
//! `GET|PUT|DELETE /{db}/subscriptions/{id}`. Users manage their own;
//! admins any.
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::{body, tenant, ApiError};
use crate::app::Services;
use crate::domain::{CompanyId, GroupName, SubscriptionId, TenantId, UserId};
use crate::auth::Principal;
use crate::subscriptions::{Caller, Subscriber, Subscription, SubscriptionError, SubscriptionRequest};

pub fn routes(services: Services) -> Router {
    Router::new()
        .route("/{db}/subscriptions", get(list).post(create))
        .route("/{db}/subscriptions/{id}", get(show).put(replace).delete(remove))
        .with_state(services)
}

impl From<SubscriptionError> for ApiError {
    fn from(e: SubscriptionError) -> Self {
        match e {
            SubscriptionError::Invalid(m) => Self::BadRequest(m),
            SubscriptionError::Forbidden(m) => Self::Forbidden(m),
            SubscriptionError::NotFound => Self::NotFound("no such subscription".into()),
            SubscriptionError::Store(e) => Self::Unavailable(e),
        }
    }
}

fn signed_in(services: &Services, headers: &HeaderMap, db: String) -> Result<(Principal, TenantId), ApiError> {
    let principal = services.auth.authenticate(headers)?;
    let tenant = tenant(db)?;
    principal.require_tenant(&tenant)?;
    Ok((principal, tenant))
}

fn caller(principal: &Principal) -> Caller<'_> {
    Caller { user: &principal.user, admin: principal.is_admin() }
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

fn subscription_id(id: String) -> Result<SubscriptionId, ApiError> {
    SubscriptionId::parse(id).map_err(|_| ApiError::NotFound("no such subscription".into()))
}

async fn create(State(services): State<Services>, Path(db): Path<String>, headers: HeaderMap, request: Body) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (principal, tenant) = signed_in(&services, &headers, db)?;
    let request: SubscriptionRequest = body::parse(body::json_object(request).await?)?;
    let created = services.subscriptions.create(&tenant, &caller(&principal), request).await?;
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

async fn list(State(services): State<Services>, Path(db): Path<String>, RawQuery(query): RawQuery, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let (principal, tenant) = signed_in(&services, &headers, db)?;
    let query = query.unwrap_or_default();
    if query.len() > 1024 {
        return Err(ApiError::bad_request("the query string is too long"));
    }
    let mut subscriber = None;
    for (name, value) in serde_urlencoded::from_str::<Vec<(String, String)>>(&query).map_err(ApiError::bad_request)? {
        match name.as_str() {
            "subscriber" => subscriber = Some(parse_subscriber(&value)?),
            other => return Err(ApiError::BadRequest(format!("unknown query parameter '{other}'"))),
        }
    }
    let found = services.subscriptions.list(&tenant, &caller(&principal), subscriber).await?;
    Ok(Json(json!({ "subscriptions": found.iter().map(subscription_json).collect::<Vec<_>>() })))
}

async fn show(State(services): State<Services>, Path((db, id)): Path<(String, String)>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let (principal, tenant) = signed_in(&services, &headers, db)?;
    let found = services.subscriptions.get(&tenant, &caller(&principal), &subscription_id(id)?).await?;
    Ok(Json(subscription_json(&found)))
}

async fn replace(
    State(services): State<Services>,
    Path((db, id)): Path<(String, String)>,
    headers: HeaderMap,
    request: Body,
) -> Result<Json<Value>, ApiError> {
    let (principal, tenant) = signed_in(&services, &headers, db)?;
    let id = subscription_id(id)?;
    let request: SubscriptionRequest = body::parse(body::json_object(request).await?)?;
    let replaced = services.subscriptions.replace(&tenant, &caller(&principal), &id, request).await?;
    Ok(Json(subscription_json(&replaced)))
}

async fn remove(State(services): State<Services>, Path((db, id)): Path<(String, String)>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let (principal, tenant) = signed_in(&services, &headers, db)?;
    services.subscriptions.delete(&tenant, &caller(&principal), &subscription_id(id)?).await?;
    Ok(Json(json!({ "deleted": true })))
}
