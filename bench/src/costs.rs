//! `costs-bench`: the cost model from measured counts (issue 15, part 4).
//!
//! Runs representative workloads through the library on moto, behind a
//! loopback proxy that counts every AWS request by operation and computes
//! the DynamoDB capacity each consumes (bench/src/wire.rs), times the
//! handlers' work, and prices it all with the dated table
//! `bench/prices.json` (bench/src/cost_model.rs):
//!
//! - an always-connected client's month at 10, 1,000 and 10,000 clients,
//!   classic Lambda and Lambda Managed Instances, behind the HTTP API or a
//!   function URL;
//! - a million deliveries in-app and by email;
//! - one subscription check of 10,000 due subscriptions (measured on a
//!   smaller one, scaled linearly).
//!
//! Needs `AWS_ENDPOINT_URL` (moto server). Writes `target/bench/costs.json`
//! and `docs/costs.md` (`--out`).
mod cost_model;
mod setup;
mod wire;
mod worlds;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use cost_model::{client_month, work_cost, BusInputs, Compute, FrontDoor, Prices, WorkInputs};
use herald::adapters::aws::tables;
use herald::bus::channel::authorize_subscriptions;
use herald::bus::ChannelGrants;
use herald::domain::{TenantId, UserId};
use herald::events;
use herald::notifications::Channel;
use herald::wiring::{Aws, BusFunction, LocalGateway, Wiring};
use serde_json::{json, Value};
use setup::config;
use wire::{Counts, Wire};

#[derive(Parser)]
#[command(about = "Dollars per connected client-month, per million deliveries and per subscription check, from measured counts")]
struct Args {
    /// Recipients of the measured notification (each workload's counts are
    /// divided by them).
    #[arg(long, default_value_t = 20)]
    recipients: usize,
    /// Due subscriptions of the measured check (scaled to 10,000).
    #[arg(long, default_value_t = 100)]
    subscriptions: usize,
    /// Seconds an idle poll waits while its watcher's reads are counted
    /// (default: the bus's wait in template.yaml).
    #[arg(long)]
    idle_secs: Option<u64>,
    /// Seconds the idle clients of one process are counted: past a minute,
    /// so the watcher's once-a-minute read of the heads is in.
    #[arg(long, default_value_t = 75)]
    idle_clients_secs: u64,
    /// The price table.
    #[arg(long, default_value = "bench/prices.json")]
    prices: String,
    /// The document written.
    #[arg(long, default_value = "docs/costs.md")]
    out: String,
}

/// The channels an always-connected client's poll waits on: the Tryton
/// client's own `client:<id>`, the user's `notification:<uid>` (the web
/// element polls it; trytond publishes user notifications there), and
/// `user:<uid>`, which the bus adds to every poll (bus/channel.rs).
const CLIENT_CHANNELS: [&str; 2] = ["client:costs-bench", "notification:5"];
/// Idle clients measured together in one process for the Managed Instances
/// rows: the 1,000-client case in one environment (10,000 clients fill
/// environments of 1,600, so this is an upper bound for them).
const MANAGED_CLIENTS: usize = 1000;
/// First looks in flight at once while they connect (moto serves one
/// request at a time; a thousand at once would only time out connecting).
const CONNECTING_AT_ONCE: usize = 25;
/// Managed Instances: the capacity provider's instance type (arm64).
const INSTANCE: &str = "c7i.large";
const INSTANCE_PRICE: &str = "ec2_c7i_large_hour";
/// A c7i.large has 2 vCPUs; a Managed Instances environment of the bus
/// takes one vCPU (2 GB at the default 2 GiB per vCPU).
const ENVIRONMENTS_PER_INSTANCE: f64 = 2.0;
const PER_ENVIRONMENT: f64 = 1600.0;
const MINIMUM_INSTANCES: f64 = 3.0;
/// Deliveries per outbox invocation (template.yaml's SQS event BatchSize).
const OUTBOX_BATCH: f64 = 10.0;
const CLIENTS: [f64; 3] = [10.0, 1000.0, 10_000.0];

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let upstream = std::env::var("AWS_ENDPOINT_URL").context("costs-bench needs AWS_ENDPOINT_URL (moto server: scripts/bench starts one)")?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    // Every SDK client this process builds goes through the counting proxy.
    // Set before the runtime starts any thread.
    std::env::set_var("AWS_ENDPOINT_URL", format!("http://{}", listener.local_addr()?));
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(run(args, listener, upstream))
}

