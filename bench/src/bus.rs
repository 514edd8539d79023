//! `bus-bench`: the bus on the local gateway (embedded store), measured.
//!
//! - publish→receive latency of one long-polling client (p50/p99);
//! - messages delivered per second to 100 concurrent pollers of one channel
//!   (the median of `--rounds` rounds, each on a fresh channel: one noisy
//!   moment of a shared machine does not make the figure);
//! - DynamoDB requests per second of an idle poll, from the adapter's own
//!   count (needs `AWS_ENDPOINT_URL`, e.g. moto server; skipped otherwise).
//!
//! Prints a report and writes `target/bench/bus.json`. See docs/benchmarks.md.
mod setup;

use std::time::{Duration, Instant};

use clap::Parser;
use herald::adapters::aws::tables;
use herald::bus::channel::authorize_subscriptions;
use herald::bus::ChannelGrants;
use herald::domain::{TenantId, UserId};
use herald::wiring::{Aws, BusFunction, Wiring};
use herald_tests::{admin_token, message, message_id, token_with, Gateway, GatewayOptions, Store, TokenSpec, DB};
use serde_json::json;

#[derive(Parser)]
#[command(about = "Bus latency, throughput and idle cost")]
struct Args {
    /// Latency samples.
    #[arg(long, default_value_t = 300)]
    samples: usize,
    /// Concurrent pollers for the throughput run.
    #[arg(long, default_value_t = 100)]
    pollers: usize,
    /// Messages published in the throughput run.
    #[arg(long, default_value_t = 200)]
    messages: usize,
    /// Throughput rounds (the median is reported).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Seconds of idle polling measured on DynamoDB.
    #[arg(long, default_value_t = 10)]
    idle_secs: u64,
    /// Idle clients in one process for that measure.
    #[arg(long, default_value_t = 250)]
    idle_clients: usize,
    /// Polls waiting, each on its own user's channel of another tenant,
    /// while the publish rate is measured again (issues 11 and 15).
    #[arg(long, default_value_t = 2000)]
    waiting: usize,
    /// Seconds each publish rate is measured.
    #[arg(long, default_value_t = 5)]
    publish_secs: u64,
    /// Messages retained for the disk-size measure.
    #[arg(long, default_value_t = 20_000)]
    disk_messages: usize,
}

/// The size of a compact copy of the database (`herald-local backup`).
async fn backup_size(dir: &std::path::Path, name: &str) -> anyhow::Result<u64> {
    let file = dir.with_extension(format!("{name}.db"));
    let _ = std::fs::remove_file(&file);
    let out = tokio::process::Command::new(herald_tests::local_gateway_binary()).arg("--data-dir").arg(dir).arg("backup").arg(&file).output().await?;
    anyhow::ensure!(out.status.success(), "backup failed: {}", String::from_utf8_lossy(&out.stderr));
    Ok(std::fs::metadata(&file)?.len())
}

/// Bytes on disk per message kept, for messages the size of a Tryton
/// notification, on a fresh gateway: the live files' growth (database and
/// its write-ahead log, which is reused, not shrunk, after checkpoints) and
/// a compact copy's.
async fn disk_bytes_per_message(messages: usize) -> anyhow::Result<(f64, f64)> {
    let dir = herald_tests::fresh_dir("bench-data");
    let gw = Gateway::start_with(GatewayOptions { data_dir: Some(dir.clone()), ..GatewayOptions::new(Store::Embedded) }).await;
    let size = || ["herald.db", "herald.db-wal"].iter().map(|f| std::fs::metadata(dir.join(f)).map(|m| m.len()).unwrap_or(0)).sum::<u64>();
    let before = size();
    let compact_before = backup_size(&dir, "before").await?;
    let admin = admin_token();
    let (url, http) = (gw.url.clone(), gw.http.clone());
    let mut publishers = tokio::task::JoinSet::new();
    for p in 0..8 {
        let (url, http, admin) = (url.clone(), http.clone(), admin.clone());
        publishers.spawn(async move {
            for i in (p..messages).step_by(8) {
                let body = json!({"title": format!("Invoice INV-{i:05} posted"), "body": "Customer: Example SA, amount 1,234.00 EUR", "priority": 1, "user": 2 + i % 50});
                let reply = http.post(format!("{url}/{DB}/notify")).bearer_auth(&admin).json(&body).send().await?;
                anyhow::ensure!(reply.status().as_u16() == 200, "notify answered {}", reply.status());
            }
            Ok(())
        });
    }
    while let Some(done) = publishers.join_next().await {
        done??;
    }
    let live = size().saturating_sub(before) as f64 / messages as f64;
    let compact = backup_size(&dir, "after").await?.saturating_sub(compact_before) as f64 / messages as f64;
    Ok((live, compact))
}

