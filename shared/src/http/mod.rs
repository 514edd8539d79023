//! The HTTP routers. Each Lambda function serves one; the local gateway
//! merges them all. One code path for a request, in AWS and locally.
pub mod body;
pub mod bus;
pub mod directory;
pub mod error;
pub mod inbox;
pub mod notifications;
pub mod notify;
pub mod records;
pub mod subscriptions;
pub mod templates;
pub mod types;

use axum::http::HeaderMap;
use axum::Router;

use crate::app::Services;
use crate::auth::Principal;
use crate::domain::TenantId;

pub use error::ApiError;

/// The tenant of the path, checked to be one the caller may use.
pub(crate) fn tenant(db: String) -> Result<TenantId, ApiError> {
    TenantId::parse(db).map_err(ApiError::bad_request)
}

/// An authenticated admin of the path's tenant, or the refusal (401/403/400).
pub(crate) fn authorize_admin(services: &Services, headers: &HeaderMap, db: String) -> Result<(Principal, TenantId), ApiError> {
    let principal = services.auth.authenticate(headers)?;
    let tenant = tenant(db)?;
    principal.require_tenant(&tenant)?;
    principal.require_admin()?;
    Ok((principal, tenant))
}

/// Answers JSON for unknown routes and wrong methods too.
pub fn with_json_fallbacks(router: Router) -> Router {
    router
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
}

/// The bus function's router (`POST /{db}/bus`).
pub fn bus_function(services: Services) -> Router {
    with_json_fallbacks(bus::routes(services))
}

/// The notify function's router: every way of sending (`POST /{db}/bus/publish`,
/// `POST /{db}/notify`, `/{db}/notifications`).
pub fn notify_function(services: Services) -> Router {
    with_json_fallbacks(notify_routes(services))
}

fn notify_routes(services: Services) -> Router {
    notify::routes(services.clone()).merge(notifications::routes(services))
}

/// The api function's router: directory, types, inbox, resources and records.
pub fn api_function(services: Services) -> Router {
    with_json_fallbacks(api_routes(services))
}

fn api_routes(services: Services) -> Router {
    directory::routes(services.clone())
        .merge(types::routes(services.clone()))
        .merge(inbox::routes(services.clone()))
        .merge(records::routes(services.clone()))
        .merge(subscriptions::routes(services.clone()))
        .merge(templates::routes(services))
}

/// Every route of every HTTP function: what the local gateway serves.
pub fn all_routes(services: Services) -> Router {
    with_json_fallbacks(bus::routes(services.clone()).merge(notify_routes(services.clone())).merge(api_routes(services)))
}
