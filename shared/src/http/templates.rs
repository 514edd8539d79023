//! Message templates (admin role): `PUT /{db}/templates/{name}` (checked:
//! it must compile and render a sample digest), `GET /{db}/templates/{name}`
//! (the tenant's own, else the bundled one).
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{AdminTenant, Id, JsonBody};
use super::openapi::{BodyRefusals, Conflicts, Refusals, TenantPath};
use super::ApiError;
use crate::services::Services;
use crate::subscriptions::Template;

pub(super) fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new().routes(routes!(put_template, get_template))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PutTemplate {
    /// A minijinja template.
    source: String,
}

/// Saves the tenant's own template `name`, once it compiles and renders a
/// sample.
#[utoipa::path(
    put,
    path = "/{db}/templates/{name}",
    tag = "templates",
    params(TenantPath, ("name" = String, Path, description = "A template name such as `notify_email_html`")),
    request_body = PutTemplate,
    responses((status = 200, description = "Saved", body = Template), Refusals, BodyRefusals, Conflicts)
)]
// The name is checked with the source, after the body is read.
async fn put_template(State(services): State<Services>, admin: AdminTenant, Id(name): Id<String>, JsonBody(request): JsonBody<PutTemplate>) -> Result<Json<Template>, ApiError> {
    Ok(Json(services.templates.put(&admin.tenant, &name, request.source).await?))
}

/// The tenant's own template `name`, else the bundled one.
#[utoipa::path(
    get,
    path = "/{db}/templates/{name}",
    tag = "templates",
    params(TenantPath, ("name" = String, Path, description = "A template name such as `notify_email_html`")),
    responses((status = 200, description = "The template", body = Template), Refusals)
)]
async fn get_template(State(services): State<Services>, admin: AdminTenant, Id(name): Id<String>) -> Result<Json<Template>, ApiError> {
    Ok(Json(services.templates.get(&admin.tenant, &name).await?))
}
