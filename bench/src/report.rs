//! `bench-report`: the last step of `scripts/bench`.
//!
//! Gathers what each bench wrote under `target/bench/` (the bus, notifications,
//! subscription check and cold-start benches, and the peer comparison's runs
//! under `target/bench/peers/`), adds a description of the machine, writes
//! `target/bench/results.json`, and renders `docs/benchmarks.md` from the
//! template `bench/report.md.j2`: the figures, their ratios to trytond, and
//! whether each of issue 5's targets is met in this run.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;
use clap::Parser;
use serde::Serialize;
use serde_json::{json, Value};

#[derive(Parser)]
#[command(about = "Write target/bench/results.json and docs/benchmarks.md from the benches' outputs")]
struct Args {
    /// Where the benches wrote their JSON files.
    #[arg(long, default_value = "target/bench")]
    bench_dir: PathBuf,
    /// The document to write.
    #[arg(long, default_value = "docs/benchmarks.md")]
    out: PathBuf,
    /// The figures come from a smoke run (`BENCH_QUICK=1`): said at the top.
    #[arg(long)]
    quick: bool,
    /// The commit the benches ran on (`git describe --always --dirty` when
    /// the run started; scripts/bench passes it).
    #[arg(long)]
    commit: Option<String>,
    /// When the run started (scripts/bench passes it).
    #[arg(long)]
    started: Option<String>,
}

const BENCHES: [&str; 6] = ["bus", "notifications", "subscriptions", "costs", "coldstart", "ui"];

/// The peer comparison's runs: file stem under `peers/` → label.
const SERVERS: [(&str, &str); 6] = [
    ("trytond-single", "trytond, one process"),
    ("trytond-workers", "trytond, gunicorn 4 workers"),
    ("trytond-herald", "trytond, one process, its bus on Herald (the module herald; durable embedded)"),
    ("herald", "Herald, durable embedded store (SQLite, synced commits)"),
    ("herald-memory", "Herald, embedded store in memory (--memory)"),
    ("herald-dynamodb", "Herald, DynamoDB (moto, an emulator)"),
];
const CLIENTS: [(&str, &str); 2] = [("", "python"), ("-rust", "compiled")];
const CLIENT_COUNTS: [u64; 3] = [1, 10, 100];

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let run = json!({"commit": args.commit, "started": args.started, "quick": args.quick});
    let results = gather(&args.bench_dir, run)?;
    let path = args.bench_dir.join("results.json");
    std::fs::write(&path, serde_json::to_string_pretty(&results)?).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("written {}", path.display());

    let peers = peer_tables(&results["peers"]);
    let targets = targets(&results, &peers);
    for target in &targets {
        eprintln!("target: {} — {} ({})", target.name, target.measured, target.verdict);
    }
    let document = render(&results, &peers, &targets, args.quick)?;
    std::fs::write(&args.out, document).with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!("written {}", args.out.display());
    Ok(())
}

/// Every bench's output and the machine, as `results.json` holds them.
fn gather(dir: &Path, run: Value) -> anyhow::Result<Value> {
    let read = |relative: &str| -> anyhow::Result<Value> {
        let path = dir.join(relative);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Value::Null),
            Err(error) => Err(error).with_context(|| format!("reading {}", path.display())),
        }
    };
    let mut benches = serde_json::Map::new();
    for name in BENCHES {
        benches.insert(name.to_owned(), read(&format!("{name}.json"))?);
    }
    let mut peers = serde_json::Map::new();
    for (server, _) in SERVERS {
        for (suffix, _) in CLIENTS {
            let name = format!("{server}{suffix}");
            peers.insert(name.clone(), read(&format!("peers/bus-compare-{name}.json"))?);
        }
    }
    Ok(json!({"run": run, "machine": machine(), "benches": benches, "peers": peers}))
}

/// What the figures were measured on.
fn machine() -> Value {
    let file = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let cpuinfo = file("/proc/cpuinfo");
    let cpu = cpuinfo.lines().find_map(|line| line.strip_prefix("model name").and_then(|rest| rest.split_once(':')).map(|(_, name)| name.trim().to_owned()));
    let memory_gib = file("/proc/meminfo")
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
        .map(|kib| (kib / 1024.0 / 1024.0 * 10.0).round() / 10.0);
    let output = |program: &str, args: &[&str]| {
        Command::new(program).args(args).output().ok().filter(|out| out.status.success()).map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map(|n| n.get()).ok(),
        "memory_gib": memory_gib,
        "kernel": file("/proc/sys/kernel/osrelease").trim(),
        "os": file("/etc/os-release").lines().find_map(|line| line.strip_prefix("PRETTY_NAME=")).map(|name| name.trim_matches('"').to_owned()),
        "rustc": output("rustc", &["--version"]),
        "commit": output("git", &["rev-parse", "--short", "HEAD"]),
        "load_average_at_report": file("/proc/loadavg").split_whitespace().take(3).collect::<Vec<_>>().join(" "),
        "date": output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
    })
}

