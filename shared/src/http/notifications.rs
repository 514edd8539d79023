//! Typed notifications (admin role): `POST /{db}/notifications` sends now
//! or schedules; `GET /{db}/notifications/{id}` shows the status and the
//! deliveries; `DELETE` cancels one not yet published.
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::extract::{AdminTenant, Id, JsonBody};
use super::ApiError;
use crate::domain::Timestamp;
use crate::notifications::{Channel, Context, Delivery, Notification, NotificationId, RecipientSpec, SendRequest, TypeKey};
use crate::services::Services;

pub fn routes(services: Services) -> Router {
    Router::new()
        .route("/{db}/notifications", post(send))
        .route("/{db}/notifications/{id}", get(show).delete(cancel))
        .with_state(services)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendBody {
    key: TypeKey,
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    body_html: Option<String>,
    recipients: RecipientSpec,
    #[serde(default)]
    due_at: Option<Value>,
    #[serde(default)]
    until: Option<Value>,
    #[serde(default)]
    force_channel: Option<Channel>,
    #[serde(default)]
    context: Option<Context>,
    #[serde(default)]
    idempotency_key: Option<String>,
}

/// A time as RFC 3339 text or milliseconds since the epoch.
fn time(field: &str, value: Option<Value>) -> Result<Option<Timestamp>, ApiError> {
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

async fn send(State(services): State<Services>, admin: AdminTenant, JsonBody(request): JsonBody<SendBody>) -> Result<(StatusCode, Json<Value>), ApiError> {
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
    let answer = json!({
        "id": notification.id,
        "outcome": outcome,
        "status": notification.status,
        "revision": notification.revision,
        "channel": notification.channel,
        "due_at": notification.due_at.to_rfc3339(),
    });
    Ok((StatusCode::ACCEPTED, Json(answer)))
}

fn delivery_json(d: &Delivery) -> Value {
    json!({
        "recipient": d.key.recipient,
        "revision": d.key.revision,
        "channel": d.channel,
        "status": d.status,
        "attempts": d.attempts,
        "last_error": d.last_error,
        "delivered_to": d.delivered_to,
        "provider_id": d.provider_id,
        "updated_at": d.updated_at.to_rfc3339(),
    })
}

fn notification_json(n: &Notification, deliveries: &[Delivery]) -> Value {
    json!({
        "id": n.id,
        "key": n.key,
        "title": n.title,
        "body": n.body,
        "body_html": n.body_html,
        "channel": n.channel,
        "status_type": n.status_type,
        "recipients": n.recipients,
        "status": n.status,
        "revision": n.revision,
        "due_at": n.due_at.to_rfc3339(),
        "until": n.until.map(Timestamp::to_rfc3339),
        "context": n.context,
        "created_at": n.created_at.to_rfc3339(),
        "published_at": n.published_at.map(Timestamp::to_rfc3339),
        "cancel_reason": n.cancel_reason,
        "deliveries": deliveries.iter().map(delivery_json).collect::<Vec<_>>(),
    })
}

async fn show(State(services): State<Services>, admin: AdminTenant, Id(id): Id<NotificationId>) -> Result<Json<Value>, ApiError> {
    let (notification, deliveries) = services.notifier.status(&admin.tenant, &id).await?;
    Ok(Json(notification_json(&notification, &deliveries)))
}

async fn cancel(State(services): State<Services>, admin: AdminTenant, Id(id): Id<NotificationId>) -> Result<Json<Value>, ApiError> {
    let cancelled = services.notifier.cancel(&admin.tenant, &id).await?;
    Ok(Json(json!({ "id": cancelled.id, "status": cancelled.status })))
}
