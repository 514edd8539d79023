//! `POST /{db}/bus`: Tryton's long poll.
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{body, tenant, ApiError};
use crate::app::Services;
use crate::bus::channel::{authorize_subscriptions, check_name, MAX_CHANNELS};
use crate::bus::cursor::MAX_CURSOR_LEN;

pub fn routes(services: Services) -> Router {
    Router::new().route("/{db}/bus", post(poll)).with_state(services)
}

#[derive(Deserialize)]
struct PollRequest {
    #[serde(default)]
    last_message: Option<String>,
    #[serde(default)]
    channels: Vec<String>,
}

async fn poll(
    State(services): State<Services>,
    Path(db): Path<String>,
    headers: HeaderMap,
    request: Body,
) -> Result<Json<Value>, ApiError> {
    let principal = services.auth.authenticate(&headers)?;
    let tenant = tenant(db)?;
    principal.require_tenant(&tenant)?;
    let request: PollRequest = body::parse(body::json_object(request).await?)?;
    if request.channels.len() > MAX_CHANNELS {
        return Err(ApiError::BadRequest(format!("at most {MAX_CHANNELS} channels per poll")));
    }
    for name in &request.channels {
        check_name(name).map_err(ApiError::bad_request)?;
    }
    if request.last_message.as_ref().is_some_and(|m| m.len() > MAX_CURSOR_LEN) {
        return Err(ApiError::BadRequest(format!("last_message is limited to {MAX_CURSOR_LEN} bytes")));
    }
    let subscriptions = authorize_subscriptions(&principal.user, &principal.grants, &request.channels);
    let delivery = services.bus.poll(&tenant, &subscriptions, request.last_message.as_deref()).await?;
    Ok(Json(match delivery {
        Some(d) => json!({ "channel": d.channel, "message": d.message }),
        None => json!({ "channel": null, "message": null }),
    }))
}
