//! Message templates (admin role): `PUT /{db}/templates/{name}` (checked:
//! it must compile and render a sample digest), `GET /{db}/templates/{name}`
//! (the tenant's own, else the bundled one).
use axum::extract::State;
use axum::routing::put;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

use super::extract::{AdminTenant, Id, JsonBody};
use super::{json_of, ApiError};
use crate::services::Services;

pub fn routes(services: Services) -> Router {
    Router::new().route("/{db}/templates/{name}", put(put_template).get(get_template)).with_state(services)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutTemplate {
    source: String,
}

// The name is checked with the source, after the body is read.
async fn put_template(State(services): State<Services>, admin: AdminTenant, Id(name): Id<String>, JsonBody(request): JsonBody<PutTemplate>) -> Result<Json<Value>, ApiError> {
    Ok(json_of(&services.templates.put(&admin.tenant, &name, request.source).await?))
}

async fn get_template(State(services): State<Services>, admin: AdminTenant, Id(name): Id<String>) -> Result<Json<Value>, ApiError> {
    Ok(json_of(&services.templates.get(&admin.tenant, &name).await?))
}
