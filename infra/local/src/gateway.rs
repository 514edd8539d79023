use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRef, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use herald::config::Config;
use herald::domain::{Clock, ManualClock, StoreError};
use herald::events::{self, DrainReport, RunReport};
use herald::http::extract::{JsonBody, Operator};
use herald::http::ApiError;
use herald::services::Services;
use herald::adapters::embedded::{Database, Durability, Location};
use herald::config::Secret;
use herald::wiring::{Aws, Embedded, LocalGateway, Wiring};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{dev, Args};

#[derive(Clone)]
struct Local {
    services: Services,
    clock: Arc<ManualClock>,
    /// One drain of the outbox at a time, so a tick returns only once
    /// everything queued before it is handled.
    draining: Arc<tokio::sync::Mutex<()>>,
    /// The embedded database, which the sweeper keeps bounded (`None` on
    /// AWS, where DynamoDB's TTL does).
    database: Option<Arc<Database>>,
}

impl FromRef<Local> for Services {
    fn from_ref(local: &Local) -> Self {
        local.services.clone()
    }
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let mut config = Config::from_env()?;
    let limits = crate::serve::Limits::from_env()?;
    if let Some(dir) = args.mail_dir.clone() {
        config.mail_dir = dir;
    }
    // The store first: a second gateway on the same data directory stops
    // here, before it touches anything.
    let embedded = match (args.aws, args.memory) {
        (true, _) => None,
        (false, true) => Some(Embedded::memory()),
        (false, false) => {
            let durability = match args.sync {
                crate::SyncMode::Full => Durability::Full,
                crate::SyncMode::Normal => Durability::Normal,
            };
            Some(Embedded::open(&Location::Directory(args.data_dir.clone()), durability)?)
        }
    };
    let mut dev_tokens = None;
    let mut secret_file = None;
    if config.jwt_secret.is_none() {
        let secret = if embedded.is_some() && !args.memory {
            secret_file = Some(args.data_dir.join(herald::config::SECRET_FILE));
            Secret::kept_in(&args.data_dir).map_err(|e| anyhow::anyhow!("the token secret in {} cannot be kept: {e}", args.data_dir.display()))?
        } else {
            dev::generated_secret()
        };
        dev_tokens = Some((dev::token(&secret, &config.tokens, "1", true)?, dev::token(&secret, &config.tokens, "2", false)?));
        config.jwt_secret = Some(secret);
    }
    let mail_dir = config.mail_dir.clone();
    let token_lifetime = match config.tokens.max_lifetime_secs.min(30 * 86_400) {
        secs if secs >= 86_400 => format!("{} days", secs / 86_400),
        secs => format!("{} minutes", secs / 60),
    };
    let cors = herald::http::cors_layer(&config.cors);
    let clock = Arc::new(ManualClock::new());
    let database = embedded.as_ref().map(|e| e.database().clone());
    let services = match embedded {
        None => Wiring::new(config, Aws, LocalGateway).with_clock(clock.clone()).build().await?,
        Some(embedded) => Wiring::new(config, embedded, LocalGateway).with_clock(clock.clone()).build().await?,
    };

    let local = Local { services: services.clone(), clock, draining: Arc::default(), database };
    let app = herald::http::all_routes(services)
        .merge(
            Router::new()
                .route("/_local/tick", post(tick))
                .route("/_local/clock", post(advance_clock))
                .route("/openapi.json", get(openapi))
                .route("/health", get(health))
                .with_state(local.clone())
                .merge(crate::ui::routes())
                .layer(axum::middleware::from_fn(herald::http::edge::middleware)),
        )
        .layer(tower::util::option_layer(cors));

    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], args.port))).await?;
    let address = listener.local_addr()?;
    // Tests read this line to find the port.
    let store = match (args.aws, args.memory) {
        (true, _) => "aws".to_owned(),
        (false, true) => "memory: nothing is kept".to_owned(),
        (false, false) => format!("data in {}", args.data_dir.display()),
    };
    println!("herald-local listening on http://{address} ({store})");
    if let Some((admin, user)) = dev_tokens {
        match &secret_file {
            Some(path) => println!("HERALD_JWT_SECRET was not set: using the secret kept in {}. Tokens valid {token_lifetime}, any tenant:", path.display()),
            None => println!("HERALD_JWT_SECRET was not set: using a generated one. Tokens valid {token_lifetime}, any tenant:"),
        }
        println!("  admin (sub 1): {admin}");
        println!("  user  (sub 2): {user}");
    }
    if !args.aws {
        println!("emails are written to {}", mail_dir.display());
    }
    tokio::spawn(run_schedules(local.clone()));
    tokio::spawn(sweep_continuously(local.clone()));
    tokio::spawn(drain_continuously(local));
    crate::serve::serve(listener, app, limits, shutdown()).await;
    Ok(())
}

