//! The HTTP routers. Each Lambda function serves one; the local gateway
//! merges them all. One code path for a request, in AWS and locally.
pub mod bus;
pub mod directory;
pub mod edge;
pub mod error;
pub mod extract;
pub mod inbox;
pub mod notifications;
pub mod notify;
pub mod records;
mod strict_json;
pub mod subscriptions;
pub mod templates;
pub mod types;

use std::time::Duration;

use axum::http::{header, HeaderValue, Method};
use axum::{Json, Router};
use tower_http::cors::{AllowOrigin, CorsLayer};
use serde::Serialize;
use serde_json::Value;

use crate::config::CorsOrigins;
use crate::services::Services;

pub use error::ApiError;

/// A stored value as the answer shows it.
fn json_of<T: Serialize>(value: &T) -> Json<Value> {
    Json(serde_json::to_value(value).unwrap_or(Value::Null))
}

/// Answers JSON for unknown routes and wrong methods too, and puts every
/// request through [`edge::middleware`] (limits of its head, request id,
/// its log line).
pub fn with_json_fallbacks(router: Router) -> Router {
    router
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(axum::middleware::from_fn(edge::middleware))
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

/// The api function's router: directory, types, inbox, resources and
/// records, subscriptions, templates.
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

/// The answers to browsers' CORS requests that `origins` allows. No origin
/// is echoed unless listed, and `*` never goes with credentials. In AWS,
/// API Gateway answers CORS itself (template.yaml's `CorsAllowOrigins`).
pub fn cors_layer(origins: &CorsOrigins) -> Option<CorsLayer> {
    let base = || {
        CorsLayer::new()
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::HeaderName::from_static(edge::REQUEST_ID)])
            .expose_headers([header::HeaderName::from_static(edge::REQUEST_ID)])
            .max_age(Duration::from_secs(600))
    };
    match origins {
        CorsOrigins::None => None,
        CorsOrigins::Any => Some(base().allow_origin(AllowOrigin::any())),
        CorsOrigins::Listed(listed) => {
            let values = listed.iter().filter_map(|o| HeaderValue::from_str(o).ok());
            Some(base().allow_origin(AllowOrigin::list(values)).allow_credentials(true))
        }
    }
}

/// Every route of every HTTP function: what the local gateway serves.
pub fn all_routes(services: Services) -> Router {
    with_json_fallbacks(bus::routes(services.clone()).merge(notify_routes(services.clone())).merge(api_routes(services)))
}
