//! Subscriptions: `POST /{db}/subscriptions`, `GET /{db}/subscriptions`
//! (own; admins may pass `?subscriber=user:3|group:x|company:y`),
//! `GET|PUT|DELETE /{db}/subscriptions/{id}`. Users manage their own;
//! admins any.
use std::collections::BTreeSet;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Id, JsonBody, ListQuery, PageQuery, SignedIn};
use super::openapi::{limit, BodyRefusals, Conflicts, Deleted, Refusals, TenantPath, WriteRefusals};
use super::ApiError;
use crate::domain::{CompanyId, GroupName, ResourceName, SubscriptionId, UserId};
use crate::services::Services;
use crate::subscriptions::{Caller, EmailFormat, Frequency, Method, NotifyOn, Subscriber, Subscription, SubscriptionRequest, MAX_PAGE};

pub(super) fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(show, replace, remove))
}

impl SignedIn {
    fn caller(&self) -> Caller<'_> {
        Caller { user: &self.principal.user, admin: self.principal.is_admin() }
    }
}

/// A subscription as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionView {
    pub id: SubscriptionId,
    pub subscriber: Subscriber,
    pub resources: Vec<ResourceName>,
    /// The filter as it was written (Eden's `[[selector, value], ...]`).
    pub filter: Value,
    /// The filter in words.
    pub filter_text: String,
    pub notify_on: BTreeSet<NotifyOn>,
    pub frequency: Frequency,
    pub methods: BTreeSet<Method>,
    pub email_format: Option<EmailFormat>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339: changes after it are not yet reported.
    pub last_check_time: String,
    /// RFC 3339; null when it is never checked (or suspended).
    pub next_check_time: Option<String>,
    pub failures: u32,
    pub suspended: bool,
    pub last_error: Option<String>,
}

impl From<Subscription> for SubscriptionView {
    fn from(s: Subscription) -> Self {
        Self {
            filter_text: s.filter.to_string(),
            next_check_time: s.is_scheduled().then(|| s.next_check_time.to_rfc3339()),
            id: s.id,
            subscriber: s.subscriber,
            resources: s.resources,
            filter: s.filter_source,
            notify_on: s.notify_on,
            frequency: s.frequency,
            methods: s.methods,
            email_format: s.email_format,
            created_at: s.created_at.to_rfc3339(),
            last_check_time: s.last_check_time.to_rfc3339(),
            failures: s.failures,
            suspended: s.suspended,
            last_error: s.last_error,
        }
    }
}

/// A page of subscriptions, by id.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionPage {
    pub subscriptions: Vec<SubscriptionView>,
    pub next_cursor: Option<SubscriptionId>,
}

const ID: &str = "The subscription's id";

/// Subscribes the caller (or, for an admin, any `subscriber`).
#[utoipa::path(
    post,
    path = "/{db}/subscriptions",
    tag = "subscriptions",
    params(TenantPath),
    request_body = SubscriptionRequest,
    responses((status = 201, description = "Created", body = SubscriptionView), Refusals, BodyRefusals, Conflicts)
)]
async fn create(State(services): State<Services>, caller: SignedIn, JsonBody(request): JsonBody<SubscriptionRequest>) -> Result<(StatusCode, Json<SubscriptionView>), ApiError> {
    let created = services.subscriptions.create(&caller.tenant, &caller.caller(), request).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
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

fn page_limit() -> utoipa::openapi::Object {
    limit(MAX_PAGE, DEFAULT_PAGE)
}

/// `?subscriber&limit&cursor` of `GET /{db}/subscriptions`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SubscriptionParams {
    /// Whose subscriptions (admins only; a user lists their own):
    /// `user:<id>`, `group:<name>` or `company:<id>`.
    #[param(pattern = "^(user|group|company):[A-Za-z0-9_.@-]{1,128}$")]
    subscriber: Option<String>,
    #[param(schema_with = page_limit)]
    limit: Option<usize>,
    #[param(inline)]
    cursor: Option<SubscriptionId>,
}

/// Longest query string of `GET /{db}/subscriptions`.
pub const MAX_SUBSCRIPTIONS_QUERY_BYTES: usize = 1024;

/// The caller's subscriptions (an admin's: any `subscriber`'s).
#[utoipa::path(
    get,
    path = "/{db}/subscriptions",
    tag = "subscriptions",
    params(TenantPath, SubscriptionParams),
    responses((status = 200, description = "A page of subscriptions", body = SubscriptionPage), Refusals)
)]
async fn list(State(services): State<Services>, caller: SignedIn, RawQuery(query): RawQuery) -> Result<Json<SubscriptionPage>, ApiError> {
    let list = ListQuery { max_bytes: MAX_SUBSCRIPTIONS_QUERY_BYTES, max_limit: MAX_PAGE, default_limit: DEFAULT_PAGE, extra: &["subscriber"] };
    let (page, extra) = PageQuery::parse(&query.unwrap_or_default(), list)?;
    let mut subscriber = None;
    for (_, value) in extra {
        subscriber = Some(parse_subscriber(&value)?);
    }
    let cursor = page.cursor_as(|c| SubscriptionId::parse(c))?;
    let limit = page.limit;
    let page = services.subscriptions.list(&caller.tenant, &caller.caller(), subscriber, cursor.as_ref(), limit).await?;
    Ok(Json(SubscriptionPage { subscriptions: page.subscriptions.into_iter().map(Into::into).collect(), next_cursor: page.next }))
}

/// Subscription `id`, if it is the caller's (or the caller is an admin).
#[utoipa::path(
    get,
    path = "/{db}/subscriptions/{id}",
    tag = "subscriptions",
    params(TenantPath, ("id" = inline(SubscriptionId), Path, description = ID)),
    responses((status = 200, description = "The subscription", body = SubscriptionView), Refusals)
)]
async fn show(State(services): State<Services>, caller: SignedIn, Id(id): Id<SubscriptionId>) -> Result<Json<SubscriptionView>, ApiError> {
    let found = services.subscriptions.get(&caller.tenant, &caller.caller(), &id).await?;
    Ok(Json(found.into()))
}

/// Replaces subscription `id`'s settings (and clears a suspension).
#[utoipa::path(
    put,
    path = "/{db}/subscriptions/{id}",
    tag = "subscriptions",
    params(TenantPath, ("id" = inline(SubscriptionId), Path, description = ID)),
    request_body = SubscriptionRequest,
    responses((status = 200, description = "Replaced", body = SubscriptionView), Refusals, BodyRefusals)
)]
async fn replace(
    State(services): State<Services>,
    caller: SignedIn,
    Id(id): Id<SubscriptionId>,
    JsonBody(request): JsonBody<SubscriptionRequest>,
) -> Result<Json<SubscriptionView>, ApiError> {
    let replaced = services.subscriptions.replace(&caller.tenant, &caller.caller(), &id, request).await?;
    Ok(Json(replaced.into()))
}

/// Removes subscription `id`.
#[utoipa::path(
    delete,
    path = "/{db}/subscriptions/{id}",
    tag = "subscriptions",
    params(TenantPath, ("id" = inline(SubscriptionId), Path, description = ID)),
    responses((status = 200, description = "Removed", body = Deleted), Refusals, WriteRefusals)
)]
async fn remove(State(services): State<Services>, caller: SignedIn, Id(id): Id<SubscriptionId>) -> Result<Json<Deleted>, ApiError> {
    services.subscriptions.delete(&caller.tenant, &caller.caller(), &id).await?;
    Ok(Json(Deleted { deleted: true }))
}
