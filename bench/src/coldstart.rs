//! `coldstart-bench`: each Lambda function's cold start, beside a
//! hello-world `lambda_runtime` function built the same way.
//!
//! The functions are the `bootstrap` files `cargo lambda build --release`
//! writes under `target/lambda/<name>/`. For each, `--runs` times: a fresh
//! Lambda Runtime API (the three routes a function uses, on loopback) is
//! started, the binary is spawned with the environment Lambda gives it, and
//! the bench times
//!
//! - **init**: spawn → the runtime's first `GET …/invocation/next` (what
//!   Lambda reports as Init Duration);
//! - **first invocation**: spawn → the first invocation's response posted;
//!
//! and reads the process's peak RSS (VmHWM) once it has answered. The
//! events need no network: the HTTP functions get a request without a token
//! (401, through the router and the authenticator), the outbox an empty SQS
//! batch; the check reads DynamoDB, so it runs against `AWS_ENDPOINT_URL`
//! (moto) when set and is timed to init only otherwise.
//!
//! Prints a table and writes `target/bench/coldstart.json`.
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use clap::Parser;
use serde_json::{json, Value};
use tokio::sync::Notify;

#[derive(Parser)]
#[command(about = "Cold start of each Lambda function against a hello-world function")]
struct Args {
    /// Where `cargo lambda build --release` put the functions.
    #[arg(long, default_value = "target/lambda")]
    lambda_dir: PathBuf,
    /// The repository's `events/` folder (fixtures).
    #[arg(long, default_value = "events")]
    events_dir: PathBuf,
    /// Cold starts per function.
    #[arg(long, default_value_t = 10)]
    runs: usize,
}

/// What one spawned runtime saw.
#[derive(Default)]
struct Seen {
    first_next: Option<Instant>,
    answered: Option<Instant>,
    error: Option<String>,
    served: bool,
}

#[derive(Clone)]
struct Runtime {
    event: Arc<Value>,
    seen: Arc<Mutex<Seen>>,
    done: Arc<Notify>,
}

impl Runtime {
    fn record(&self, f: impl FnOnce(&mut Seen)) {
        if let Ok(mut seen) = self.seen.lock() {
            f(&mut seen);
        }
        self.done.notify_one();
    }
}

async fn next(State(rt): State<Runtime>) -> impl IntoResponse {
    let first = {
        let Ok(mut seen) = rt.seen.lock() else { return StatusCode::INTERNAL_SERVER_ERROR.into_response() };
        seen.first_next.get_or_insert_with(Instant::now);
        !std::mem::replace(&mut seen.served, true)
    };
    if !first {
        // One invocation per cold start: the next one never comes.
        std::future::pending::<()>().await;
    }
    let mut headers = HeaderMap::new();
    let deadline = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default() + Duration::from_secs(30);
    headers.insert("lambda-runtime-aws-request-id", HeaderValue::from_static("coldstart-1"));
    headers.insert("lambda-runtime-deadline-ms", HeaderValue::from(deadline.as_millis() as u64));
    headers.insert("lambda-runtime-invoked-function-arn", HeaderValue::from_static("arn:aws:lambda:us-east-1:123456789012:function:bench"));
    headers.insert("lambda-runtime-trace-id", HeaderValue::from_static("Root=1-00000000-000000000000000000000000"));
    (headers, axum::Json(rt.event.as_ref().clone())).into_response()
}

async fn response(State(rt): State<Runtime>) -> StatusCode {
    rt.record(|seen| {
        seen.answered.get_or_insert_with(Instant::now);
    });
    StatusCode::ACCEPTED
}

async fn error(State(rt): State<Runtime>, body: String) -> StatusCode {
    rt.record(|seen| seen.error = Some(body));
    StatusCode::ACCEPTED
}

/// Peak resident memory of a process, in MiB (Linux).
fn peak_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok()).unwrap_or(0.0) / 1024.0
}

struct Sample {
    init: Duration,
    invocation: Option<Duration>,
    peak_rss_mib: f64,
}

