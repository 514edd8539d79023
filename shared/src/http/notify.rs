//! Publishing (admin role): `POST /{db}/bus/publish` puts a raw message on a
//! channel; `POST /{db}/notify` is Tryton's `notify(title, body, priority,
//! user, client)`.
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::extract::{AdminTenant, JsonBody};
use super::ApiError;
use crate::bus::{NotifyRequest, PublishRequest};
use crate::services::Services;

pub fn routes(services: Services) -> Router {
    Router::new()
        .route("/{db}/bus/publish", post(publish))
        .route("/{db}/notify", post(notify))
        .with_state(services)
}

async fn publish(State(services): State<Services>, admin: AdminTenant, JsonBody(request): JsonBody<PublishRequest>) -> Result<Json<Value>, ApiError> {
    let published = services.bus.publish_named(&admin.tenant, &admin.principal.user, &request).await?;
    Ok(Json(json!({ "channel": request.channel, "sequence": published.seq })))
}

async fn notify(State(services): State<Services>, admin: AdminTenant, JsonBody(request): JsonBody<NotifyRequest>) -> Result<Json<Value>, ApiError> {
    let (channel, published) = services.bus.notify(&admin.tenant, &admin.principal.user, &request).await?;
    Ok(Json(json!({ "channel": channel, "sequence": published.seq })))
}
