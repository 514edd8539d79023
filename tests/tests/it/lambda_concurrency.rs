//! The `bus` function's binary as Lambda Managed Instances run it (issue 15):
//! a Lambda Runtime API stub hands out invocations to one process started
//! with `AWS_LAMBDA_MAX_CONCURRENCY=1000`, on DynamoDB (moto). The process
//! holds a thousand waiting polls at once; each poll a message is published
//! for (by another process) gets it, once; the idle ones answer empty when
//! their wait ends.
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use herald::bus::ChannelKey;
use herald::config::Config;
use herald::domain::{TenantId, UserId};
use herald::wiring::{Aws, LocalGateway, Wiring};
use herald_tests::{fresh_table, user_token, DB, SECRET};
use futures::StreamExt;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::time::Instant;

const POLLS: usize = 1000;
/// Long enough for every invocation to arrive and every publish to be
/// done well before the first poll's wait ends, on a busy moto.
const WAIT_SECS: u64 = 30;
/// Invocations the stub hands out per tenth of a second: they arrive over
/// a few seconds, as clients connect (moto serves one request at a time).
const ARRIVALS_PER_TICK: usize = 25;

fn bus_binary() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/debug/bus");
    assert!(path.exists(), "{} is missing: run `cargo build --bins` (scripts/test does)", path.display());
    path
}

/// The Runtime API's side of the invocations.
struct Stub {
    invocations: tokio::sync::Mutex<mpsc::UnboundedReceiver<(String, Value)>>,
    handed_out: Mutex<HashMap<String, Instant>>,
    answers: Mutex<Vec<(String, Instant, Value)>>,
    errors: Mutex<Vec<String>>,
}

async fn next(State(stub): State<Arc<Stub>>) -> axum::response::Response {
    // As the real API: the request waits until there is an invocation.
    let Some((id, event)) = stub.invocations.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    stub.handed_out.lock().expect("stub").insert(id.clone(), Instant::now());
    let deadline = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default() + Duration::from_secs(900);
    let mut headers = HeaderMap::new();
    headers.insert("lambda-runtime-aws-request-id", HeaderValue::from_str(&id).expect("id"));
    headers.insert("lambda-runtime-deadline-ms", HeaderValue::from(deadline.as_millis() as u64));
    headers.insert("lambda-runtime-invoked-function-arn", HeaderValue::from_static("arn:aws:lambda:us-east-1:123456789012:function:bus"));
    (headers, axum::Json(event)).into_response()
}

async fn response(State(stub): State<Arc<Stub>>, Path(id): Path<String>, body: String) -> StatusCode {
    let answer = serde_json::from_str(&body).unwrap_or(Value::String(body));
    stub.answers.lock().expect("stub").push((id, Instant::now(), answer));
    StatusCode::ACCEPTED
}

async fn error(State(stub): State<Arc<Stub>>, body: String) -> StatusCode {
    stub.errors.lock().expect("stub").push(body);
    StatusCode::ACCEPTED
}

/// An HTTP API (payload 2.0) event of `POST /demo/bus` by `user`, as
/// `events/bus-poll.json` (a function URL sends the same format).
fn poll_event(user: usize) -> Value {
    let mut event: Value = serde_json::from_str(include_str!("../../../events/bus-poll.json")).expect("event fixture");
    event["headers"]["authorization"] = json!(format!("Bearer {}", user_token(&user.to_string())));
    event["requestContext"]["requestId"] = json!(format!("poll-{user}"));
    event["body"] = json!(json!({"last_message": null, "channels": [format!("user:{user}")]}).to_string());
    event
}

fn config(table: &str) -> Config {
    let table = table.to_owned();
    Config::from_lookup(move |name| match name {
        "HERALD_JWT_SECRET" => Some(SECRET.into()),
        "HERALD_BUS_TABLE" => Some(table.clone()),
        "HERALD_DATA_TABLE" => Some(format!("{table}-data")),
        _ => None,
    })
    .expect("config")
}

