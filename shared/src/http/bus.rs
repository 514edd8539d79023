//! `POST /{db}/bus`: Tryton's long poll.
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::extract::{JsonBody, SignedIn};
use super::ApiError;
use crate::bus::PollRequest;
use crate::services::Services;

pub fn routes(services: Services) -> Router {
    Router::new().route("/{db}/bus", post(poll)).with_state(services)
}

async fn poll(State(services): State<Services>, caller: SignedIn, JsonBody(request): JsonBody<PollRequest>) -> Result<Json<Value>, ApiError> {
    let delivery = services.bus.listen(&caller.tenant, &caller.principal.user, &caller.principal.grants, &request).await?;
    Ok(Json(match delivery {
        Some(d) => json!({ "channel": d.channel, "message": d.message }),
        None => json!({ "channel": null, "message": null }),
    }))
}
