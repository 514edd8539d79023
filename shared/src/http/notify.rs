//! Publishing (admin role): `POST /{db}/bus/publish` puts a raw message on a
//! channel; `POST /{db}/notify` is Tryton's `notify(title, body, priority,
//! user, client)`.
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{AdminTenant, JsonBody};
use super::openapi::{BodyRefusals, Conflicts, Refusals, TenantPath};
use super::ApiError;
use crate::bus::{NotifyRequest, PublishBatch, PublishRequest};
use crate::services::Services;

pub(super) fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new().routes(routes!(publish)).routes(routes!(publish_batch)).routes(routes!(notify))
}

/// Where a message went and its place on that channel.
#[derive(Debug, Serialize, ToSchema)]
pub struct Published {
    pub channel: String,
    pub sequence: u64,
}

/// Puts a raw message on a channel.
#[utoipa::path(
    post,
    path = "/{db}/bus/publish",
    tag = "bus",
    params(TenantPath),
    request_body = PublishRequest,
    responses((status = 200, description = "Published", body = Published), Refusals, BodyRefusals, Conflicts)
)]
async fn publish(State(services): State<Services>, admin: AdminTenant, JsonBody(request): JsonBody<PublishRequest>) -> Result<Json<Published>, ApiError> {
    let published = services.bus.publish_named(&admin.tenant, &request).await?;
    Ok(Json(Published { channel: request.channel, sequence: published.seq }))
}

/// What a batch published, in its order.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublishedBatch {
    pub published: Vec<Published>,
}

/// Publishes messages in order (a trytond transaction's, once committed).
#[utoipa::path(
    post,
    path = "/{db}/bus/messages",
    tag = "bus",
    params(TenantPath),
    request_body = PublishBatch,
    responses((status = 200, description = "Published", body = PublishedBatch), Refusals, BodyRefusals)
)]
async fn publish_batch(State(services): State<Services>, admin: AdminTenant, JsonBody(batch): JsonBody<PublishBatch>) -> Result<Json<PublishedBatch>, ApiError> {
    let published = services.bus.publish_batch(&admin.tenant, &batch).await?;
    Ok(Json(PublishedBatch { published: published.into_iter().map(|(channel, p)| Published { channel, sequence: p.seq }).collect() }))
}

/// Tryton's `notify`: a message for a user's open clients.
#[utoipa::path(
    post,
    path = "/{db}/notify",
    tag = "bus",
    params(TenantPath),
    request_body = NotifyRequest,
    responses((status = 200, description = "Published", body = Published), Refusals, BodyRefusals, Conflicts)
)]
async fn notify(State(services): State<Services>, admin: AdminTenant, JsonBody(request): JsonBody<NotifyRequest>) -> Result<Json<Published>, ApiError> {
    let (channel, published) = services.bus.notify(&admin.tenant, &admin.principal.user, &request).await?;
    Ok(Json(Published { channel, sequence: published.seq }))
}
