//! Notification types (admin role): `PUT /{db}/types/{key}`, `GET /{db}/types`.
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{AdminTenant, Id, JsonBody, PageQuery};
use super::openapi::{BodyRefusals, Conflicts, PageParams, Refusals, TenantPath};
use super::ApiError;
use crate::notifications::{NotificationType, TypeKey, TypeRequest};
use crate::services::Services;

pub(super) fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new().routes(routes!(list_types)).routes(routes!(put_type))
}

/// A page of the tenant's types (its own over the defaults), by key.
#[derive(Debug, Serialize, ToSchema)]
pub struct TypePage {
    pub types: Vec<NotificationType>,
    pub next_cursor: Option<String>,
}

/// Creates or replaces the tenant's type `key`.
#[utoipa::path(
    put,
    path = "/{db}/types/{key}",
    tag = "types",
    params(TenantPath, ("key" = inline(TypeKey), Path, description = "The type's key")),
    request_body = TypeRequest,
    responses((status = 200, description = "Saved", body = NotificationType), Refusals, BodyRefusals, Conflicts)
)]
async fn put_type(State(services): State<Services>, admin: AdminTenant, Id(key): Id<TypeKey>, JsonBody(request): JsonBody<TypeRequest>) -> Result<Json<NotificationType>, ApiError> {
    Ok(Json(services.types.put(&admin.tenant, key, request).await?))
}

/// The tenant's types.
#[utoipa::path(
    get,
    path = "/{db}/types",
    tag = "types",
    params(TenantPath, PageParams),
    responses((status = 200, description = "A page of types", body = TypePage), Refusals)
)]
async fn list_types(State(services): State<Services>, admin: AdminTenant, page: PageQuery) -> Result<Json<TypePage>, ApiError> {
    let found = services.types.page(&admin.tenant, page.cursor.as_deref(), page.limit).await?;
    Ok(Json(TypePage { types: found.items, next_cursor: found.next }))
}
