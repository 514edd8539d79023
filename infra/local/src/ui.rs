//! `GET /ui/`: the notification centre's demo page, and
//! `GET /ui/herald-notifications.js`: the `<herald-notifications>` element
//! (built from `web/` by esbuild; the built file is committed, so this binary
//! builds without npm). Public, as `/openapi.json` is: static files that hold
//! no tenant's data; the page reads its token from the URL fragment, which
//! the browser never sends.
use axum::http::{header, HeaderName, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

const DEMO_PAGE: &str = include_str!("../../../web/demo/index.html");
const ELEMENT: &str = include_str!("../../../web/dist/herald-notifications.js");

/// The demo page's policy: its own scripts and the API of its own origin,
/// nothing else (an item's HTML body cannot load or run anything foreign).
const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/ui", get(|| async { Redirect::permanent("/ui/") }))
        .route("/ui/", get(|| async { asset("text/html; charset=utf-8", DEMO_PAGE) }))
        .route("/ui/herald-notifications.js", get(|| async { asset("text/javascript; charset=utf-8", ELEMENT) }))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let headers: [(HeaderName, &'static str); 5] = [
        (header::CONTENT_TYPE, content_type),
        (header::CONTENT_SECURITY_POLICY, PAGE_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        // A new binary may serve a new element: browsers ask again each time.
        (header::CACHE_CONTROL, "no-cache"),
    ];
    (StatusCode::OK, headers, body).into_response()
}