/// The bus function's memory and the poll interval, from template.yaml.
fn template_settings() -> anyhow::Result<(f64, f64, f64)> {
    let template = std::fs::read_to_string("template.yaml").context("template.yaml (run from the repository's root)")?;
    let number_after = |key: &str| -> anyhow::Result<f64> {
        let at = template.find(key).with_context(|| format!("{key} in template.yaml"))?;
        let rest = &template[at + key.len()..];
        let line = rest.lines().find(|l| l.trim_start().starts_with("Default:") || l.trim_start().starts_with("MemorySize:")).unwrap_or_default();
        Ok(line.split(':').nth(1).unwrap_or_default().trim().parse()?)
    };
    Ok((number_after("Globals:")?, number_after("BusWaitSecs:")?, number_after("BusPollMs:")?))
}

struct Measured {
    counts: Counts,
    secs: f64,
}

async fn run(args: Args, listener: std::net::TcpListener, upstream: String) -> anyhow::Result<()> {
    let wire = wire::serve(listener, upstream)?;
    let prices: Prices = serde_json::from_str(&std::fs::read_to_string(&args.prices).with_context(|| args.prices.clone())?)?;
    let (memory_mb, wait_secs, poll_ms) = template_settings()?;
    let memory_gb = memory_mb / 1024.0;
    let interval = poll_ms / 1000.0;

    let idle_secs = args.idle_secs.unwrap_or(wait_secs as u64);
    eprintln!("idle poll on {} channels for {idle_secs} s…", CLIENT_CHANNELS.len() + 1);
    let (idle, channels) = idle_poll(&wire, idle_secs, interval).await?;
    eprintln!("{MANAGED_CLIENTS} idle clients in one process for {} s…", args.idle_clients_secs);
    let managed = idle_clients(&wire, args.idle_clients_secs, interval).await?;
    eprintln!("in-app: one notification to {} recipients, delivered…", args.recipients);
    let (inapp_publish, inapp_deliver) = deliveries(&wire, Channel::Message, args.recipients).await?;
    eprintln!("email: one notification to {} recipients, delivered…", args.recipients);
    let (email_publish, email_deliver) = deliveries(&wire, Channel::Email, args.recipients).await?;
    eprintln!("subscription check: {} due subscriptions…", args.subscriptions);
    let (check, digests) = check(&wire, args.subscriptions).await?;

    let bus = BusInputs {
        channels_per_client: channels as f64,
        poll_interval_secs: interval,
        classic_read_units_per_sec: idle.counts.read_units / idle.secs,
        managed_read_units_per_client_sec: managed.counts.read_units / managed.secs / MANAGED_CLIENTS as f64,
        measured_interval_secs: interval,
        memory_gb,
        per_environment: PER_ENVIRONMENT,
        environments_per_instance: ENVIRONMENTS_PER_INSTANCE,
        minimum_instances: MINIMUM_INSTANCES,
        instance_price: INSTANCE_PRICE.into(),
    };
    let scenarios: Vec<(&str, Compute, FrontDoor, f64, f64)> = vec![
        ("classic Lambda, HTTP API (today)", Compute::Classic, FrontDoor::HttpApi, wait_secs, interval),
        ("classic Lambda, function URL", Compute::Classic, FrontDoor::FunctionUrl, wait_secs, interval),
        ("Managed Instances, HTTP API", Compute::ManagedInstances, FrontDoor::HttpApi, wait_secs, interval),
        ("Managed Instances, function URL", Compute::ManagedInstances, FrontDoor::FunctionUrl, wait_secs, interval),
        ("Managed Instances, function URL, 300 s wait", Compute::ManagedInstances, FrontDoor::FunctionUrl, 300.0, interval),
    ];
    let client_months: Vec<Value> = scenarios
        .iter()
        .map(|(name, compute, door, wait, interval)| {
            let inputs = BusInputs { poll_interval_secs: *interval, ..bus.clone() };
            let by_size: Vec<Value> = CLIENTS.iter().map(|n| json!({"clients": n, "cost": client_month(&prices, &inputs, *compute, *door, *wait, *n)})).collect();
            json!({"name": name, "compute": compute, "front_door": door, "wait_secs": wait, "poll_interval_secs": interval, "by_clients": by_size})
        })
        .collect();

    let n = args.recipients as f64;
    let delivery = |publish: &Measured, deliver: &Measured, inapp: bool| -> WorkInputs {
        let counts = deliver.counts.clone();
        let all = Counts {
            requests: counts.requests.clone(),
            read_units: publish.counts.read_units + counts.read_units,
            write_units: publish.counts.write_units + counts.write_units,
        };
        let poll = if inapp { 1.0 } else { 0.0 };
        WorkInputs {
            read_units: all.read_units / n,
            write_units: all.write_units / n,
            sqs_requests: (publish.counts.service("sqs") + deliver.counts.service("sqs")) as f64 / n,
            // notify once per notification, outbox once per batch, and the
            // live message ends one waiting poll (a new one starts).
            lambda_requests: 1.0 / n + (n / OUTBOX_BATCH).ceil() / n + poll,
            lambda_gb_seconds: (publish.secs + deliver.secs) * memory_gb / n,
            front_door_requests: 1.0 / n + poll,
            emails: if inapp { 0.0 } else { 1.0 },
        }
    };
    let inapp = delivery(&inapp_publish, &inapp_deliver, true);
    let email = delivery(&email_publish, &email_deliver, false);
    let due = args.subscriptions as f64;
    let check_work = WorkInputs {
        read_units: check.counts.read_units / due,
        write_units: check.counts.write_units / due,
        sqs_requests: check.counts.service("sqs") as f64 / due,
        lambda_requests: 1.0 / 10_000.0,
        lambda_gb_seconds: check.secs * memory_gb / due,
        front_door_requests: 0.0,
        emails: 0.0,
    };
    let work = json!({
        "in_app_per_million": work_cost(&prices, &inapp, 1e6, "ses_email_a_la_carte"),
        "email_per_million": work_cost(&prices, &email, 1e6, "ses_email_a_la_carte"),
        "email_per_million_essentials": work_cost(&prices, &email, 1e6, "ses_email_essentials"),
        "check_10k": work_cost(&prices, &check_work, 10_000.0, "ses_email_a_la_carte"),
    });

    let report = json!({
        "prices": {"region": prices.region, "date": prices.date, "file": args.prices},
        "settings": {"memory_mb": memory_mb, "wait_secs": wait_secs, "poll_interval_secs": interval, "instance": INSTANCE,
            "environments_per_instance": ENVIRONMENTS_PER_INSTANCE, "per_environment": PER_ENVIRONMENT, "minimum_instances": MINIMUM_INSTANCES,
            "recipients": args.recipients, "subscriptions": args.subscriptions, "digests": digests, "outbox_batch": OUTBOX_BATCH},
        "measured": {
            "idle_poll": {"channels": channels, "secs": idle.secs, "counts": idle.counts, "read_units_per_sec": bus.classic_read_units_per_sec},
            "idle_clients_one_process": {"clients": MANAGED_CLIENTS, "channels": channels, "secs": managed.secs, "counts": managed.counts,
                "read_units_per_client_sec": bus.managed_read_units_per_client_sec},
            "in_app": {"publish": publish_json(&inapp_publish, n), "deliver": publish_json(&inapp_deliver, n)},
            "email": {"publish": publish_json(&email_publish, n), "deliver": publish_json(&email_deliver, n)},
            "check": {"due": args.subscriptions, "digests": digests, "secs": check.secs, "counts": check.counts, "per_subscription": check.counts.per(due)},
        },
        "inputs": {"bus": bus, "in_app": inapp, "email": email, "check": check_work},
        "client_month": client_months,
        "work": work,
        "targets": targets(&json!({"client_month": client_months, "work": work})),
    });
    std::fs::create_dir_all("target/bench")?;
    std::fs::write("target/bench/costs.json", serde_json::to_string_pretty(&report)?)?;
    let document = render(&report, &prices);
    if let Some(dir) = std::path::Path::new(&args.out).parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.out, document)?;
    for t in report["targets"].as_array().into_iter().flatten() {
        println!("{}: {} (limit {}): {}", t["name"].as_str().unwrap_or(""), money(&t["value"]), money(&t["limit"]), t["verdict"].as_str().unwrap_or(""));
    }
    println!("wrote target/bench/costs.json and {}", args.out);
    Ok(())
}

