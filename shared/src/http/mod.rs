//! The HTTP routers. Each Lambda function serves one; the local gateway
//! merges them all. One code path for a request, in AWS and locally.
pub mod body;
pub mod bus;
pub mod directory;
pub mod error;
pub mod notify;

use axum::Router;

pub use error::ApiError;

/// Answers JSON for unknown routes and wrong methods too.
pub fn with_json_fallbacks(router: Router) -> Router {
    router
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
}

/// The bus function's router (`POST /{db}/bus`).
pub fn bus_function(services: crate::app::Services) -> Router {
    with_json_fallbacks(bus::routes(services))
}

/// The notify function's router (`POST /{db}/bus/publish`, `POST /{db}/notify`).
pub fn notify_function(services: crate::app::Services) -> Router {
    with_json_fallbacks(notify::routes(services))
}

/// The api function's router (directory; later inbox, subscriptions).
pub fn api_function(services: crate::app::Services) -> Router {
    with_json_fallbacks(directory::routes(services))
}

/// Every route of every HTTP function: what the local gateway serves.
pub fn all_routes(services: crate::app::Services) -> Router {
    with_json_fallbacks(
        bus::routes(services.clone()).merge(notify::routes(services.clone())).merge(directory::routes(services)),
    )
}
