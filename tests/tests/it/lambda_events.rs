//! The Lambda functions' routers fed with real API Gateway v2 (HTTP API)
//! events: the JSON fixtures in `events/`, which `sam local invoke -e` takes
//! too (with `--env-vars events/env.json`, whose secret signed their tokens).
use std::sync::Arc;

use herald::config::Config;
use herald::domain::ManualClock;
use herald::events;
use herald::services::Services;
use herald::wiring::{Embedded, LocalGateway, Wiring};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// The environment `sam local invoke --env-vars events/env.json` gives a
/// function: the secret that signed the fixtures' tokens, and a maximum
/// token lifetime that lets them live until 2100.
fn fixture_environment() -> std::collections::HashMap<String, String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/env.json");
    let functions: std::collections::HashMap<String, std::collections::HashMap<String, String>> =
        serde_json::from_str(&std::fs::read_to_string(path).expect("env.json")).expect("env.json is JSON");
    functions["ApiFunction"].clone()
}

async fn services() -> Services {
    let environment = fixture_environment();
    let config = Config::from_lookup(|name| match name {
        "HERALD_BUS_WAIT_SECS" => Some("1".into()),
        _ => environment.get(name).cloned(),
    })
    .expect("config");
    Wiring::new(config, Embedded::memory(), LocalGateway).with_clock(Arc::new(ManualClock::new())).build().await.expect("services")
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
    let services = services().await;
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
    let (status, reply) = invoke(herald::http::api_function(self::services().await), "user-put.json").await;
    assert_eq!((status, reply["groups"].clone()), (200, serde_json::json!(["manager"])));

    // The notify function does not serve the bus route, and says so in JSON.
    let (status, _) = invoke(herald::http::notify_function(self::services().await), "bus-poll.json").await;
    assert_eq!(status, 404);
}

/// A send through the notify function's router, the check on its
/// EventBridge event, the outbox on an SQS batch, the inbox through the api
/// function: the non-HTTP handlers take the event shapes AWS sends.
#[tokio::test]
async fn notification_fixtures_through_check_outbox_and_inbox() {
    use aws_lambda_events::event::eventbridge::EventBridgeEvent;
    use aws_lambda_events::event::sqs::SqsEvent;

    let clock = Arc::new(ManualClock::new());
    let environment = fixture_environment();
    let config = Config::from_lookup(|name| environment.get(name).cloned()).expect("config");
    let services = Wiring::new(config, Embedded::memory(), LocalGateway).with_clock(clock.clone()).build().await.expect("services");
    let user: herald::directory::UserRequest = serde_json::from_value(serde_json::json!({
        "login": "eve", "email": null, "active": true, "groups": [], "companies": [], "follower": null,
        "account_type": null, "locale": null, "timezone": null, "contacts": []
    }))
    .expect("user");
    let tenant = herald::domain::TenantId::parse("demo").expect("tenant");
    services.directory.put_user(&tenant, herald::domain::UserId::parse("5").expect("id"), user).await.expect("put user");

    let (status, sent) = invoke(herald::http::notify_function(services.clone()), "notification-send.json").await;
    assert_eq!((status, sent["outcome"].as_str()), (202, Some("published")), "{sent}");

    // A notification due in a second, published by the scheduled check.
    let mut later = herald::notifications::SendRequest {
        key: herald::notifications::TypeKey::parse("message:system").expect("key"),
        title: "Later".into(),
        body: String::new(),
        body_html: None,
        recipients: serde_json::from_value(serde_json::json!({"users": ["5"]})).expect("recipients"),
        due_at: None,
        until: None,
        force_channel: None,
        context: None,
        idempotency_key: None,
    };
    later.due_at = Some(herald::domain::Clock::now(clock.as_ref()).plus(std::time::Duration::from_secs(1)));
    services.notifier.send(&tenant, later).await.expect("schedule");
    clock.advance(std::time::Duration::from_secs(2));
    let schedule_event = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/check-schedule.json")).expect("fixture");
    let _: EventBridgeEvent = serde_json::from_str(&schedule_event).expect("an EventBridge event");
    let report = events::scheduled(&services, &serde_json::from_str(&schedule_event).expect("json")).await.expect("check");
    assert_eq!((report["notifications"]["published"].as_u64(), report["notifications"]["deliveries"].as_u64()), (Some(1), Some(1)));
    let subscriptions_event = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/check-subscriptions.json")).expect("fixture");
    let report = events::scheduled(&services, &serde_json::from_str(&subscriptions_event).expect("json")).await.expect("check");
    assert_eq!(report["subscriptions"]["checked"], 0);

    // The outbox fixture: an unknown delivery is done, a malformed body is
    // reported as a batch item failure (and so reaches the DLQ).
    let sqs_event = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/outbox-sqs.json")).expect("fixture");
    let batch: SqsEvent = serde_json::from_str(&sqs_event).expect("an SQS event");
    let response = events::outbox_batch(&services, batch).await;
    let failed: Vec<&str> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    assert_eq!(failed, ["22222222-2222-4222-8222-222222222222"]);

    events::drain_outbox(&services).await.expect("drain");
    let (status, inbox) = invoke(herald::http::api_function(services), "inbox-list.json").await;
    assert_eq!(status, 200, "{inbox}");
    let titles: Vec<&str> = inbox["items"].as_array().expect("items").iter().filter_map(|i| i["title"].as_str()).collect();
    assert_eq!(titles, ["Later", "Invoice posted"]);
}