/// One throughput phase of one run of the peer comparison.
#[derive(Serialize, Clone)]
struct Throughput {
    clients: u64,
    per_s: Option<f64>,
    /// per_s over the best trytond figure with as many clients and the same client kind.
    ratio: Option<f64>,
    complete: bool,
    deliveries: u64,
    expected: u64,
    error: Option<String>,
}

/// One server driven by one client kind.
#[derive(Serialize, Clone)]
struct PeerRow {
    server: &'static str,
    label: &'static str,
    client: &'static str,
    /// One of trytond's own buses (the reference of the ratios).
    is_trytond: bool,
    /// Published by a trytond transaction (its commit is timed).
    from_trytond: bool,
    p50_ms: Option<f64>,
    p99_ms: Option<f64>,
    /// The publish's end (trytond: its commit) → the client, p50 and p99.
    from_commit_p50_ms: Option<f64>,
    from_commit_p99_ms: Option<f64>,
    latency_lost: u64,
    throughput: Vec<Option<Throughput>>,
    lost: u64,
    duplicated: u64,
    out_of_order: u64,
    server_cpu_s: f64,
    started: Option<String>,
    load_at_start: Option<f64>,
    /// p50 over the best trytond p50 with the same client (lower is better).
    p50_ratio: Option<f64>,
    /// 100-client deliveries/s over the best trytond figure with the same client.
    throughput_100_ratio: Option<f64>,
}

/// One table per client kind, each with the runs that were made.
#[derive(Serialize)]
struct PeerTable {
    client: &'static str,
    rows: Vec<PeerRow>,
}

fn peer_tables(peers: &Value) -> Vec<PeerTable> {
    CLIENTS
        .iter()
        .map(|(suffix, client)| {
            let mut rows: Vec<PeerRow> = SERVERS
                .iter()
                .filter_map(|(server, label)| peer_row(server, label, client, &peers[format!("{server}{suffix}")]))
                .collect();
            let best = |pick: &dyn Fn(&PeerRow) -> Option<f64>, better: fn(f64, f64) -> f64| {
                rows.iter().filter(|row| row.is_trytond).filter_map(pick).reduce(better)
            };
            let trytond_p50 = best(&|row| row.p50_ms, f64::min);
            let trytond: Vec<(u64, Option<f64>)> = CLIENT_COUNTS.iter().map(|&k| (k, best(&|row| throughput_at(row, k), f64::max))).collect();
            for row in &mut rows {
                row.p50_ratio = ratio(row.p50_ms, trytond_p50);
                for phase in row.throughput.iter_mut().flatten() {
                    let reference = trytond.iter().find(|(k, _)| *k == phase.clients).and_then(|(_, best)| *best);
                    phase.ratio = ratio(phase.per_s, reference);
                }
                row.throughput_100_ratio = row.throughput.iter().flatten().find(|phase| phase.clients == 100).and_then(|phase| phase.ratio);
            }
            PeerTable { client, rows }
        })
        .filter(|table| !table.rows.is_empty())
        .collect()
}