async fn shutdown() {
    let _ = tokio::signal::ctrl_c().await;
}

/// The scheduled jobs of template.yaml (`events::Job::ALL`: subscriptions
/// every 5 minutes in AWS, due notifications every minute), all run every
/// minute here (a subscription is only checked when due anyway).
async fn run_schedules(local: Local) {
    let mut every_minute = tokio::time::interval(Duration::from_secs(60));
    loop {
        every_minute.tick().await;
        if let Err(e) = run_jobs_once(&local).await {
            tracing::warn!(error = %e, "scheduled jobs failed; next run in a minute");
        }
    }
}

/// How often the sweeper deletes what expired (`HERALD_SWEEP_SECS`).
fn sweep_interval() -> Duration {
    let secs = std::env::var("HERALD_SWEEP_SECS").ok().and_then(|v| v.trim().parse::<u64>().ok()).filter(|s| (1..=86_400).contains(s)).unwrap_or(60);
    Duration::from_secs(secs)
}

/// The sweeper: what expired by the gateway's clock is deleted.
async fn sweep_continuously(local: Local) {
    let Some(database) = local.database.clone() else { return };
    let mut every = tokio::time::interval(sweep_interval());
    loop {
        every.tick().await;
        match database.sweep(local.clock.now()).await {
            Ok(report) if report.total() > 0 => tracing::info!(deleted = report.total(), ?report, "swept what expired"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "sweeping failed; next sweep in a while"),
        }
    }
}

/// The outbox function's SQS event source, in-process: drains the queue as
/// soon as a message is queued (embedded), and every 200 ms for what waits
/// for a retry (and on AWS, where nothing signals).
async fn drain_continuously(local: Local) {
    loop {
        if let Err(e) = drain(&local).await {
            tracing::warn!(error = %e, "outbox drain failed");
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        let every = tokio::time::sleep(Duration::from_millis(200));
        match &local.database {
            Some(database) => {
                tokio::select! {
                    () = database.queued() => {}
                    () = every => {}
                }
            }
            None => every.await,
        }
    }
}

async fn drain(local: &Local) -> Result<DrainReport, StoreError> {
    let _one_at_a_time = local.draining.lock().await;
    events::drain_outbox(&local.services).await
}

async fn run_jobs_once(local: &Local) -> Result<RunReport, StoreError> {
    events::run_all(&local.services, || drain(local)).await
}

/// `GET /openapi.json`: the API's contract (`docs/openapi.json`). Public,
/// as the document in the repository is: it holds no tenant's data.
async fn openapi() -> ([(axum::http::HeaderName, &'static str); 1], String) {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], herald::http::openapi::document_json())
}

/// `GET /health`: 200 if the store reads and writes, else 503. Public, for
/// load balancers and supervisors; it tells nothing but that.
async fn health(State(local): State<Local>) -> (axum::http::StatusCode, Json<Value>) {
    match local.services.health.check().await {
        Ok(()) => (axum::http::StatusCode::OK, Json(json!({ "status": "ok" }))),
        Err(e) => {
            tracing::warn!(error = %e, "health check failed");
            (axum::http::StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "error": "unavailable", "message": "the store does not answer" })))
        }
    }
}

/// `POST /_local/tick`: run every scheduled job once, drain the outbox and
/// sweep what expired.
async fn tick(State(local): State<Local>, _: Operator) -> Result<Json<Value>, ApiError> {
    let report = run_jobs_once(&local).await?;
    let mut answer = serde_json::to_value(report).unwrap_or(Value::Null);
    if let (Some(database), Value::Object(fields)) = (&local.database, &mut answer) {
        let swept = database.sweep(local.clock.now()).await?;
        fields.insert("swept".into(), serde_json::to_value(swept).unwrap_or(Value::Null));
    }
    Ok(Json(answer))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceClock {
    advance_secs: u64,
}

/// `POST /_local/clock` `{"advance_secs": N}`: move the gateway's clock forward.
async fn advance_clock(State(local): State<Local>, _: Operator, JsonBody(request): JsonBody<AdvanceClock>) -> Result<Json<Value>, ApiError> {
    if request.advance_secs > 10 * 365 * 24 * 3600 {
        return Err(ApiError::bad_request("advance_secs is limited to ten years"));
    }
    local.clock.advance(Duration::from_secs(request.advance_secs));
    Ok(Json(json!({ "now_ms": local.clock.now().as_millis() })))
}