/// Publishes per second by 8 concurrent publishers on one channel, while
/// `waiting` polls wait, each on its own user's channel, in another tenant
/// that nothing is published to. A publish should wake only its own
/// channel's polls, and waiting polls should cost nothing.
/// Fails if a waiting poll answered during the measurement (it did not
/// wait: it failed, or the gateway refused it), as the rate would then
/// measure that load.
async fn publish_rate(gw: &Gateway, waiting: usize, secs: u64) -> anyhow::Result<f64> {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;
    let (measuring, answered) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(0)));
    let mut waiters = tokio::task::JoinSet::new();
    // Their own connection pool: the publishers' is then the one a lone
    // publisher has, and the figure is the gateway's, not the client's.
    let waiting_http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
    for user in 0..waiting {
        let token = token_with(TokenSpec { sub: &(1000 + user).to_string(), db: herald::auth::TenantClaim::One("quiet".into()), ..Default::default() });
        let (url, http, measuring, answered) = (gw.url.clone(), waiting_http.clone(), measuring.clone(), answered.clone());
        waiters.spawn(async move {
            loop {
                let _ = http.post(format!("{url}/quiet/bus")).bearer_auth(&token).json(&json!({"last_message": null, "channels": []})).send().await;
                if measuring.load(Ordering::Relaxed) {
                    answered.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    // Let every poll reach the gateway and wait (20 s, longer than the measurement).
    tokio::time::sleep(Duration::from_millis(if waiting > 0 { 2000 } else { 100 })).await;
    measuring.store(true, Ordering::Relaxed);
    let admin = admin_token();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let mut publishers = tokio::task::JoinSet::new();
    for p in 0..8 {
        let (url, http, admin) = (gw.url.clone(), gw.http.clone(), admin.clone());
        publishers.spawn(async move {
            let mut sent = 0u64;
            while Instant::now() < deadline {
                let status = http
                    .post(format!("{url}/{DB}/bus/publish"))
                    .bearer_auth(&admin)
                    .json(&json!({"channel": format!("chat:rate-{p}"), "message": {"n": sent}}))
                    .send()
                    .await?
                    .status();
                anyhow::ensure!(status.is_success(), "publish answered {status}");
                sent += 1;
            }
            Ok::<_, anyhow::Error>(sent)
        });
    }
    let mut sent = 0;
    while let Some(result) = publishers.join_next().await {
        sent += result??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    measuring.store(false, Ordering::Relaxed);
    waiters.shutdown().await;
    let answered = answered.load(Ordering::Relaxed);
    anyhow::ensure!(answered == 0, "{answered} of the {waiting} waiting polls answered while the rate was measured");
    anyhow::ensure!(sent > 0, "nothing was published");
    Ok(sent as f64 / elapsed)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

async fn latency(gw: &Gateway, samples: usize) -> anyhow::Result<(Duration, Duration)> {
    let admin = admin_token();
    let user = herald_tests::user_token("5");
    let mut last = None;
    let mut measured = Vec::with_capacity(samples);
    for i in 0..samples {
        let poll = {
            let (url, http, user, last) = (gw.url.clone(), gw.http.clone(), user.clone(), last.clone());
            tokio::spawn(async move {
                let reply: serde_json::Value = http
                    .post(format!("{url}/{DB}/bus"))
                    .bearer_auth(user)
                    .json(&json!({"last_message": last, "channels": []}))
                    .send()
                    .await?
                    .json()
                    .await?;
                Ok::<_, reqwest::Error>((reply, Instant::now()))
            })
        };
        // Let the poll reach the gateway and start waiting.
        tokio::time::sleep(Duration::from_millis(5)).await;
        let sent = Instant::now();
        gw.notify(&admin, json!({"title": format!("m{i}"), "user": 5})).await;
        let (reply, received) = poll.await??;
        anyhow::ensure!(message(&reply).is_some(), "no message in {reply}");
        last = message_id(&reply);
        measured.push(received.saturating_duration_since(sent));
    }
    measured.sort();
    Ok((percentile(&measured, 0.5), percentile(&measured, 0.99)))
}

async fn throughput(gw: &Gateway, channel: &str, pollers: usize, messages: usize) -> anyhow::Result<(f64, usize)> {
    let admin = admin_token();
    let mut tasks = Vec::new();
    for p in 0..pollers {
        let token = token_with(TokenSpec { sub: &p.to_string(), channels: &["chat:*"], ..Default::default() });
        let (url, http, channel) = (gw.url.clone(), gw.http.clone(), channel.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut last: Option<String> = None;
            let mut got = 0usize;
            let deadline = Instant::now() + Duration::from_secs(120);
            while got < messages && Instant::now() < deadline {
                let reply: serde_json::Value = http
                    .post(format!("{url}/{DB}/bus"))
                    .bearer_auth(&token)
                    .json(&json!({"last_message": last, "channels": [&channel]}))
                    .send()
                    .await?
                    .json()
                    .await?;
                if let Some(id) = message_id(&reply) {
                    if reply["channel"] == channel.as_str() {
                        got += 1;
                    }
                    last = Some(id);
                }
            }
            Ok::<_, reqwest::Error>(got)
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    for i in 0..messages {
        gw.publish(&admin, channel, json!({"type": "bench", "n": i})).await;
    }
    let mut delivered = 0;
    for t in tasks {
        delivered += t.await??;
    }
    Ok((delivered as f64 / started.elapsed().as_secs_f64(), delivered))
}

/// What idle clients of one bus process cost DynamoDB.
struct IdleCost {
    clients: usize,
    channels_per_client: usize,
    /// Requests per second once every poll has looked (the watcher's).
    requests_per_sec: f64,
    /// The watcher's reads (of the feed, or of the heads) per second.
    rounds_per_sec: f64,
}

/// `clients` polls wait in one process on the DynamoDB adapter, each on 4
/// channels of its own (as a Tryton client: its user, two client ids, its
/// notifications): the requests the process sends once they all looked.
async fn idle_cost(secs: u64, clients: usize) -> anyhow::Result<Option<IdleCost>> {
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        return Ok(None);
    }
    let sdk = herald::adapters::aws::load_config().await;
    let client = herald::adapters::aws::DynamoClient::new(&sdk);
    // The bus function's own wiring, on a table of its own.
    let mut config = setup::config(Some(format!("bench-bus-{}", std::process::id())))?;
    config.bus.wait = Duration::from_secs(secs + 30);
    tables::ensure_bus_table(&client, &config.bus_table).await?;
    let wiring = Wiring::new(config, Aws, BusFunction);
    let adapters = wiring.adapters().await?;
    let count = adapters.dynamodb_requests.clone();
    let bus = wiring.services(adapters)?.bus;
    let tenant = TenantId::parse("bench")?;
    let mut polls = tokio::task::JoinSet::new();
    let mut channels_per_client = 0;
    for i in 0..clients {
        let user = UserId::parse((5 + i).to_string())?;
        let channels: Vec<String> = vec![format!("client:a{i}"), format!("client:b{i}"), format!("notification:{user}")];
        let subscriptions = authorize_subscriptions(&user, &ChannelGrants::default(), &channels);
        channels_per_client = subscriptions.len();
        let (bus, tenant) = (bus.clone(), tenant.clone());
        polls.spawn(async move { bus.poll(&tenant, &subscriptions, None).await });
    }
    let ready = Instant::now();
    while bus.watcher_stats().looked < clients * channels_per_client {
        anyhow::ensure!(ready.elapsed() < Duration::from_secs(60), "the polls never all looked: {:?}", bus.watcher_stats());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (before, rounds_before, started) = (count.get(), bus.watcher_stats().rounds, Instant::now());
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let (requests, rounds, elapsed) = (count.get() - before, bus.watcher_stats().rounds - rounds_before, started.elapsed().as_secs_f64());
    polls.shutdown().await;
    Ok(Some(IdleCost { clients, channels_per_client, requests_per_sec: requests as f64 / elapsed, rounds_per_sec: rounds as f64 / elapsed }))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // As deployed (herald-local's default; its embedded store is never
    // read on a timer, the setting is kept for the record).
    let options = |memory: bool| {
        let mut options = GatewayOptions { wait_secs: 20, memory, ..GatewayOptions::new(Store::Embedded) };
        options.env.push(("HERALD_BUS_POLL_MS".into(), "500".into()));
        options
    };
    // The durable store (herald-local's default) first, then --memory: the
    // same measures in the same run.
    let mut stores = serde_json::Map::new();
    for (name, memory) in [("durable", false), ("memory", true)] {
        let gw = Gateway::start_with(options(memory)).await;
        eprintln!("{name}: latency, {} samples…", args.samples);
        let (p50, p99) = latency(&gw, args.samples).await?;
        let mut rounds = Vec::new();
        for round in 1..=args.rounds.max(1) {
            eprintln!("{name}: throughput, round {round} of {}: {} pollers × {} messages…", args.rounds.max(1), args.pollers, args.messages);
            rounds.push(throughput(&gw, &format!("chat:bench-{round}"), args.pollers, args.messages).await?);
        }
        // Rates in run order; the median of them; the fewest deliveries of any round.
        let rates: Vec<f64> = rounds.iter().map(|(rate, _)| *rate).collect();
        let mut sorted = rates.clone();
        sorted.sort_by(f64::total_cmp);
        let per_sec = sorted[sorted.len() / 2];
        let delivered = rounds.iter().map(|(_, delivered)| *delivered).min().unwrap_or(0);
        println!("{name}: publish→receive latency, one long-polling client: p50 {:.2} ms, p99 {:.2} ms", p50.as_secs_f64() * 1e3, p99.as_secs_f64() * 1e3);
        println!("{name}: deliveries to {} concurrent pollers: {per_sec:.0}/s, median of {rates:.0?} ({delivered} of {})", args.pollers, args.pollers * args.messages);
        stores.insert(name.into(), json!({
            "latency_ms": {"p50": p50.as_secs_f64() * 1e3, "p99": p99.as_secs_f64() * 1e3, "samples": args.samples},
            "throughput": {"pollers": args.pollers, "messages": args.messages, "delivered": delivered,
                           "expected": args.pollers * args.messages, "deliveries_per_sec": per_sec, "rounds": rates},
        }));
    }
    eprintln!("disk bytes per retained message: {} messages…", args.disk_messages);
    let disk = disk_bytes_per_message(args.disk_messages).await?;
    let (live, compact) = disk;
    println!("durable: {live:.0} bytes on disk per retained message ({compact:.0} in a compact copy; {} messages of a Tryton notification's size)", args.disk_messages);
    let gw = Gateway::start_with(options(false)).await;
    eprintln!("idle DynamoDB cost: {} s…", args.idle_secs);
    let idle = idle_cost(args.idle_secs, args.idle_clients).await?;
    eprintln!("publish rate, alone and beside {} waiting polls: {} s each…", args.waiting, args.publish_secs);
    let alone = publish_rate(&gw, 0, args.publish_secs).await?;
    let beside = publish_rate(&gw, args.waiting, args.publish_secs).await?;

    let report = json!({
        "store": "embedded, durable (SQLite in a data directory)",
        "gateway_binary": herald_tests::local_gateway_binary(),
        "latency_ms": stores["durable"]["latency_ms"],
        "throughput": stores["durable"]["throughput"],
        "stores": stores,
        "disk_bytes_per_message": {"live": live, "compact": compact, "messages": args.disk_messages},
        "idle_poll_dynamodb": idle.as_ref().map(|idle| json!({
            "clients": idle.clients, "channels_per_client": idle.channels_per_client,
            "requests_per_sec": idle.requests_per_sec, "rounds_per_sec": idle.rounds_per_sec,
            "requests_per_round": idle.requests_per_sec / idle.rounds_per_sec,
        })),
        "publish_rate": {"alone_per_sec": alone, "waiting": args.waiting, "secs": args.publish_secs, "beside_waiting_per_sec": beside, "ratio": beside / alone},
    });
    println!("publishes: {alone:.0}/s alone, {beside:.0}/s beside {} polls waiting on another tenant ({:.2}x)", args.waiting, beside / alone);
    match idle {
        Some(idle) => println!(
            "{} idle clients ({} channels each) in one process on DynamoDB: {:.2} requests/s, {:.2} watcher reads/s ({:.1} requests each)",
            idle.clients, idle.channels_per_client, idle.requests_per_sec, idle.rounds_per_sec, idle.requests_per_sec / idle.rounds_per_sec
        ),
        None => println!("idle poll on DynamoDB: skipped (AWS_ENDPOINT_URL not set)"),
    }
    std::fs::create_dir_all("target/bench")?;
    std::fs::write("target/bench/bus.json", serde_json::to_string_pretty(&report)?)?;
    Ok(())
}