fn peer_row(server: &'static str, label: &'static str, client: &'static str, run: &Value) -> Option<PeerRow> {
    let results = run["results"].as_array()?;
    let latency = results.iter().find(|phase| phase["phase"] == "latency");
    let count = |phase: &Value, key: &str| phase[key].as_u64().unwrap_or(0);
    let throughput: Vec<Option<Throughput>> = CLIENT_COUNTS
        .iter()
        .map(|&clients| {
            let phase = results.iter().find(|phase| phase["phase"] == "throughput" && phase["clients"].as_u64() == Some(clients))?;
            Some(Throughput {
                clients,
                per_s: phase["deliveries_per_s"].as_f64(),
                ratio: None,
                complete: phase["complete"].as_bool().unwrap_or(false),
                deliveries: count(phase, "deliveries"),
                expected: count(phase, "expected_deliveries"),
                error: phase["error"].as_str().map(str::to_owned),
            })
        })
        .collect();
    let sum = |key: &str| results.iter().map(|phase| count(phase, key)).sum::<u64>();
    Some(PeerRow {
        server,
        label,
        client,
        is_trytond: matches!(server, "trytond-single" | "trytond-workers"),
        from_trytond: server.starts_with("trytond"),
        p50_ms: latency.and_then(|phase| phase["p50_ms"].as_f64()),
        p99_ms: latency.and_then(|phase| phase["p99_ms"].as_f64()),
        from_commit_p50_ms: latency.and_then(|phase| phase["from_commit_p50_ms"].as_f64()),
        from_commit_p99_ms: latency.and_then(|phase| phase["from_commit_p99_ms"].as_f64()),
        latency_lost: latency.map(|phase| count(phase, "lost")).unwrap_or(0),
        throughput,
        lost: results.iter().filter(|phase| phase["phase"] == "throughput").map(|phase| count(phase, "lost")).sum(),
        duplicated: sum("duplicated"),
        out_of_order: sum("out_of_order"),
        server_cpu_s: results.iter().filter_map(|phase| phase["server_cpu_s"].as_f64()).sum(),
        started: run["started"].as_str().map(str::to_owned),
        load_at_start: run["machine"]["loadavg_at_start"][0].as_f64(),
        p50_ratio: None,
        throughput_100_ratio: None,
    })
}

fn throughput_at(row: &PeerRow, clients: u64) -> Option<f64> {
    row.throughput.iter().flatten().find(|phase| phase.clients == clients)?.per_s
}

fn ratio(value: Option<f64>, reference: Option<f64>) -> Option<f64> {
    match (value, reference) {
        (Some(value), Some(reference)) if reference > 0.0 => Some(value / reference),
        _ => None,
    }
}

/// One of issue 5's targets, judged on this run's figures.
#[derive(Serialize)]
struct Target {
    name: String,
    limit: String,
    measured: String,
    /// "met", "missed" or "not measured".
    verdict: &'static str,
    /// Informative only: shown, not counted in the totals.
    informative: bool,
}

impl Target {
    fn new(name: impl Into<String>, limit: impl Into<String>, judged: Option<(String, bool)>) -> Self {
        let (measured, verdict) = match judged {
            Some((measured, true)) => (measured, "met"),
            Some((measured, false)) => (measured, "missed"),
            None => ("—".to_owned(), "not measured"),
        };
        Self { name: name.into(), limit: limit.into(), measured, verdict, informative: false }
    }
}

