//! The Lambda functions' routers fed with real API Gateway v2 (HTTP API)
//! events: the JSON fixtures in `events/`, which `sam local invoke -e` takes
//! too (with `--env-vars events/env.json`, whose secret signed their tokens).
use std::sync::Arc;

use herald::app::Services;
use herald::config::Config;
use herald::domain::ManualClock;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

const FIXTURE_SECRET: &str = "herald-fixture-secret-0123456789";

fn services() -> Services {
    let config = Config::from_lookup(|name| match name {
        "HERALD_JWT_SECRET" => Some(FIXTURE_SECRET.into()),
        "HERALD_BUS_WAIT_SECS" => Some("1".into()),
        _ => None,
    })
    .expect("config");
    Services::embedded(&config, Arc::new(ManualClock::new())).expect("services")
}

fn event(name: &str) -> lambda_http::Request {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events").join(name);
    let text = std::fs::read_to_string(&path).expect("fixture");
    lambda_http::request::from_str(&text).expect("an API Gateway v2 event")
}

async fn invoke(router: axum::Router, name: &str) -> (u16, Value) {
    let response = router.oneshot(event(name)).await.expect("infallible");
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    (status, serde_json::from_slice(&bytes).expect("JSON"))
}

#[tokio::test]
async fn fixtures_go_through_the_function_routers() {
    let services = services();
    let notify = herald::http::notify_function(services.clone());
    let bus = herald::http::bus_function(services);

    let (status, reply) = invoke(notify.clone(), "notify.json").await;
    assert_eq!((status, reply["channel"].as_str()), (200, Some("user:5")));
    let (status, reply) = invoke(notify, "bus-publish.json").await;
    assert_eq!((status, reply["channel"].as_str()), (200, Some("user:5")));

    let (status, reply) = invoke(bus.clone(), "bus-poll.json").await;
    assert_eq!(status, 200);
    assert_eq!(reply["channel"], "user:5");
    assert_eq!(reply["message"]["title"], "Invoice posted");
    assert!(reply["message"]["message_id"].is_string());

    let (status, reply) = invoke(bus.clone(), "bus-poll-unauthenticated.json").await;
    assert_eq!((status, reply["error"].as_str()), (401, Some("unauthorized")));
    let (status, reply) = invoke(herald::http::api_function(self::services()), "user-put.json").await;
    assert_eq!((status, reply["groups"].clone()), (200, serde_json::json!(["manager"])));

    // The notify function does not serve the bus route, and says so in JSON.
    let (status, _) = invoke(herald::http::notify_function(self::services()), "bus-poll.json").await;
    assert_eq!(status, 404);
}
