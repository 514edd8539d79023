//! `subscriptions-bench`: one subscription check, measured.
//!
//! - embedded: 10,000 due subscriptions (1,000 users × 10 filters), 100,000
//!   records of which 1% changed since the last check: the check's wall
//!   time, digests, and memory;
//! - DynamoDB (moto; needs `AWS_ENDPOINT_URL`): requests of one check at
//!   two sizes with the same due subscriptions and changed records but four
//!   times the records and subscriptions in total, counted over every store
//!   of the wiring, to show the cost follows what is due and what changed.
//!
//! Prints a report and writes `target/bench/subscriptions.json`. See
//! docs/benchmarks.md.
mod setup;
mod worlds;

use std::time::Instant;

use clap::Parser;
use herald::wiring::{Aws, Embedded, LocalGateway, Wiring};
use serde_json::json;
use setup::{config, durable};
use worlds::world;

#[derive(Parser)]
#[command(about = "One subscription check: wall time, memory, DynamoDB requests")]
struct Args {
    #[arg(long, default_value_t = 1000)]
    users: usize,
    /// Subscriptions per user.
    #[arg(long, default_value_t = 10)]
    per_user: usize,
    #[arg(long, default_value_t = 100_000)]
    records: usize,
    /// Percent of the records changed since the last check.
    #[arg(long, default_value_t = 1.0)]
    changed_percent: f64,
}

/// Resident and peak memory of this process, in MiB (Linux).
fn memory_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok()).unwrap_or(0.0) / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn embedded_run(args: &Args, store: Embedded, name: &str) -> anyhow::Result<serde_json::Value> {
    let subscriptions = args.users * args.per_user;
    let changed = ((args.records as f64) * args.changed_percent / 100.0).round() as usize;
    eprintln!("embedded {name}: {subscriptions} subscriptions, {} records, {changed} changed…", args.records);
    let w = world(Wiring::new(config(None)?, store, LocalGateway), args.users, subscriptions, 0, args.records, changed).await?;
    let (rss_before, _) = memory_mib();
    // A profiler may attach here (docs/benchmarks.md, "Subscription check").
    eprintln!("embedded {name}: checking (pid {})…", std::process::id());
    let start = Instant::now();
    let report = w.services.checker.run().await?;
    let secs = start.elapsed().as_secs_f64();
    let (rss_after, peak) = memory_mib();
    let _ = (&w.tenant, &w.clock);
    println!(
        "check (embedded {name}): {subscriptions} due subscriptions, {} records, {changed} changed: {:.2} s, {} digests, RSS +{:.0} MiB during the check (peak {:.0} MiB)",
        args.records, secs, report.digests, rss_after - rss_before, peak
    );
    Ok(json!({"subscriptions": subscriptions, "records": args.records, "changed": changed, "wall_secs": secs, "digests": report.digests,
        "checked": report.checked, "rss_growth_mib": rss_after - rss_before, "peak_rss_mib": peak}))
}

/// DynamoDB requests of one check at one size.
async fn dynamodb_run(due: usize, idle: usize, records: usize, changed: usize) -> anyhow::Result<serde_json::Value> {
    let tables = format!("bench-subscriptions-{}-{records}", std::process::id());
    let w = world(Wiring::new(config(Some(tables))?, Aws, LocalGateway), 50, due, idle, records, changed).await?;
    let before = w.requests.get();
    let report = w.services.checker.run().await?;
    let requests = w.requests.get() - before;
    println!(
        "check (DynamoDB): {due} due of {} subscriptions, {changed} changed of {records} records: {requests} requests ({:.2} per due subscription), {} digests",
        due + idle,
        requests as f64 / due as f64,
        report.digests
    );
    Ok(json!({"due": due, "subscriptions": due + idle, "records": records, "changed": changed, "requests": requests, "digests": report.digests}))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let embedded = embedded_run(&args, Embedded::memory(), "in memory").await?;
    let on_disk = embedded_run(&args, durable("subscriptions")?, "on disk").await?;
    let dynamodb = if std::env::var_os("AWS_ENDPOINT_URL").is_some() {
        eprintln!("DynamoDB requests per check on moto, two sizes…");
        Some(json!([dynamodb_run(50, 0, 300, 10).await?, dynamodb_run(50, 150, 1200, 10).await?]))
    } else {
        println!("check (DynamoDB): skipped (AWS_ENDPOINT_URL not set)");
        None
    };
    std::fs::create_dir_all("target/bench")?;
    std::fs::write("target/bench/subscriptions.json", serde_json::to_string_pretty(&json!({"embedded": embedded, "durable": on_disk, "dynamodb": dynamodb}))?)?;
    Ok(())
}
