//! Message templates (admin role): `PUT /{db}/templates/{name}` (checked:
//! it must compile and render a sample digest), `GET /{db}/templates/{name}`
//! (the tenant's own, else the bundled one).
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::put;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{authorize_admin, body, ApiError};
use crate::app::Services;
use crate::subscriptions::render;

pub fn routes(services: Services) -> Router {
    Router::new().route("/{db}/templates/{name}", put(put_template).get(get_template)).with_state(services)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutTemplate {
    source: String,
}

async fn put_template(
    State(services): State<Services>,
    Path((db, name)): Path<(String, String)>,
    headers: HeaderMap,
    request: Body,
) -> Result<Json<Value>, ApiError> {
    let (_, tenant) = authorize_admin(&services, &headers, db)?;
    let request: PutTemplate = body::parse(body::json_object(request).await?)?;
    render::check_template(&name, &request.source).map_err(ApiError::BadRequest)?;
    services.checker.templates().put_template(&tenant, &name, &request.source).await?;
    Ok(Json(json!({ "name": name, "source": request.source, "origin": "tenant" })))
}

async fn get_template(State(services): State<Services>, Path((db, name)): Path<(String, String)>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let (_, tenant) = authorize_admin(&services, &headers, db)?;
    render::check_name(&name).map_err(ApiError::NotFound)?;
    if let Some(source) = services.checker.templates().get_template(&tenant, &name).await? {
        return Ok(Json(json!({ "name": name, "source": source, "origin": "tenant" })));
    }
    match render::bundled(&name) {
        Some(source) => Ok(Json(json!({ "name": name, "source": source, "origin": "bundled" }))),
        None => Err(ApiError::NotFound(format!("no template '{name}'"))),
    }
}