/// The most invocations in flight at once, from when each was handed out
/// and answered.
fn peak_in_flight(handed_out: &HashMap<String, Instant>, answers: &[(String, Instant, Value)]) -> usize {
    let mut events: Vec<(Instant, i64)> = handed_out.values().map(|t| (*t, 1)).chain(answers.iter().map(|(_, t, _)| (*t, -1))).collect();
    events.sort();
    let (mut running, mut peak) = (0i64, 0i64);
    for (_, step) in events {
        running += step;
        peak = peak.max(running);
    }
    peak as usize
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_bus_process_holds_a_thousand_polls() {
    let table = fresh_table();
    // The tables, as template.yaml creates them; this process is the
    // publisher (the notify function, in AWS).
    let publisher = Wiring::new(config(&table), Aws, LocalGateway).build().await.expect("wiring on moto");

    let (invocations, queue) = mpsc::unbounded_channel();
    let stub = Arc::new(Stub { invocations: tokio::sync::Mutex::new(queue), handed_out: Default::default(), answers: Default::default(), errors: Default::default() });
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(error))
        .with_state(stub.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let mut command = tokio::process::Command::new(bus_binary());
    command
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
        .env("AWS_LAMBDA_MAX_CONCURRENCY", POLLS.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "bus")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "2048")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bus")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL: run the suite with scripts/test"))
        .env("HERALD_JWT_SECRET", SECRET)
        .env("HERALD_BUS_TABLE", &table)
        .env("HERALD_DATA_TABLE", format!("{table}-data"))
        .env("HERALD_OUTBOX_QUEUE_URL", "http://127.0.0.1:9/000000000000/herald-outbox")
        .env("HERALD_EMAIL_FROM", "herald@example.com")
        .env("HERALD_BUS_WAIT_SECS", WAIT_SECS.to_string())
        .env("HERALD_BUS_POLL_MS", "500")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .kill_on_drop(true);
    let mut bus = command.spawn().expect("the bus binary starts");

    // A thousand users connect over a few seconds.
    for (user, event) in (1..=POLLS).map(|user| (user, poll_event(user))) {
        invocations.send((format!("poll-{user}"), event)).expect("queued");
        if user % ARRIVALS_PER_TICK == 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let started = Instant::now();
    while stub.handed_out.lock().expect("stub").len() < POLLS {
        assert!(started.elapsed() < Duration::from_secs(30), "the process took {} invocations", stub.handed_out.lock().expect("stub").len());
        assert!(bus.try_wait().expect("status").is_none(), "the bus process exited");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(stub.answers.lock().expect("stub").is_empty(), "no poll answered before anything was published");

    // Another process publishes for every tenth user.
    let tenant = TenantId::parse(DB).expect("tenant");
    let publishes = futures::stream::iter((1..=POLLS).filter(|u| u.is_multiple_of(10))).map(|user| {
        let (bus, tenant) = (publisher.bus.clone(), tenant.clone());
        async move {
            let key = ChannelKey::user(&UserId::parse(user.to_string()).expect("user"));
            bus.publish(&tenant, &key, &json!({"for": user}).as_object().cloned().unwrap_or_default()).await
        }
    });
    let published: Vec<_> = publishes.buffer_unordered(8).collect().await;
    assert!(published.iter().all(Result::is_ok), "every publish succeeded");

    let deadline = Instant::now() + Duration::from_secs(WAIT_SECS + 60);
    while stub.answers.lock().expect("stub").len() < POLLS && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = bus.kill().await;
    server.abort();

    let errors = stub.errors.lock().expect("stub").clone();
    assert!(errors.is_empty(), "invocation errors: {errors:?}");
    let handed_out = stub.handed_out.lock().expect("stub").clone();
    let answers = stub.answers.lock().expect("stub").clone();
    assert_eq!(answers.len(), POLLS, "every invocation answered once");
    assert_eq!(peak_in_flight(&handed_out, &answers), POLLS, "one process held every poll at once");
    let mut answered: HashMap<&str, usize> = HashMap::new();
    for (id, at, answer) in &answers {
        *answered.entry(id.as_str()).or_default() += 1;
        let user: usize = id.trim_start_matches("poll-").parse().expect("id");
        assert_eq!(answer["statusCode"], 200, "{id}: {answer}");
        let body: Value = serde_json::from_str(answer["body"].as_str().expect("a body")).expect("JSON body");
        let waited = at.duration_since(handed_out[id]);
        if user.is_multiple_of(10) {
            assert_eq!(body["channel"], format!("user:{user}"), "{id} got its own channel's message");
            assert_eq!(body["message"]["for"], user, "{id}: {body}");
            // Not the last look a poll takes when its wait ends: woken.
            assert!(waited < Duration::from_secs(WAIT_SECS), "{id} answered after {waited:?}, at its deadline: never woken");
        } else {
            assert_eq!(body, json!({"channel": null, "message": null}), "{id} had nothing published for it");
            assert!(waited >= Duration::from_secs(WAIT_SECS), "{id} answered after {waited:?}, before its wait ended");
            assert!(waited < Duration::from_secs(WAIT_SECS + 15), "{id} answered {waited:?} after it arrived, long after its wait ended");
        }
    }
    assert!(answered.values().all(|n| *n == 1), "no invocation answered twice");
}
