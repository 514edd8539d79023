//! Notification types (admin role): `PUT /{db}/types/{key}`, `GET /{db}/types`.
use axum::extract::State;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::extract::{AdminTenant, Id, JsonBody, PageQuery};
use super::{json_of, ApiError};
use crate::notifications::{TypeKey, TypeRequest};
use crate::services::Services;

pub fn routes(services: Services) -> Router {
    Router::new()
        .route("/{db}/types", get(list_types))
        .route("/{db}/types/{key}", put(put_type))
        .with_state(services)
}

async fn put_type(State(services): State<Services>, admin: AdminTenant, Id(key): Id<TypeKey>, JsonBody(request): JsonBody<TypeRequest>) -> Result<Json<Value>, ApiError> {
    Ok(json_of(&services.types.put(&admin.tenant, key, request).await?))
}

async fn list_types(State(services): State<Services>, admin: AdminTenant, page: PageQuery) -> Result<Json<Value>, ApiError> {
    let found = services.types.page(&admin.tenant, page.cursor.as_deref(), page.limit).await?;
    Ok(Json(json!({ "types": found.items, "next_cursor": found.next })))
}