fn publish_json(m: &Measured, n: f64) -> Value {
    json!({"secs": m.secs, "counts": m.counts, "per_delivery": m.counts.per(n)})
}

/// One poll waiting on a client's channels with nothing published, on the
/// bus function's own wiring: what it reads per second.
async fn idle_poll(wire: &Wire, secs: u64, interval: f64) -> anyhow::Result<(Measured, usize)> {
    let sdk = herald::adapters::aws::load_config().await;
    let client = herald::adapters::aws::DynamoClient::new(&sdk);
    let mut config = config(Some(format!("costs-bus-{}", std::process::id())))?;
    config.bus.wait = Duration::from_secs(secs);
    config.bus.poll_interval = Duration::from_secs_f64(interval);
    tables::ensure_bus_table(&client, &config.bus_table).await?;
    let wiring = Wiring::new(config, Aws, BusFunction);
    let bus = wiring.services(wiring.adapters().await?)?.bus;
    let channels: Vec<String> = CLIENT_CHANNELS.iter().map(|c| (*c).to_owned()).collect();
    let subscriptions = authorize_subscriptions(&UserId::parse("5")?, &ChannelGrants::default(), &channels);
    let tenant = TenantId::parse("bench")?;
    // The client id's binding is read once per instance: not an idle cost.
    let _ = bus.poll(&tenant, &subscriptions, None).await;
    let before = wire.counts();
    let started = Instant::now();
    let reply = bus.poll(&tenant, &subscriptions, None).await?;
    anyhow::ensure!(reply.is_none(), "the idle poll got a message");
    Ok((Measured { counts: wire.counts().since(&before), secs: started.elapsed().as_secs_f64() }, subscriptions.len()))
}