fn targets(results: &Value, peers: &[PeerTable]) -> Vec<Target> {
    let mut targets = Vec::new();
    let herald = |client: &str| peers.iter().find(|table| table.client == client)?.rows.iter().find(|row| row.server == "herald").cloned();
    for client in ["python", "compiled"] {
        let row = herald(client);
        let p50 = row.as_ref().and_then(|row| Some((row.p50_ratio?, row.p50_ms?)));
        targets.push(Target::new(
            format!("bus p50 latency, Herald embedded / best trytond ({client} client)"),
            "≤ 0.5×",
            p50.map(|(ratio, ms)| (format!("{ratio:.2}× ({ms:.2} ms)"), ratio <= 0.5)),
        ));
        let throughput = row.as_ref().and_then(|row| Some((row.throughput_100_ratio?, throughput_at(row, 100)?)));
        let mut target = Target::new(
            format!("bus throughput with 100 clients, Herald embedded / best trytond ({client} client)"),
            "≥ 10×",
            throughput.map(|(ratio, per_s)| (format!("{ratio:.1}× ({}/s)", count(per_s.into())), ratio >= 10.0)),
        );
        // Python clients spend ~1 ms of CPU per delivery: with 100 of them on
        // 2 cores they, not the server, set Herald's figure.
        target.informative = client == "python";
        targets.push(target);
    }

    let functions = results["benches"]["coldstart"]["functions"].as_array().cloned().unwrap_or_default();
    let hello = functions.iter().find(|f| f["function"] == "hello");
    for function in functions.iter().filter(|f| f["function"] != "hello") {
        let name = function["function"].as_str().unwrap_or("?");
        // The check's first invocation reads DynamoDB: its init is compared.
        let (what, key) = if function["event_reads_dynamodb"] == true { ("init", "init_ms_p50") } else { ("first invocation", "first_invocation_ms_p50") };
        let judged = ratio(function[key].as_f64(), hello.and_then(|h| h[key].as_f64()))
            .map(|r| (format!("{r:.2}× ({what} {:.2} ms)", function[key].as_f64().unwrap_or(f64::NAN)), r <= 1.5));
        targets.push(Target::new(format!("cold start of `{name}` / hello-world"), "≤ 1.5×", judged));
    }
    if functions.len() < 2 {
        targets.push(Target::new("cold start of each function / hello-world", "≤ 1.5×", None));
    }
    let largest = functions
        .iter()
        .filter(|f| f["function"] != "hello")
        .filter_map(|f| Some((f["function"].as_str()?.to_owned(), f["binary_mb"].as_f64()?)))
        .max_by(|a, b| a.1.total_cmp(&b.1));
    targets.push(Target::new(
        "largest function binary",
        "< 10 MB",
        largest.map(|(name, mb)| (format!("{mb:.1} MB ({name})"), mb < 10.0)),
    ));

    for (store, label) in [("embedded", "embedded in memory"), ("durable", "durable embedded store")] {
        let check = &results["benches"]["subscriptions"][store];
        let full_size = check["subscriptions"].as_u64() == Some(10_000) && check["records"].as_u64() == Some(100_000);
        let size = match (full_size, check["subscriptions"].as_u64(), check["records"].as_u64()) {
            (false, Some(subscriptions), Some(records)) => format!(" (this run: {subscriptions} subscriptions, {records} records)"),
            _ => String::new(),
        };
        let mut check_target = Target::new(
            format!("one subscription check, 10k subscriptions / 100k records / 1% changed, {label}{size}"),
            "< 2 s and < 64 MiB",
            check["wall_secs"].as_f64().zip(check["rss_growth_mib"].as_f64()).map(|(secs, mib)| (format!("{secs:.2} s, {mib:+.0} MiB"), secs < 2.0 && mib < 64.0)),
        );
        if !full_size {
            // A smaller run says nothing about the target.
            check_target.verdict = "not measured";
        }
        targets.push(check_target);
    }
    // Issue 12: the durable store keeps the bus fast.
    let durable = &results["benches"]["bus"]["stores"]["durable"];
    targets.push(Target::new(
        "bus publish→receive p50, durable embedded store (bus-bench)",
        "≤ 2 ms",
        durable["latency_ms"]["p50"].as_f64().map(|ms| (format!("{ms:.2} ms"), ms <= 2.0)),
    ));
    let compiled = herald("compiled");
    targets.push(Target::new(
        "bus deliveries per second to 100 pollers, durable embedded store (compiled client)",
        "≥ 5,000/s",
        compiled.as_ref().and_then(|row| throughput_at(row, 100)).map(|per_s| (format!("{}/s", count(per_s.into())), per_s >= 5_000.0)),
    ));
    let sizes = results["benches"]["subscriptions"]["dynamodb"].as_array().cloned().unwrap_or_default();
    let requests: Vec<u64> = sizes.iter().filter_map(|size| size["requests"].as_u64()).collect();
    targets.push(Target::new(
        "DynamoDB requests of a check grow with due subscriptions and changed records only",
        "the same count when only the totals grow",
        (requests.len() >= 2).then(|| {
            (format!("{} requests (totals ×4)", requests.iter().map(u64::to_string).collect::<Vec<_>>().join(" → ")), requests.windows(2).all(|w| w[0] == w[1]))
        }),
    ));
    let ui = &results["benches"]["ui"];
    targets.push(Target::new(
        "the notification centre element, gzipped, DOMPurify included",
        "≤ 30 KB",
        ui["bundle_gzip_bytes"].as_f64().map(|bytes| (format!("{:.1} KB", bytes / 1000.0), bytes <= 30_000.0)),
    ));
    targets.push(Target::new(
        "bus polls in flight with three tabs of one browser open",
        "1",
        ui["polls_in_flight_at_most"].as_u64().map(|most| (most.to_string(), most == 1)),
    ));
    // Issue 15: costs-bench judges its own targets on the cost model.
    let costs = results["benches"]["costs"]["targets"].as_array().cloned().unwrap_or_default();
    for cost in &costs {
        let limit = cost["limit"].as_f64().map_or("—".to_owned(), |l| format!("≤ ${l:.2}"));
        let judged = cost["value"].as_f64().map(|v| (format!("${v:.3} ({})", cost["largest"].as_str().unwrap_or("")), cost["verdict"] == "met"));
        targets.push(Target::new(format!("cost: {} (docs/costs.md)", cost["name"].as_str().unwrap_or("?")), limit, judged));
    }
    if costs.is_empty() {
        targets.push(Target::new("cost per client-month and per million deliveries (docs/costs.md)", "issue 15's", None));
    }
    let idle = &results["benches"]["bus"]["idle_poll_dynamodb"];
    targets.push(Target::new(
        "DynamoDB requests of a bus process's idle clients, per read of the watcher",
        "≤ ⌈distinct channels / 100⌉ + 1",
        idle["requests_per_round"].as_f64().zip(idle["clients"].as_f64()).zip(idle["channels_per_client"].as_f64()).map(|((per_round, clients), channels)| {
            let most = (clients * channels / 100.0).ceil() + 1.0;
            (format!("{per_round:.1} requests per read for {clients:.0} clients × {channels:.0} channels (at most {most:.0})"), per_round <= most)
        }),
    ));
    let rate = &results["benches"]["bus"]["publish_rate"];
    targets.push(Target::new(
        "publish rate of the embedded bus beside 2,000 waiting polls",
        "≥ 80% of it alone",
        rate["ratio"].as_f64().zip(rate["waiting"].as_f64()).map(|(ratio, waiting)| (format!("{:.0}% beside {waiting:.0} polls", ratio * 100.0), ratio >= 0.8 && waiting >= 2000.0)),
    ));
    targets
}