async fn cold_start(binary: &Path, name: &str, event: Value, invoke: bool) -> anyhow::Result<Sample> {
    let rt = Runtime { event: Arc::new(event), seen: Arc::default(), done: Arc::new(Notify::new()) };
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(error))
        .with_state(rt.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let mut command = tokio::process::Command::new(binary);
    command
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("HERALD_JWT_SECRET", "coldstart-bench-secret-0123456789")
        // Set as the template sets it: no queue lookup at start.
        .env("HERALD_OUTBOX_QUEUE_URL", "http://127.0.0.1:9/000000000000/herald-outbox")
        .env("HERALD_EMAIL_FROM", "herald@example.com")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    if let Some(endpoint) = std::env::var_os("AWS_ENDPOINT_URL") {
        command.env("AWS_ENDPOINT_URL", endpoint);
    }
    for table in ["HERALD_BUS_TABLE", "HERALD_DATA_TABLE"] {
        if let Some(value) = std::env::var_os(table) {
            command.env(table, value);
        }
    }
    let spawned = Instant::now();
    let mut child = command.spawn().with_context(|| format!("spawning {}", binary.display()))?;
    let pid = child.id().unwrap_or(0);
    let deadline = spawned + Duration::from_secs(20);
    let outcome = loop {
        let (first_next, answered, failed) = {
            let seen = rt.seen.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
            (seen.first_next, seen.answered, seen.error.clone())
        };
        if let Some(body) = failed {
            break Err(anyhow::anyhow!("{name} reported an error: {body}"));
        }
        match (first_next, answered) {
            (Some(init), Some(done)) if invoke => break Ok((init, Some(done))),
            (Some(init), _) if !invoke => break Ok((init, None)),
            _ => {}
        }
        if Instant::now() > deadline {
            break Err(anyhow::anyhow!("{name} did not answer within 20 s"));
        }
        if let Ok(Some(status)) = child.try_wait() {
            break Err(anyhow::anyhow!("{name} exited early: {status}"));
        }
        let _ = tokio::time::timeout(Duration::from_millis(50), rt.done.notified()).await;
    };
    let peak = peak_rss_mib(pid);
    let _ = child.kill().await;
    server.abort();
    let (init, answered) = outcome?;
    Ok(Sample { init: init - spawned, invocation: answered.map(|a| a - spawned), peak_rss_mib: peak })
}

fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

fn fixture(dir: &Path, file: &str) -> anyhow::Result<Value> {
    let path = dir.join(file);
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?)?;
    // No token: the request goes through routing and authentication and is
    // refused (401) without touching a store.
    if let Some(headers) = event.get_mut("headers").and_then(Value::as_object_mut) {
        headers.remove("authorization");
    }
    Ok(event)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let has_dynamodb = std::env::var_os("AWS_ENDPOINT_URL").is_some();
    if has_dynamodb {
        let sdk = herald::adapters::aws::load_config().await;
        let client = herald::adapters::aws::DynamoClient::new(&sdk);
        let config = herald::config::Config::from_lookup(|name| (name == "HERALD_JWT_SECRET").then(|| "x".repeat(32)))?;
        herald::adapters::aws::tables::ensure_data_table(&client, &config.data_table).await?;
    }
    let functions: Vec<(&str, Value, bool)> = vec![
        ("hello", json!({"ping": 1}), true),
        ("bus", fixture(&args.events_dir, "bus-poll-unauthenticated.json")?, true),
        ("notify", fixture(&args.events_dir, "notify.json")?, true),
        ("api", fixture(&args.events_dir, "inbox-list.json")?, true),
        ("outbox", json!({"Records": []}), true),
        ("check", fixture(&args.events_dir, "check-schedule.json")?, has_dynamodb),
    ];
    let mut rows = Vec::new();
    let mut hello_invocation = f64::NAN;
    println!("| function | binary | init p50 | first invocation p50 | vs hello | peak RSS |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for (name, event, invoke) in functions {
        let binary = args.lambda_dir.join(name).join("bootstrap");
        let size_mb = std::fs::metadata(&binary).with_context(|| format!("{} (run cargo lambda build --release first)", binary.display()))?.len() as f64 / 1e6;
        eprintln!("{name}: {} cold starts…", args.runs);
        let mut samples = Vec::new();
        for _ in 0..args.runs {
            samples.push(cold_start(&binary, name, event.clone(), invoke).await?);
        }
        let init = median(samples.iter().map(|s| s.init.as_secs_f64() * 1e3).collect());
        let invocation = median(samples.iter().filter_map(|s| s.invocation).map(|d| d.as_secs_f64() * 1e3).collect());
        let rss = samples.iter().map(|s| s.peak_rss_mib).fold(0.0, f64::max);
        if name == "hello" {
            hello_invocation = invocation;
        }
        let ratio = invocation / hello_invocation;
        let shown = |v: f64| if v.is_nan() { "—".to_owned() } else { format!("{v:.1} ms") };
        let ratio_shown = if ratio.is_nan() { "—".to_owned() } else { format!("{ratio:.2}×") };
        println!("| {name} | {size_mb:.1} MB | {} | {} | {ratio_shown} | {rss:.1} MiB |", shown(init), shown(invocation));
        rows.push(json!({"function": name, "binary_mb": size_mb, "init_ms_p50": init, "first_invocation_ms_p50": if invocation.is_nan() { Value::Null } else { json!(invocation) },
            "ratio_to_hello": if ratio.is_nan() { Value::Null } else { json!(ratio) }, "peak_rss_mib": rss, "runs": args.runs, "event_reads_dynamodb": name == "check"}));
    }
    std::fs::create_dir_all("target/bench")?;
    std::fs::write("target/bench/coldstart.json", serde_json::to_string_pretty(&json!({"functions": rows}))?)?;
    Ok(())
}
