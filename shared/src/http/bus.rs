//! `POST /{db}/bus`: Tryton's long poll.
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{JsonBody, SignedIn};
use super::openapi::{BodyRefusals, Refusals, TenantPath};
use super::ApiError;
use crate::bus::PollRequest;
use crate::services::Services;

pub(super) fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new().routes(routes!(poll))
}

/// The message a poll returns, or nulls when its wait ended with none.
#[derive(Debug, Serialize, ToSchema)]
pub struct Polled {
    pub channel: Option<String>,
    pub message: Option<Map<String, Value>>,
}

/// Waits for the next message on the caller's channels after
/// `last_message` (Tryton's bus protocol).
#[utoipa::path(
    post,
    path = "/{db}/bus",
    tag = "bus",
    params(TenantPath),
    request_body = PollRequest,
    responses((status = 200, description = "A message, or nulls after the wait", body = Polled), Refusals, BodyRefusals)
)]
async fn poll(State(services): State<Services>, caller: SignedIn, JsonBody(request): JsonBody<PollRequest>) -> Result<Json<Polled>, ApiError> {
    let delivery = services.bus.listen(&caller.tenant, &caller.principal.user, &caller.principal.grants, &request).await?;
    Ok(Json(match delivery {
        Some(d) => Polled { channel: Some(d.channel), message: Some(d.message) },
        None => Polled { channel: None, message: None },
    }))
}
