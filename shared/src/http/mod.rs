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
pub mod openapi;
pub mod records;
mod strict_json;
pub mod subscriptions;
pub mod templates;
pub mod tryton;
pub mod types;

use std::time::Duration;

use axum::http::{header, HeaderValue, Method};
use axum::Router;
use tower_http::cors::{AllowOrigin, CorsLayer};
use utoipa_axum::router::OpenApiRouter;

use crate::config::CorsOrigins;
use crate::services::Services;

pub use error::ApiError;

/// Routes with their description; the state is given when served.
type Routes = OpenApiRouter<Services>;

fn serve(routes: Routes, services: Services) -> Router {
    with_json_fallbacks(routes.with_state(services).split_for_parts().0)
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

/// Serves `router` as a Lambda function: on Managed Instances, up to
/// `AWS_LAMBDA_MAX_CONCURRENCY` invocations at once in this process (one
/// task each, sharing the services, the bus's watcher among them); on
/// classic Lambda (the variable unset), one at a time.
pub async fn serve_lambda(router: Router) -> Result<(), lambda_http::Error> {
    use tower::ServiceExt;
    lambda_http::run_concurrent(lambda_http::service_fn(move |request: lambda_http::Request| {
        let router = router.clone();
        async move {
            let response = router.oneshot(request).await.unwrap_or_else(|never| match never {});
            // Read the body here: the runtime hands responses across tasks,
            // and an axum body is not `Sync`.
            Ok::<_, lambda_http::Error>(lambda_http::IntoResponse::into_response(response).await)
        }
    }))
    .await
}

/// The bus function's router (`POST /{db}/bus`).
pub fn bus_function(services: Services) -> Router {
    serve(bus::routes(), services)
}

/// The notify function's router: every way of sending (`POST /{db}/bus/publish`,
/// `POST /{db}/notify`, `/{db}/notifications`).
pub fn notify_function(services: Services) -> Router {
    serve(notify_routes(), services)
}

fn notify_routes() -> Routes {
    notify::routes().merge(notifications::routes())
}

/// The api function's router: directory, types, inbox, resources and
/// records, subscriptions, templates.
pub fn api_function(services: Services) -> Router {
    serve(api_routes(), services)
}

fn api_routes() -> Routes {
    directory::routes()
        .merge(types::routes())
        .merge(inbox::routes())
        .merge(records::routes())
        .merge(subscriptions::routes())
        .merge(templates::routes())
        .merge(tryton::routes())
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

/// Every route of every HTTP function, described.
fn every_route() -> Routes {
    bus::routes().merge(notify_routes()).merge(api_routes())
}

/// Every route of every HTTP function: what the local gateway serves.
pub fn all_routes(services: Services) -> Router {
    serve(every_route(), services)
}