fn render(results: &Value, peers: &[PeerTable], targets: &[Target], quick: bool) -> anyhow::Result<String> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
    env.add_filter("fixed", fixed);
    env.add_filter("count", count);
    env.add_filter("grew", grew);
    env.add_filter("divided_by", |a: minijinja::Value, b: minijinja::Value| arithmetic(a, b, |a, b| a / b));
    env.add_filter("multiplied_by", |a: minijinja::Value, b: minijinja::Value| arithmetic(a, b, |a, b| a * b));
    env.add_filter("times", |value: minijinja::Value, digits: Option<usize>| match fixed(value, digits) {
        missing if missing == "—" => missing,
        number => format!("{number}×"),
    });
    env.add_template("benchmarks.md", include_str!("../report.md.j2"))?;
    let by_name: BTreeMap<&str, &Value> = BENCHES.iter().map(|name| (*name, &results["benches"][*name])).collect();
    let context = json!({
        "machine": results["machine"],
        "benches": by_name,
        "peers": peers,
        "targets": targets,
        "run": results["run"],
        "met": targets.iter().filter(|t| !t.informative && t.verdict == "met").count(),
        "missed": targets.iter().filter(|t| !t.informative && t.verdict == "missed").count(),
        "not_measured": targets.iter().filter(|t| !t.informative && t.verdict == "not measured").count(),
        "informative": targets.iter().filter(|t| t.informative).count(),
        "quick": quick,
    });
    Ok(env.get_template("benchmarks.md")?.render(minijinja::value::Serde(&context))?)
}

/// `{{ a|divided_by(b) }}`, `{{ a|multiplied_by(b) }}`: undefined (shown "—")
/// when a figure is missing, where the template's own operators would fail.
fn arithmetic(a: minijinja::Value, b: minijinja::Value, op: fn(f64, f64) -> f64) -> minijinja::Value {
    match (f64::try_from(a), f64::try_from(b)) {
        (Ok(a), Ok(b)) if op(a, b).is_finite() => minijinja::Value::from(op(a, b)),
        _ => minijinja::Value::UNDEFINED,
    }
}

/// `{{ x|fixed(2) }}`: a number with that many decimals, "—" when missing.
fn fixed(value: minijinja::Value, digits: Option<usize>) -> String {
    match f64::try_from(value) {
        Ok(number) if number.is_finite() => format!("{number:.*}", digits.unwrap_or(1)),
        _ => "—".to_owned(),
    }
}

/// `{{ mib|grew }}`: "grew **n MiB**", or "shrank **n MiB**" when `mib` is
/// negative ("—" when missing).
fn grew(mib: minijinja::Value) -> String {
    match f64::try_from(mib.clone()) {
        Ok(number) if number < 0.0 => format!("shrank **{} MiB**", fixed(minijinja::Value::from(-number), Some(0))),
        _ => format!("grew **{} MiB**", fixed(mib, Some(0))),
    }
}