/// Idle clients waiting together in one process (Managed Instances): what
/// they read per second once each has looked, all of it the watcher's.
async fn idle_clients(wire: &Wire, secs: u64, interval: f64) -> anyhow::Result<Measured> {
    let sdk = herald::adapters::aws::load_config().await;
    let client = herald::adapters::aws::DynamoClient::new(&sdk);
    let mut config = config(Some(format!("costs-managed-{}", std::process::id())))?;
    config.bus.wait = Duration::from_secs(secs + 60);
    config.bus.poll_interval = Duration::from_secs_f64(interval);
    tables::ensure_bus_table(&client, &config.bus_table).await?;
    let wiring = Wiring::new(config, Aws, BusFunction);
    let bus = wiring.services(wiring.adapters().await?)?.bus;
    let tenant = TenantId::parse("bench")?;
    let mut polls = tokio::task::JoinSet::new();
    for i in 0..MANAGED_CLIENTS {
        while bus.watcher_stats().waiting + CONNECTING_AT_ONCE < i {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let user = UserId::parse((5 + i).to_string())?;
        let channels = vec![format!("client:costs-{i}"), format!("notification:{user}")];
        let subscriptions = authorize_subscriptions(&user, &ChannelGrants::default(), &channels);
        let (bus, tenant) = (bus.clone(), tenant.clone());
        polls.spawn(async move { bus.poll(&tenant, &subscriptions, None).await });
    }
    let ready = Instant::now();
    while bus.watcher_stats().waiting < MANAGED_CLIENTS {
        anyhow::ensure!(ready.elapsed() < Duration::from_secs(120), "the polls never all looked: {:?}", bus.watcher_stats());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before = wire.counts();
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let measured = Measured { counts: wire.counts().since(&before), secs: started.elapsed().as_secs_f64() };
    polls.shutdown().await;
    Ok(measured)
}

/// One notification to `recipients` users published (notify's work) and
/// its deliveries drained in batches as the outbox function gets them.
async fn deliveries(wire: &Wire, channel: Channel, recipients: usize) -> anyhow::Result<(Measured, Measured)> {
    let tables = format!("costs-notifications-{}-{channel:?}", std::process::id()).to_lowercase();
    let p = worlds::parts(Wiring::new(config(Some(tables))?, Aws, LocalGateway), recipients).await?;
    let start = wire.counts();
    let started = Instant::now();
    p.services.notifier.send(&p.tenant, worlds::request(channel, 0)?).await?;
    let publish = Measured { counts: wire.counts().since(&start), secs: started.elapsed().as_secs_f64() };
    let published = wire.counts();
    let started = Instant::now();
    let report = events::drain_outbox(&p.services).await?;
    let deliver = Measured { counts: wire.counts().since(&published), secs: started.elapsed().as_secs_f64() };
    anyhow::ensure!(report.handled == recipients, "delivered {} of {recipients}", report.handled);
    Ok((publish, deliver))
}

/// One check of `due` due subscriptions (50 users, 300 records of which 10
/// changed): the check function's work, digests published included.
async fn check(wire: &Wire, due: usize) -> anyhow::Result<(Measured, usize)> {
    let tables = format!("costs-subscriptions-{}", std::process::id());
    let w = worlds::world(Wiring::new(config(Some(tables))?, Aws, LocalGateway), 50, due, 0, 300, 10).await?;
    let before = wire.counts();
    let started = Instant::now();
    let report = w.services.checker.run().await?;
    let secs = started.elapsed().as_secs_f64();
    anyhow::ensure!(report.checked == due, "checked {} of {due}", report.checked);
    Ok((Measured { counts: wire.counts().since(&before), secs }, report.digests))
}

/// The targets, judged on the model's figures.
fn targets(results: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    for scenario in results["client_month"].as_array().into_iter().flatten() {
        if scenario["compute"] != "ManagedInstances" {
            continue;
        }
        for (clients, limit) in [(1000.0, 0.10), (10_000.0, 0.02)] {
            let cost = scenario["by_clients"].as_array().into_iter().flatten().find(|c| c["clients"].as_f64() == Some(clients));
            if let Some(cost) = cost.map(|c| &c["cost"]) {
                let name = format!("{}, {} clients, per client-month", scenario["name"].as_str().unwrap_or(""), count(clients));
                out.push(target(name, cost, limit));
            }
        }
    }
    let work = &results["work"];
    out.push(target("a million in-app deliveries".into(), &work["in_app_per_million"], 10.0));
    out.push(target("a million emails (SES without a plan, à la carte)".into(), &work["email_per_million"], 110.0));
    out.push(target("a million emails (SES Essentials plan)".into(), &work["email_per_million_essentials"], 110.0));
    out
}

/// A target judged on a breakdown's total, with the breakdown's largest part.
fn target(name: String, breakdown: &Value, limit: f64) -> Value {
    let value = breakdown["total"].as_f64().unwrap_or(f64::NAN);
    let largest = breakdown
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| !matches!(k.as_str(), "total" | "instance_count" | "polls_per_month"))
        .filter_map(|(k, v)| Some((k.replace('_', " "), v.as_f64()?)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(k, v)| format!("{k} {}", money(&json!(v))))
        .unwrap_or_default();
    json!({"name": name, "value": value, "limit": limit, "largest": largest, "verdict": if value <= limit { "met" } else { "not met" }})
}

fn count(n: f64) -> String {
    let digits = format!("{n:.0}");
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Dollars with the precision a figure needs.
fn money(value: &Value) -> String {
    let Some(v) = value.as_f64() else { return "—".into() };
    match v.abs() {
        0.0 => "$0".into(),
        x if x >= 100.0 => format!("${v:.0}"),
        x if x >= 1.0 => format!("${v:.2}"),
        x if x >= 0.01 => format!("${v:.3}"),
        _ => format!("${v:.5}"),
    }
}

fn render(r: &Value, prices: &Prices) -> String {
    let s = &r["settings"];
    let m = &r["measured"];
    let mut d = String::new();
    let _ = writeln!(d, "# Costs\n\n<!-- Written by costs-bench (bench/src/costs.rs) in scripts/bench; edit the code or bench/prices.json, not this file. -->\n");
    let _ = writeln!(
        d,
        "What Herald costs on AWS, from what its adapters ask of AWS in representative workloads (counted on the wire against moto) \
         and the dated price table [`bench/prices.json`](../bench/prices.json) ({} list prices of {}). Targets from issue 15 are judged \
         on the model's figures; the model is not tuned to meet them.\n",
        prices.region, prices.date
    );
    let _ = writeln!(d, "## Targets\n\n| target | limit | model | largest part | |\n| --- | --- | --- | --- | --- |");
    for t in r["targets"].as_array().into_iter().flatten() {
        let _ = writeln!(
            d,
            "| {} | ≤ {} | {} | {} | **{}** |",
            t["name"].as_str().unwrap_or(""),
            money(&t["limit"]),
            money(&t["value"]),
            t["largest"].as_str().unwrap_or(""),
            t["verdict"].as_str().unwrap_or("")
        );
    }
    let _ = writeln!(d, "\n## An always-connected client, per month\n");
    let _ = writeln!(
        d,
        "One client polling all month with nothing to receive (a delivery's own poll is in the delivery's cost), waiting on {} channels \
         (`client:<id>`, `notification:<uid>`, and `user:<uid>` that the bus adds). Bus function {} MB (template.yaml), x86 for classic \
         Lambda. Managed Instances: {} (x86_64, as the capacity provider in template.yaml; 2 GiB per vCPU, its default), {} environments of up to {} polls per instance (`PerExecutionEnvironmentMaxConcurrency`), \
         at least {} instances (Lambda launches three by default for AZ resiliency: \
         <https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-scaling.html>), EC2 price + {}% management fee, and one watcher per process \
         (it reads the feed of moved channels each interval, and every waiting channel's head once a minute; docs/data-model.md), measured with many clients in one process.\n",
        num(&m["idle_poll"]["channels"]),
        num(&s["memory_mb"]),
        s["instance"].as_str().unwrap_or(""),
        num(&s["environments_per_instance"]),
        count(s["per_environment"].as_f64().unwrap_or(0.0)),
        num(&s["minimum_instances"]),
        prices.unit("managed_instances_fee") * 100.0
    );
    let _ = writeln!(d, "| mode | wait | watcher reads every | clients | Lambda requests | Lambda duration | instances | front door | DynamoDB | **total** |");
    let _ = writeln!(d, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for scenario in r["client_month"].as_array().into_iter().flatten() {
        for c in scenario["by_clients"].as_array().into_iter().flatten() {
            let cost = &c["cost"];
            let instances = if scenario["compute"] == "ManagedInstances" { format!("{} ({} running)", money(&cost["instances"]), num(&cost["instance_count"])) } else { "—".into() };
            let _ = writeln!(
                d,
                "| {} | {} s | {} s | {} | {} | {} | {} | {} | {} | **{}** |",
                scenario["name"].as_str().unwrap_or(""),
                num(&scenario["wait_secs"]),
                num(&scenario["poll_interval_secs"]),
                count(c["clients"].as_f64().unwrap_or(0.0)),
                money(&cost["lambda_requests"]),
                money(&cost["lambda_duration"]),
                instances,
                money(&cost["front_door"]),
                money(&cost["dynamodb"]),
                money(&cost["total"])
            );
        }
    }
    let idle = &m["idle_poll"];
    let _ = writeln!(
        d,
        "\n- **Measured**: one idle classic poll on {} channels made {} over {:.1} s: {:.3} read units a second (its process's watcher \
         reading the feed partitions of its channels each interval, eventually consistent; a classic process holds one poll, so the \
         watcher starts and ends with it). The Managed Instances rows use {} idle clients measured together in one process for more \
         than a minute: {:.4} read units a second per client, all of them the watcher's (the feed's reads, shared by the process's \
         clients, and a read of every head once a minute). With more clients per process (up to 1,600 per environment) the feed's \
         share per client is smaller still: the figure is an upper bound.\n\
         - Polls a month: 730 h / wait ({} at 20 s, {} at 300 s). The HTTP API cuts integrations at 30 s, so its rows keep the \
         template's default wait; a 300 s wait (trytond's own long poll) needs the function URL front door (`BusFrontDoor=FunctionUrl`, \
         `BusWaitSecs` up to 600: docs/deploy.md).\n\
         - A function URL in front of a Managed Instances function (through its alias, as template.yaml deploys it) is priced as \
         its Lambda request only. DynamoDB is priced per read unit; requests cost nothing more on demand.\n",
        num(&idle["channels"]),
        requests_text(&idle["counts"]["requests"]),
        idle["secs"].as_f64().unwrap_or(0.0),
        idle["read_units_per_sec"].as_f64().unwrap_or(0.0),
        num(&m["idle_clients_one_process"]["clients"]),
        m["idle_clients_one_process"]["read_units_per_client_sec"].as_f64().unwrap_or(0.0),
        count(730.0 * 3600.0 / 20.0),
        count(730.0 * 3600.0 / 300.0)
    );
    if let Some(best) = r["client_month"].as_array().into_iter().flatten().find(|c| c["compute"] == "ManagedInstances" && c["wait_secs"].as_f64() == Some(300.0)) {
        let _ = writeln!(d, "Where a Managed Instances client-month goes ({}):\n", best["name"].as_str().unwrap_or(""));
        for c in best["by_clients"].as_array().into_iter().flatten().filter(|c| c["clients"].as_f64() != Some(10.0)) {
            let cost = &c["cost"];
            let _ = writeln!(
                d,
                "- {} clients: {} in all; DynamoDB {} (the watcher's reads), \
                 instances {} ({} running; at least 3 whatever the load), invocations {}, front door {}.",
                count(c["clients"].as_f64().unwrap_or(0.0)),
                money(&cost["total"]),
                money(&cost["dynamodb"]),
                money(&cost["instances"]),
                num(&cost["instance_count"]),
                money(&cost["lambda_requests"]),
                money(&cost["front_door"])
            );
        }
        let _ = writeln!(d);
    }
    let _ = writeln!(d, "## Deliveries and the subscription check\n");
    let _ = writeln!(
        d,
        "Today's deployment: classic Lambda (x86, {} MB), the HTTP API in front. One notification to {} recipients, published by the \
         notifier (the notify function's work) and drained by the outbox in batches of {} (the outbox function's); counts divided by the \
         recipients. The check: {} due subscriptions ({} digests published, each a notification with its delivery, queued), scaled \
         linearly to 10,000; the digests' own deliveries are not in its figure.\n",
        num(&s["memory_mb"]), num(&s["recipients"]), num(&s["outbox_batch"]), num(&s["subscriptions"]), num(&s["digests"])
    );
    let _ = writeln!(d, "| work | DynamoDB | SQS | Lambda | front door | SES | **total** |\n| --- | --- | --- | --- | --- | --- | --- |");
    for (name, key) in [
        ("a million in-app deliveries", "in_app_per_million"),
        ("a million emails, SES à la carte", "email_per_million"),
        ("a million emails, SES Essentials", "email_per_million_essentials"),
        ("one check of 10,000 due subscriptions", "check_10k"),
    ] {
        let w = &r["work"][key];
        let _ = writeln!(d, "| {name} | {} | {} | {} | {} | {} | **{}** |", money(&w["dynamodb"]), money(&w["sqs"]), money(&w["lambda"]), money(&w["front_door"]), money(&w["ses"]), money(&w["total"]));
    }
    let _ = writeln!(d, "\nMeasured per delivery (publish + deliver) and per due subscription:\n");
    let _ = writeln!(d, "| work | read units | write units | requests | handler time |\n| --- | --- | --- | --- | --- |");
    for (name, key) in [("in-app delivery", "in_app"), ("email delivery", "email")] {
        let (p, v) = (&m[key]["publish"], &m[key]["deliver"]);
        let n = s["recipients"].as_f64().unwrap_or(1.0);
        let _ = writeln!(
            d,
            "| {name} | {:.2} + {:.2} | {:.2} + {:.2} | publish: {}; deliver: {} | {:.1} + {:.1} ms |",
            p["per_delivery"]["read_units"].as_f64().unwrap_or(0.0),
            v["per_delivery"]["read_units"].as_f64().unwrap_or(0.0),
            p["per_delivery"]["write_units"].as_f64().unwrap_or(0.0),
            v["per_delivery"]["write_units"].as_f64().unwrap_or(0.0),
            per_text(&p["per_delivery"]["requests"]),
            per_text(&v["per_delivery"]["requests"]),
            p["secs"].as_f64().unwrap_or(0.0) * 1000.0 / n,
            v["secs"].as_f64().unwrap_or(0.0) * 1000.0 / n
        );
    }
    let c = &m["check"];
    let due = c["due"].as_f64().unwrap_or(1.0);
    let _ = writeln!(
        d,
        "| due subscription | {:.2} | {:.2} | {} | {:.1} ms |",
        c["per_subscription"]["read_units"].as_f64().unwrap_or(0.0),
        c["per_subscription"]["write_units"].as_f64().unwrap_or(0.0),
        per_text(&c["per_subscription"]["requests"]),
        c["secs"].as_f64().unwrap_or(0.0) * 1000.0 / due
    );
    let _ = writeln!(
        d,
        "\n- An in-app delivery also ends one waiting poll (its live message): one front-door request and one bus invocation more. \
         A notification is one `POST /{{db}}/notify` and one notify invocation, shared by its recipients.\n\
         - Handler time is wall time on moto, an emulator on loopback whose requests take milliseconds each, like DynamoDB's; it \
         includes the outbox's SQS receive and delete, which Lambda's event source does outside the function: an upper bound on the \
         billed duration. SQS requests are as counted: the in-process drain receives 10 at a time and deletes one by one; \
         Lambda's event source deletes in batches, so this is an upper bound too.\n\
         - SES: one `SendEmail` per email (shared/src/adapters/aws/ses_mailer.rs), priced per recipient; the bench counts them with a \
         mailer double (moto's SES wants verified identities). Since 2026-07-21 SES has pricing plans: accounts that have sent since \
         2025-06-01 stay without a plan (à la carte, $0.10 per 1,000), new accounts start on Essentials ($0.16 per 1,000 up to 10 \
         million a month); Pro and Enterprise cost more per email. The email target is judged on both.\n"
    );
    let _ = writeln!(d, "## How the counts are made\n");
    let _ = writeln!(
        d,
        "- The SDK clients talk to a counting proxy on loopback in front of moto (bench/src/wire.rs): every request is counted by \
         service and operation, whatever adapter sends it.\n\
         - moto's `ConsumedCapacity` is a constant per operation (GetItem 0.5, PutItem and Query 1, BatchGetItem one per key, none for \
         TransactWriteItems), so the proxy computes DynamoDB's units from the items on the wire, by DynamoDB's rules: item size = \
         attribute names + values (numbers 1 byte per two digits + 1); reads in 4 KB units, strongly consistent 1, eventually 0.5, \
         transactional 2; a Query sums the items it read before rounding (items a filter dropped are counted at the returned items' \
         average size); writes in 1 KB units, transactional 2, at least 1 even when a condition fails; a write of an item carrying the \
         `due` index's key adds 1 unit for the index. Not seen on the wire, so not counted: the index entry a replace removes, and an \
         overwritten item larger than the new one (DynamoDB bills the larger). The figures are a close lower bound.\n\
         - Lambda GB-seconds: handler wall time × the configured memory; requests: one per invocation.\n\
         - Excluded: {}.\n",
        prices.excluded.join("; ")
    );
    let _ = writeln!(d, "## Prices ({}, {})\n\n| price | value | unit | source |\n| --- | --- | --- | --- |", prices.region, prices.date);
    for (name, p) in &prices.prices {
        let per = if p.per == 1.0 { String::new() } else { format!(" per {}", count(p.per)) };
        let _ = writeln!(d, "| `{name}` | {}{per} | {} | <{}> |", p.value, p.unit, p.source);
    }
    d
}

fn requests_text(requests: &Value) -> String {
    let parts: Vec<String> = requests.as_object().into_iter().flatten().map(|(k, v)| format!("{} `{k}`", v)).collect();
    if parts.is_empty() {
        "no request".into()
    } else {
        parts.join(", ")
    }
}

fn per_text(requests: &Value) -> String {
    let parts: Vec<String> = requests.as_object().into_iter().flatten().map(|(k, v)| format!("{:.2} {k}", v.as_f64().unwrap_or(0.0))).collect();
    parts.join(", ")
}

/// A figure as written: whole numbers without a fraction.
fn num(v: &Value) -> String {
    match v.as_f64() {
        Some(x) if x.fract() == 0.0 => count(x),
        Some(x) => format!("{x}"),
        None => v.as_str().unwrap_or("—").to_owned(),
    }
}
