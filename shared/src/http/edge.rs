//! What every request goes through before its route and after: the limits
//! of its head (answered with JSON, as every refusal is), a request id, and
//! one structured log line (method, route template, status, latency,
//! tenant, request id; never a header's value, so never a token).
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// Longest request target (path and query) accepted.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// Most bytes of header names and values, and most headers, accepted.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
pub const MAX_HEADERS: usize = 64;
/// The header a request id is read from (when a caller or API Gateway
/// sets one) and answered in.
pub const REQUEST_ID: &str = "x-request-id";
const MAX_REQUEST_ID_BYTES: usize = 128;

fn refuse(status: StatusCode, code: &str, message: String) -> Response {
    (status, Json(json!({ "error": code, "message": message }))).into_response()
}

/// The caller's request id if it is a short token of safe characters,
/// else a new one.
fn request_id(request: &Request) -> String {
    request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| !id.is_empty() && id.len() <= MAX_REQUEST_ID_BYTES && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

/// The tenant a route names: the first path segment of a `/{db}/...` route.
fn tenant<'a>(route: &str, request: &'a Request) -> &'a str {
    if !route.starts_with("/{db}") {
        return "";
    }
    let segment = request.uri().path().trim_start_matches('/').split('/').next().unwrap_or_default();
    // What a log line holds of it is bounded like a tenant id.
    &segment[..segment.char_indices().nth(64).map_or(segment.len(), |(i, _)| i)]
}

/// The address a request came from: the peer of the connection
/// (`herald-local`), or API Gateway's `sourceIp` (Lambda). A Tryton session
/// bound to an address is checked against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub std::net::IpAddr);

/// API Gateway's `requestContext.http.sourceIp`, as `lambda_http` hands it.
fn lambda_source(request: &Request) -> Option<ClientAddress> {
    match request.extensions().get::<lambda_http::request::RequestContext>()? {
        lambda_http::request::RequestContext::ApiGatewayV2(context) => context.http.source_ip.as_deref()?.parse().ok().map(ClientAddress),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

pub async fn middleware(mut request: Request, next: Next) -> Response {
    if request.extensions().get::<ClientAddress>().is_none() {
        if let Some(address) = lambda_source(&request) {
            request.extensions_mut().insert(address);
        }
    }
    let started = Instant::now();
    let id = request_id(&request);
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().map_or("(no route)", MatchedPath::as_str).to_owned();
    let tenant = tenant(&route, &request).to_owned();
    let uri_bytes = request.uri().path_and_query().map_or(0, |p| p.as_str().len());
    let header_bytes: usize = request.headers().iter().map(|(name, value)| name.as_str().len() + value.len()).sum();
    let mut response = if uri_bytes > MAX_URI_BYTES {
        refuse(StatusCode::URI_TOO_LONG, "uri_too_long", format!("the request target exceeds {MAX_URI_BYTES} bytes"))
    } else if header_bytes > MAX_HEADER_BYTES || request.headers().len() > MAX_HEADERS {
        refuse(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            format!("the headers exceed {MAX_HEADER_BYTES} bytes or {MAX_HEADERS} fields"),
        )
    } else {
        next.run(request).await
    };
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(target: "herald::request", request_id = %id, method = %method, route = %route, status, latency_ms, tenant = %tenant, "request");
    response
}