/// `{{ x|count }}`: a whole number with thousands separators, "—" when missing.
fn count(value: minijinja::Value) -> String {
    match f64::try_from(value) {
        Ok(number) if number.is_finite() => {
            let digits = format!("{:.0}", number.abs());
            let mut grouped = String::new();
            for (i, digit) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i) % 3 == 0 {
                    grouped.push(',');
                }
                grouped.push(digit);
            }
            if number < -0.5 { format!("-{grouped}") } else { grouped }
        }
        _ => "—".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_grouped_by_thousands_and_missing_figures_are_dashes() {
        assert_eq!(count(minijinja::Value::from(20000)), "20,000");
        assert_eq!(count(minijinja::Value::from(999.6)), "1,000");
        assert_eq!(count(minijinja::Value::from(12)), "12");
        assert_eq!(count(minijinja::Value::UNDEFINED), "—");
        assert_eq!(fixed(minijinja::Value::from(0.456), Some(2)), "0.46");
        assert_eq!(fixed(minijinja::Value::from(()), None), "—");
    }

    fn run(latency_p50: f64, per_s_100: f64) -> Value {
        json!({"started": "2026-11-24T00:00:00Z", "machine": {"loadavg_at_start": [0.1, 0.1, 0.1]}, "results": [
            {"phase": "latency", "clients": 1, "p50_ms": latency_p50, "p99_ms": latency_p50 * 2.0, "lost": 0},
            {"phase": "throughput", "clients": 100, "deliveries_per_s": per_s_100, "complete": true,
             "deliveries": 20000, "expected_deliveries": 20000, "lost": 0, "duplicated": 3, "out_of_order": 5},
        ]})
    }

    #[test]
    fn trytond_on_herald_is_compared_with_trytonds_own_bus_not_counted_as_one() {
        let mut on_herald = run(3.0, 900.0);
        on_herald["results"][0]["from_commit_p50_ms"] = json!(2.5);
        on_herald["results"][0]["from_commit_p99_ms"] = json!(4.0);
        let peers = json!({"trytond-single": run(6.0, 200.0), "trytond-herald": on_herald});
        let tables = peer_tables(&peers);
        let row = tables[0].rows.iter().find(|row| row.server == "trytond-herald").expect("trytond-herald row");
        assert!(!row.is_trytond && row.from_trytond);
        assert_eq!(row.p50_ratio, Some(3.0 / 6.0), "against trytond's own bus, not itself");
        assert_eq!((row.from_commit_p50_ms, row.from_commit_p99_ms), (Some(2.5), Some(4.0)));
        let results = json!({"run": {}, "machine": {}, "benches": {}, "peers": peers});
        let document = render(&results, &tables, &targets(&results, &tables), false).expect("render");
        assert!(document.contains("| trytond, one process, its bus on Herald (the module herald; durable embedded) | 2.50 / 4.0 ms |"), "{document}");
    }

    #[test]
    fn ratios_are_taken_to_the_best_trytond_deployment_and_judge_the_targets() {
        let peers = json!({
            "trytond-single-rust": run(6.0, 200.0),
            "trytond-workers-rust": run(8.0, 300.0),
            "herald-rust": run(2.0, 2_900.0),
        });
        let tables = peer_tables(&peers);
        assert_eq!(tables.len(), 1, "only the compiled client ran");
        let herald = tables[0].rows.iter().find(|row| row.server == "herald").expect("herald row");
        assert_eq!(herald.p50_ratio, Some(2.0 / 6.0), "against the lower trytond p50");
        assert_eq!(herald.throughput_100_ratio, Some(2_900.0 / 300.0), "against the higher trytond throughput");
        assert_eq!((herald.duplicated, herald.out_of_order), (3, 5));
        let at_100 = herald.throughput.iter().flatten().find(|phase| phase.clients == 100).expect("100 clients");
        assert_eq!(at_100.ratio, herald.throughput_100_ratio, "one ratio per client count, the 100 one in the target");

        let results = json!({"benches": {}, "peers": peers});
        let judged = targets(&results, &tables);
        let verdict = |name: &str| judged.iter().find(|t| t.name.contains(name)).map(|t| t.verdict);
        assert_eq!(verdict("p50 latency, Herald embedded / best trytond (compiled"), Some("met"));
        assert_eq!(verdict("100 clients, Herald embedded / best trytond (compiled"), Some("missed"), "9.7× is under 10×");
        assert_eq!(verdict("100 clients, Herald embedded / best trytond (python"), Some("not measured"));
        assert_eq!(verdict("idle clients"), Some("not measured"));
        assert_eq!(verdict("2,000 waiting polls"), Some("not measured"));
    }

    #[test]
    fn the_check_target_is_only_met_at_full_size_and_cold_starts_compare_like_with_like() {
        let results = json!({"peers": {}, "benches": {
            "subscriptions": {"embedded": {"subscriptions": 1000, "records": 10000, "wall_secs": 0.1, "rss_growth_mib": 2.0},
                              "dynamodb": [{"requests": 285}, {"requests": 285}]},
            "coldstart": {"functions": [
                {"function": "hello", "binary_mb": 1.1, "init_ms_p50": 1.0, "first_invocation_ms_p50": 2.0},
                {"function": "bus", "binary_mb": 8.0, "init_ms_p50": 1.2, "first_invocation_ms_p50": 3.2},
                {"function": "check", "binary_mb": 10.2, "init_ms_p50": 1.4, "first_invocation_ms_p50": 30.0, "event_reads_dynamodb": true},
            ]},
            "bus": {"idle_poll_dynamodb": {"clients": 250, "channels_per_client": 4, "requests_per_round": 10.0},
                    "publish_rate": {"waiting": 2000, "ratio": 0.79}},
        }});
        let judged = targets(&results, &[]);
        let verdict = |name: &str| judged.iter().find(|t| t.name.contains(name)).map(|t| t.verdict);
        assert_eq!(verdict("one subscription check"), Some("not measured"), "a smoke-size run proves nothing");
        assert_eq!(verdict("grow with due"), Some("met"));
        assert_eq!(verdict("`bus`"), Some("missed"), "3.2 / 2.0 = 1.6×");
        assert_eq!(verdict("`check`"), Some("met"), "init 1.4 / 1.0");
        assert_eq!(verdict("largest function binary"), Some("missed"), "check is 10.2 MB");
        assert_eq!(verdict("idle clients"), Some("met"), "10 of at most 11 requests per read of 1,000 channels");
        assert_eq!(verdict("2,000 waiting polls"), Some("missed"), "79% is under 80%");
    }

    #[test]
    fn the_elements_size_and_its_polls_are_judged() {
        let ui = |gzip: u64, most: u64| json!({"benches": {"ui": {"bundle_gzip_bytes": gzip, "polls_in_flight_at_most": most, "p50_ms": 190.0}}});
        let verdicts = |results: &Value| {
            let judged = targets(results, &[]);
            let verdict = |name: &str| judged.iter().find(|t| t.name.contains(name)).map(|t| (t.verdict, t.measured.clone()));
            (verdict("element, gzipped"), verdict("three tabs"))
        };
        assert_eq!(verdicts(&ui(23_763, 1)), (Some(("met", "23.8 KB".to_owned())), Some(("met", "1".to_owned()))));
        assert_eq!(verdicts(&ui(30_001, 3)), (Some(("missed", "30.0 KB".to_owned())), Some(("missed", "3".to_owned()))));
        let document = render(&ui(23_763, 1), &[], &targets(&ui(23_763, 1), &[]), false).expect("renders");
        assert!(document.contains("| API send → item visible, p50 / p90 / p99 | 190 / — / — ms"), "{document}");
    }

    #[test]
    fn the_document_renders_without_any_figure_and_with_every_target() {
        let results = json!({"run": {}, "machine": {}, "benches": {}, "peers": {}});
        let document = render(&results, &[], &targets(&results, &[]), true).expect("renders");
        assert!(document.contains("**Smoke run**"));
        assert!(document.contains("0 met, 0 missed, 15 not measured (1 informative, not counted)"), "{document}");
        assert!(!document.contains("undefined"));

        let peers = peer_tables(&json!({"trytond-single": run(6.0, 200.0), "herald": run(0.6, 1_800.0)}));
        let results = json!({"machine": {"cores": 2}, "benches": {}, "peers": {}});
        let document = render(&results, &peers, &targets(&results, &peers), false).expect("renders");
        assert!(!document.contains("Smoke run"));
        assert!(document.contains("| Herald, durable embedded store (SQLite, synced commits) | 0.60 / 1.2 ms | 0.10× | — / — / 1,800 (9.0×) | 0 / 3 / 5 |"), "{document}");

        let bus = json!({"publish_rate": {"alone_per_sec": 2100.0, "waiting": 2000, "secs": 5, "beside_waiting_per_sec": 1491.0, "ratio": 0.71}});
        let results = json!({"machine": {"cores": 2}, "benches": {"bus": bus}, "peers": {}});
        let document = render(&results, &[], &targets(&results, &[]), false).expect("renders");
        assert!(document.contains("**2,100/s alone, 1,491/s beside them (0.71x)**"), "{document}");
    }

    #[test]
    fn the_durable_store_lines_render_and_are_judged() {
        let store = |p50: f64, per_s: f64| json!({"latency_ms": {"p50": p50, "p99": 2.0, "samples": 300},
            "throughput": {"pollers": 100, "messages": 200, "delivered": 20000, "expected": 20000, "deliveries_per_sec": per_s}});
        let bus = json!({"stores": {"durable": store(1.25, 9000.0), "memory": store(0.4, 20000.0)},
            "disk_bytes_per_message": {"live": 612.0, "compact": 401.0, "messages": 20000}});
        let figures = |rate: f64| json!({"fan_out_notifications_per_sec": {"in_app": rate, "email": rate}, "outbox_deliveries_per_sec": {"in_app": 900.0, "email": 800.0}});
        let mut notifications = figures(5.0);
        notifications["recipients"] = json!(1000);
        notifications["durable"] = figures(2.0);
        let check = |secs: f64| json!({"subscriptions": 10000, "records": 100000, "wall_secs": secs, "rss_growth_mib": 10.0, "peak_rss_mib": 100.0, "digests": 3});
        let mut subscriptions = json!({"embedded": check(1.0), "durable": check(2.5)});
        subscriptions["durable"]["rss_growth_mib"] = json!(-3.2);
        let results = json!({"machine": {"cores": 2}, "benches": {"bus": bus, "notifications": notifications, "subscriptions": subscriptions}, "peers": {}});
        let judged = targets(&results, &[]);
        let document = render(&results, &[], &judged, false).expect("renders");
        for line in ["publish→receive latency, durable store", "**p50 1.25 ms", "deliveries per second, memory store", "**20,000 deliveries/s**",
            "**612 bytes live, 401 bytes compact**", "in-app 2 notifications/s (2,000 recipients/s)", "**2.50 s**, 3 digests",
            "the process grew **10 MiB**", "the process shrank **3 MiB**", "| 2.50 s, -3 MiB |", "| 1.00 s, +10 MiB |"] {
            assert!(document.contains(line), "{line} missing:\n{document}");
        }
        let verdict = |name: &str| judged.iter().find(|t| t.name.contains(name)).map(|t| t.verdict);
        assert_eq!(verdict("p50, durable"), Some("met"));
        assert_eq!(verdict("durable embedded store (compiled"), Some("not measured"), "no peers run");
        assert_eq!(verdict("1% changed, durable"), Some("missed"), "2.5 s");
        assert_eq!(verdict("1% changed, embedded in memory"), Some("met"));
    }

    #[test]
    fn the_costs_targets_are_taken_from_costs_bench_and_its_table_renders() {
        let scenario = json!({"name": "Managed Instances, function URL", "wait_secs": 300.0, "poll_interval_secs": 0.5,
            "by_clients": [{"clients": 10.0, "cost": {"total": 21.5}}, {"clients": 1000.0, "cost": {"total": 0.25}}, {"clients": 10000.0, "cost": {"total": 0.015}}]});
        let costs = json!({"prices": {"region": "us-east-1", "date": "2026-12-08"}, "client_month": [scenario],
            "work": {"in_app_per_million": {"total": 7.77}, "email_per_million": {"total": 103.0}, "email_per_million_essentials": {"total": 163.0}, "check_10k": {"total": 0.072}},
            "targets": [{"name": "MI, 1,000 clients", "value": 0.25, "limit": 0.10, "largest": "instances $0.206", "verdict": "not met"},
                {"name": "MI, 10,000 clients", "value": 0.015, "limit": 0.02, "largest": "instances $0.010", "verdict": "met"}]});
        let results = json!({"machine": {"cores": 2}, "benches": {"costs": costs}, "peers": {}});
        let judged = targets(&results, &[]);
        let verdict = |name: &str| judged.iter().find(|t| t.name.contains(name)).map(|t| (t.verdict, t.measured.clone(), t.limit.clone()));
        assert_eq!(verdict("MI, 1,000"), Some(("missed", "$0.250 (instances $0.206)".to_owned(), "≤ $0.10".to_owned())));
        assert_eq!(verdict("MI, 10,000"), Some(("met", "$0.015 (instances $0.010)".to_owned(), "≤ $0.02".to_owned())));
        let document = render(&results, &[], &judged, false).expect("renders");
        for line in ["| Managed Instances, function URL | 300 s (heads every 0.5 s) | $21.500 | $0.250 | $0.015 |", "A million in-app deliveries **$7.77**",
            "one check of 10,000 due subscriptions **$0.072**", "(us-east-1, 2026-12-08)"] {
            assert!(document.contains(line), "{line} missing:\n{document}");
        }
    }
}
