//! Typed notifications (admin role): `POST /{db}/notifications` sends now
//! or schedules; `GET /{db}/notifications/{id}` shows the status and the
//! deliveries; `DELETE` cancels one not yet published.
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{AdminTenant, Id, JsonBody};
use super::openapi::{time_schema, BodyRefusals, Conflicts, Refusals, TenantPath, WriteRefusals};
use super::ApiError;
use crate::domain::Timestamp;
use crate::notifications::{
    Channel, Context, Delivery, DeliveryStatus, Notification, NotificationId, NotificationStatus, Recipient, RecipientSpec, SendOutcome, SendRequest, StatusType, TypeKey,
};
use crate::services::Services;

pub(super) fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new().routes(routes!(send)).routes(routes!(show, cancel))
}

/// A typed notification to send now, or at `due_at`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SendBody {
    key: TypeKey,
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    body_html: Option<String>,
    recipients: RecipientSpec,
    /// When to publish it (RFC 3339, or milliseconds since the epoch); now if absent.
    #[serde(default)]
    #[schema(schema_with = time_schema)]
    due_at: Option<Value>,
    /// Not sent at all after this time.
    #[serde(default)]
    #[schema(schema_with = time_schema)]
    until: Option<Value>,
    #[serde(default)]
    force_channel: Option<Channel>,
    #[serde(default)]
    context: Option<Context>,
    #[serde(default)]
    idempotency_key: Option<String>,
}

/// A time as RFC 3339 text or milliseconds since the epoch.
pub(super) fn time(field: &str, value: Option<Value>) -> Result<Option<Timestamp>, ApiError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Timestamp::parse_rfc3339(&text)
            .map(Some)
            .ok_or_else(|| ApiError::BadRequest(format!("{field} must be an RFC 3339 date-time or milliseconds since the epoch"))),
        Some(Value::Number(ms)) => ms
            .as_i64()
            .filter(|ms| (0..=Timestamp::MAX_MILLIS).contains(ms))
            .map(|ms| Some(Timestamp::from_millis(ms)))
            .ok_or_else(|| ApiError::BadRequest(format!("{field} is out of range"))),
        Some(_) => Err(ApiError::BadRequest(format!("{field} must be an RFC 3339 date-time or milliseconds since the epoch"))),
    }
}

/// What a send did.
#[derive(Debug, Serialize, ToSchema)]
pub struct Sent {
    pub id: NotificationId,
    pub outcome: SendOutcome,
    pub status: NotificationStatus,
    pub revision: u32,
    pub channel: Channel,
    /// RFC 3339.
    pub due_at: String,
}

/// A delivery of a notification to one recipient.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    pub recipient: Recipient,
    pub revision: u32,
    pub channel: Channel,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub delivered_to: Option<String>,
    pub provider_id: Option<String>,
    /// RFC 3339.
    pub updated_at: String,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        Self {
            recipient: d.key.recipient,
            revision: d.key.revision,
            channel: d.channel,
            status: d.status,
            attempts: d.attempts,
            last_error: d.last_error,
            delivered_to: d.delivered_to,
            provider_id: d.provider_id,
            updated_at: d.updated_at.to_rfc3339(),
        }
    }
}

/// A notification, its status and its deliveries. Times are RFC 3339.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationView {
    pub id: NotificationId,
    pub key: TypeKey,
    pub title: String,
    pub body: String,
    pub body_html: Option<String>,
    pub channel: Channel,
    pub status_type: StatusType,
    pub recipients: RecipientSpec,
    pub status: NotificationStatus,
    pub revision: u32,
    pub due_at: String,
    pub until: Option<String>,
    pub context: Option<Context>,
    pub created_at: String,
    pub published_at: Option<String>,
    pub cancel_reason: Option<String>,
    pub deliveries: Vec<DeliveryView>,
}

impl NotificationView {
    fn of(n: Notification, deliveries: Vec<Delivery>) -> Self {
        Self {
            id: n.id,
            key: n.key,
            title: n.title,
            body: n.body,
            body_html: n.body_html,
            channel: n.channel,
            status_type: n.status_type,
            recipients: n.recipients,
            status: n.status,
            revision: n.revision,
            due_at: n.due_at.to_rfc3339(),
            until: n.until.map(Timestamp::to_rfc3339),
            context: n.context,
            created_at: n.created_at.to_rfc3339(),
            published_at: n.published_at.map(Timestamp::to_rfc3339),
            cancel_reason: n.cancel_reason,
            deliveries: deliveries.into_iter().map(Into::into).collect(),
        }
    }
}

/// What a cancel left.
#[derive(Debug, Serialize, ToSchema)]
pub struct Cancelled {
    pub id: NotificationId,
    pub status: NotificationStatus,
}

const ID: &str = "The notification's id";

/// Sends a typed notification now, or schedules it.
#[utoipa::path(
    post,
    path = "/{db}/notifications",
    tag = "notifications",
    params(TenantPath),
    request_body = SendBody,
    responses((status = 202, description = "Accepted: published, scheduled, or a duplicate", body = Sent), Refusals, BodyRefusals, Conflicts)
)]
async fn send(State(services): State<Services>, admin: AdminTenant, JsonBody(request): JsonBody<SendBody>) -> Result<(StatusCode, Json<Sent>), ApiError> {
    let send = SendRequest {
        due_at: time("due_at", request.due_at)?,
        until: time("until", request.until)?,
        key: request.key,
        title: request.title,
        body: request.body,
        body_html: request.body_html,
        recipients: request.recipients,
        force_channel: request.force_channel,
        context: request.context,
        idempotency_key: request.idempotency_key,
    };
    let (notification, outcome) = services.notifier.send(&admin.tenant, send).await?;
    let answer = Sent {
        id: notification.id,
        outcome,
        status: notification.status,
        revision: notification.revision,
        channel: notification.channel,
        due_at: notification.due_at.to_rfc3339(),
    };
    Ok((StatusCode::ACCEPTED, Json(answer)))
}

/// Notification `id`: its status and deliveries.
#[utoipa::path(
    get,
    path = "/{db}/notifications/{id}",
    tag = "notifications",
    params(TenantPath, ("id" = inline(NotificationId), Path, description = ID)),
    responses((status = 200, description = "The notification", body = NotificationView), Refusals)
)]
async fn show(State(services): State<Services>, admin: AdminTenant, Id(id): Id<NotificationId>) -> Result<Json<NotificationView>, ApiError> {
    let (notification, deliveries) = services.notifier.status(&admin.tenant, &id).await?;
    Ok(Json(NotificationView::of(notification, deliveries)))
}

/// Cancels notification `id` if it is not yet published.
#[utoipa::path(
    delete,
    path = "/{db}/notifications/{id}",
    tag = "notifications",
    params(TenantPath, ("id" = inline(NotificationId), Path, description = ID)),
    responses((status = 200, description = "Cancelled", body = Cancelled), Refusals, WriteRefusals, Conflicts)
)]
async fn cancel(State(services): State<Services>, admin: AdminTenant, Id(id): Id<NotificationId>) -> Result<Json<Cancelled>, ApiError> {
    let cancelled = services.notifier.cancel(&admin.tenant, &id).await?;
    Ok(Json(Cancelled { id: cancelled.id, status: cancelled.status }))
}
