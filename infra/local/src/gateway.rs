use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use herald::app::Services;
use herald::config::Config;
use herald::domain::ManualClock;
use herald::http::{body, ApiError};
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
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let mut config = Config::from_env()?;
    if let Some(dir) = args.mail_dir.clone() {
        config.mail_dir = dir;
    }
    let mut dev_tokens = None;
    if config.jwt_secret.is_none() {
        let secret = dev::generated_secret();
        dev_tokens = Some((dev::token(&secret, "1", true)?, dev::token(&secret, "2", false)?));
        config.jwt_secret = Some(secret);
    }
    let clock = Arc::new(ManualClock::new());
    let services = if args.aws {
        let aws = Services::aws(&config, clock.clone()).await?;
        aws.ensure_tables().await?;
        aws.services
    } else {
        Services::embedded(&config, clock.clone())?
    };

    let local = Local { services: services.clone(), clock, draining: Arc::default() };
    let app = herald::http::all_routes(services)
        .merge(
            Router::new()
                .route("/_local/tick", post(tick))
                .route("/_local/clock", post(advance_clock))
                .with_state(local.clone()),
        )
        .layer(tower_http::cors::CorsLayer::very_permissive());

    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], args.port))).await?;
    let address = listener.local_addr()?;
    // Tests read this line to find the port.
    println!("herald-local listening on http://{address} ({})", if args.aws { "aws" } else { "embedded" });
    if let Some((admin, user)) = dev_tokens {
        println!("HERALD_JWT_SECRET was not set: using a generated one. Tokens valid 30 days, any tenant:");
        println!("  admin (sub 1): {admin}");
        println!("  user  (sub 2): {user}");
    }
    if !args.aws {
        println!("emails are written to {}", config.mail_dir.display());
    }
    tokio::spawn(run_schedules(local.clone()));
    tokio::spawn(drain_continuously(local));
    axum::serve(listener, app).with_graceful_shutdown(shutdown()).await?;
    Ok(())
}

async fn shutdown() {
    let _ = tokio::signal::ctrl_c().await;
}

/// The scheduled jobs of template.yaml (the check: notifications every
/// minute, subscriptions every 5 minutes), both run every minute here (a
/// subscription is only checked when due anyway).
async fn run_schedules(local: Local) {
    let mut every_minute = tokio::time::interval(Duration::from_secs(60));
    loop {
        every_minute.tick().await;
        if let Err(e) = run_jobs_once(&local).await {
            tracing::warn!(error = %e, "scheduled jobs failed; next run in a minute");
        }
    }
}

/// The outbox function's SQS event source, in-process: drains the queue
/// every 200 ms.
async fn drain_continuously(local: Local) {
    loop {
        if let Err(e) = drain(&local).await {
            tracing::warn!(error = %e, "outbox drain failed");
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn drain(local: &Local) -> Result<herald::outbox::DrainReport, herald::ports::StoreError> {
    let _one_at_a_time = local.draining.lock().await;
    local.services.outbox.drain(local.services.outbox_consumer.as_ref()).await
}

/// The subscription check first (its digests are published at once), then
/// the due notifications, then the outbox.
async fn run_jobs_once(local: &Local) -> Result<Value, herald::ports::StoreError> {
    let subscriptions = local.services.checker.run().await?;
    let check = local.services.notifier.run_due().await?;
    let outbox = drain(local).await?;
    Ok(json!({ "subscriptions": subscriptions, "check": check, "outbox": outbox }))
}

async fn require_admin(local: &Local, headers: &HeaderMap) -> Result<(), ApiError> {
    local.services.auth.authenticate(headers)?.require_admin()?;
    Ok(())
}

/// `POST /_local/tick`: run every scheduled job once and drain the outbox.
async fn tick(State(local): State<Local>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    require_admin(&local, &headers).await?;
    Ok(Json(run_jobs_once(&local).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceClock {
    advance_secs: u64,
}

/// `POST /_local/clock` `{"advance_secs": N}`: move the gateway's clock forward.
async fn advance_clock(
    State(local): State<Local>,
    headers: HeaderMap,
    request: axum::body::Body,
) -> Result<Json<Value>, ApiError> {
    require_admin(&local, &headers).await?;
    let request: AdvanceClock = body::parse(body::json_object(request).await?)?;
    if request.advance_secs > 10 * 365 * 24 * 3600 {
        return Err(ApiError::bad_request("advance_secs is limited to ten years"));
    }
    local.clock.advance(Duration::from_secs(request.advance_secs));
    Ok(Json(json!({ "now_ms": herald::domain::Clock::now(local.clock.as_ref()).as_millis() })))
}
