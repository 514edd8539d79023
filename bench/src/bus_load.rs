//! `bus-load`: K simulated Tryton desktop clients in one process, each a
//! long-polling bus listener speaking exactly what `tryton.bus` (the desktop
//! client's `bus.py`) speaks, each with its own `reqwest::Client` and so its
//! own connection.
//!
//! `bench/peers/bus_compare.py --client rust` drives it instead of K Python
//! processes (`tests/clients/tryton_desktop.py`), which cost ~1.3 ms of CPU
//! per delivery and so cap what a 2-core machine can measure.
//!
//! The protocol, per client (tryton 7.x/8.x `Bus._listen`):
//!
//! - `POST <base>/<db>/bus`, `Content-Type: application/json`,
//!   `Authorization: Session base64("<login>:<uid>:<session>")`, body
//!   `{"last_message": <id or null>, "channels": ["client:<uuid>", "user:<uid>"]}`;
//! - an answer whose `message` is truthy: `last_message = message.message_id`
//!   and the message is handled if its `channel` is one of ours; a falsy
//!   `message` (the server's long-poll timeout): poll again at once;
//! - the client's own timeout (`client.bus_timeout`, 60 s here as in
//!   tryton_desktop.py): poll again at once;
//! - a redirect: poll the `Location` instead; 501: the bus is not supported,
//!   the listener stops; any other error: sleep 1, 2, 4… s (at most the bus
//!   timeout) and retry;
//! - an answer `bus.py` cannot parse (not JSON, no `message`, no
//!   `message_id`, no `channel`) kills its listener thread: here the client
//!   stops and says so on stderr.
//!
//! stdout, for the driver: `ready <K>` once all K clients are about to send
//! their first poll, then one JSON line per handled message:
//! `{"client": i, "channel": "...", "message": {...}, "t": <unix s>}` where
//! `t` is when the answer was read. stderr: errors and a summary at the end.
//! Stops on stdin EOF, SIGTERM, SIGINT or `--max-seconds`.
//!
//! Only loopback URLs are accepted: this opens up to 1000 connections.
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, ensure, Context};
use base64::Engine;
use clap::Parser;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE, LOCATION};
use reqwest::{StatusCode, Url};
use serde_json::{json, Value};
use tokio::sync::mpsc;

const MAX_CLIENTS: usize = 1000;
const MAX_THREADS: usize = 64;
const MAX_BUS_TIMEOUT_S: u64 = 600;
const MAX_RUNTIME_S: u64 = 24 * 3600;
/// A bus answer is one message; anything bigger is not a bus answer.
const MAX_BODY_BYTES: usize = 1 << 20;
/// Consecutive redirects before a poll counts as failed (bus.py has no
/// limit; a loop would spin forever).
const MAX_REDIRECTS: u32 = 10;
/// Lines waiting for stdout; when the driver reads slower than this, the
/// clients wait for it rather than memory growing without bound.
const OUTPUT_QUEUE: usize = 16 * 1024;

#[derive(Parser)]
#[command(about = "K Tryton bus listeners (tryton.bus protocol) in one process, one connection each")]
struct Args {
    /// Server base URL, e.g. http://127.0.0.1:8000/ (loopback only).
    base_url: String,
    /// Database (trytond) or tenant (Herald): polls go to <base>/<db>/bus.
    database: String,
    /// Login, the first part of the Session credentials.
    login: String,
    /// User id: the `user:<uid>` channel and the second part of the credentials.
    uid: u64,
    /// Session key (trytond) or token (Herald).
    session: String,
    /// Simulated clients (1..=1000), all with the same credentials, as K
    /// desktop clients of one user would be.
    #[arg(long, default_value_t = 1)]
    clients: usize,
    /// The client's poll timeout, s (tryton's `client.bus_timeout`;
    /// tryton_desktop.py sets 60).
    #[arg(long, default_value_t = 60)]
    bus_timeout: u64,
    /// Runtime worker threads. One by default, so the load takes at most one
    /// core from the server it measures.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Close the connection after every poll, as urllib's `urlopen` does,
    /// instead of keeping one connection per client.
    #[arg(long)]
    connection_per_poll: bool,
    /// Stop after this many seconds even if stdin stays open.
    #[arg(long, default_value_t = 3600)]
    max_seconds: u64,
}

/// What the clients tell the stdout writer.
enum Output {
    /// A client is about to send its first poll.
    Ready,
    /// A handled message, one JSON line.
    Line(String),
}

#[derive(Default)]
struct Counters {
    polls: AtomicU64,
    messages: AtomicU64,
    empty: AtomicU64,
    timeouts: AtomicU64,
    errors: AtomicU64,
    stopped: AtomicU64,
}

/// What every client shares: the request, minus the per-client channel.
struct Shared {
    url: Url,
    authorization: HeaderValue,
    user_channel: String,
    bus_timeout: Duration,
    connection_per_poll: bool,
    counters: Counters,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    ensure!((1..=MAX_CLIENTS).contains(&args.clients), "--clients must be 1..={MAX_CLIENTS}");
    ensure!((1..=MAX_THREADS).contains(&args.threads), "--threads must be 1..={MAX_THREADS}");
    ensure!((1..=MAX_BUS_TIMEOUT_S).contains(&args.bus_timeout), "--bus-timeout must be 1..={MAX_BUS_TIMEOUT_S}");
    ensure!((1..=MAX_RUNTIME_S).contains(&args.max_seconds), "--max-seconds must be 1..={MAX_RUNTIME_S}");
    let shared = Arc::new(shared(&args)?);

    let (tx, rx) = mpsc::channel(OUTPUT_QUEUE);
    let writer = {
        let clients = args.clients;
        std::thread::spawn(move || write_output(rx, clients))
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads)
        .enable_all()
        .build()
        .context("tokio runtime")?;
    let outcome = runtime.block_on(run(&args, shared.clone(), tx));
    // Drops the client tasks, and with them their output senders: the writer
    // then drains what is queued and returns.
    runtime.shutdown_timeout(Duration::from_secs(1));
    let written = writer.join().map_err(|_| anyhow::anyhow!("the stdout writer panicked"))?;

    let c = &shared.counters;
    eprintln!(
        "bus-load: {} clients, {} polls, {} messages ({} written), {} empty answers, {} client timeouts, {} errors, {} clients stopped",
        args.clients,
        c.polls.load(Ordering::Relaxed),
        c.messages.load(Ordering::Relaxed),
        written.as_ref().map_or(0, |n| *n),
        c.empty.load(Ordering::Relaxed),
        c.timeouts.load(Ordering::Relaxed),
        c.errors.load(Ordering::Relaxed),
        c.stopped.load(Ordering::Relaxed),
    );
    outcome?;
    // A closed stdout means the driver went away: not an error of ours.
    if let Err(error) = written {
        if error.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(error).context("writing stdout");
        }
    }
    Ok(())
}

fn shared(args: &Args) -> anyhow::Result<Shared> {
    // Same as tryton_desktop.py: base.rstrip("/") + "/", then urljoin(base, f"{db}/bus").
    let base = Url::parse(&format!("{}/", args.base_url.trim_end_matches('/'))).context("base URL")?;
    ensure!(matches!(base.scheme(), "http" | "https"), "base URL must be http(s): {base}");
    ensure!(is_loopback(&base), "refusing a non-loopback base URL: {base}");
    // The database becomes a path segment: keep it one.
    ensure!(
        !args.database.is_empty()
            && args.database.len() <= 128
            && args.database.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
            && args.database != "."
            && args.database != "..",
        "database must be 1..=128 of [A-Za-z0-9_.-]: {:?}",
        args.database
    );
    let url = base.join(&format!("{}/bus", args.database)).context("bus URL")?;
    let credentials = format!("{}:{}:{}", args.login, args.uid, args.session);
    let encoded = base64::engine::general_purpose::STANDARD.encode(credentials);
    let authorization =
        HeaderValue::from_str(&format!("Session {encoded}")).context("Authorization header")?;
    Ok(Shared {
        url,
        authorization,
        user_channel: format!("user:{}", args.uid),
        bus_timeout: Duration::from_secs(args.bus_timeout),
        connection_per_poll: args.connection_per_poll,
        counters: Counters::default(),
    })
}

fn is_loopback(url: &Url) -> bool {
    match url.host_str() {
        Some(host) if host.eq_ignore_ascii_case("localhost") => true,
        // IPv6 hosts come bracketed: "[::1]".
        Some(host) => host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

/// Starts the clients and waits for a reason to stop.
async fn run(args: &Args, shared: Arc<Shared>, tx: mpsc::Sender<Output>) -> anyhow::Result<()> {
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..args.clients {
        // Built here, not in the task, so a bad setting fails the run at once.
        let http = http_client(&shared).with_context(|| format!("HTTP client {index}"))?;
        let (shared, tx) = (shared.clone(), tx.clone());
        tasks.spawn(async move {
            if let Err(error) = listen(index, http, &shared, &tx).await {
                shared.counters.stopped.fetch_add(1, Ordering::Relaxed);
                eprintln!("bus-load: client {index} stopped: {error:#}");
            }
        });
    }
    drop(tx);

    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("SIGTERM handler")?;
    let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .context("SIGINT handler")?;
    let stdin_closed = stdin_eof();
    tokio::select! {
        _ = stdin_closed => {}
        _ = sigterm.recv() => eprintln!("bus-load: SIGTERM"),
        _ = sigint.recv() => eprintln!("bus-load: SIGINT"),
        _ = tokio::time::sleep(Duration::from_secs(args.max_seconds)) => {
            eprintln!("bus-load: --max-seconds {} reached", args.max_seconds)
        }
    }
    tasks.abort_all();
    Ok(())
}

/// Resolves when stdin reaches EOF (or fails): the driver's "stop" signal,
/// as tryton_desktop.py's `sys.stdin.read()`. A plain thread, since tokio's
/// stdin is a blocking read anyway.
fn stdin_eof() -> tokio::sync::oneshot::Receiver<()> {
    let (done, closed) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut sink = std::io::sink();
        // Whatever is written to stdin is discarded; only its end matters.
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut sink);
        let _ = done.send(());
    });
    closed
}

/// One client, one connection: its own `reqwest::Client` with a pool of one.
fn http_client(shared: &Shared) -> anyhow::Result<reqwest::Client> {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(AUTHORIZATION, shared.authorization.clone());
    let builder = reqwest::Client::builder()
        .default_headers(headers)
        // bus.py handles redirects itself (re-POSTs to Location): so do we.
        .redirect(reqwest::redirect::Policy::none())
        // Loopback only: an HTTP(S)_PROXY in the environment must not divert it.
        .no_proxy()
        .connect_timeout(Duration::from_secs(10))
        .tcp_nodelay(true)
        .pool_max_idle_per_host(if shared.connection_per_poll { 0 } else { 1 })
        // The server's long poll can exceed a short keep-alive; never reuse a
        // connection idle for longer than the poll could be.
        .pool_idle_timeout(shared.bus_timeout);
    // Plain HTTP needs no root store; skipping it makes 1000 clients cheap to build.
    let builder = if shared.url.scheme() == "http" { builder.tls_built_in_root_certs(false) } else { builder };
    builder.build().context("building the HTTP client")
}

/// `Bus._listen`, for one simulated client. Returns only when the listener
/// would stop (501, an unparsable answer) or the output is gone.
async fn listen(index: usize, http: reqwest::Client, shared: &Shared, tx: &mpsc::Sender<Output>) -> anyhow::Result<()> {
    // Each desktop client has its own `client:<uuid>` channel (Bus.ID), then the user's.
    let channels = [format!("client:{}", uuid::Uuid::new_v4()), shared.user_channel.clone()];
    let counters = &shared.counters;
    let mut url = shared.url.clone();
    let mut last_message = Value::Null;
    let mut wait = 1u64;
    let mut redirects = 0u32;
    tx.send(Output::Ready).await.context("output closed")?;
    loop {
        counters.polls.fetch_add(1, Ordering::Relaxed);
        let body = json!({"last_message": last_message, "channels": channels});
        let answer = http.post(url.clone()).timeout(shared.bus_timeout).body(body.to_string()).send().await;
        let failure = match answer {
            Ok(response) if response.status().is_success() => match read_body(response).await {
                Ok(bytes) => {
                    wait = 1;
                    redirects = 0;
                    let received = unix_now();
                    let data: Value = serde_json::from_slice(&bytes).context("answer is not JSON (bus.py's listener dies here)")?;
                    let message = data.get("message").context("answer has no `message` (bus.py's listener dies here)")?;
                    if !truthy(message) {
                        counters.empty.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    last_message = message
                        .get("message_id")
                        .context("message has no `message_id` (bus.py's listener dies here)")?
                        .clone();
                    let channel = data.get("channel").context("answer has no `channel` (bus.py's listener dies here)")?;
                    counters.messages.fetch_add(1, Ordering::Relaxed);
                    // Bus.handle runs the callbacks registered for the channel:
                    // a message for a channel we do not listen to prints nothing.
                    if channels.iter().any(|c| channel.as_str() == Some(c.as_str())) {
                        let line = json!({"client": index, "channel": channel, "message": message, "t": received});
                        tx.send(Output::Line(line.to_string())).await.context("output closed")?;
                    }
                    continue;
                }
                Err(error) => error,
            },
            Ok(response) if response.status().is_redirection() => {
                redirects += 1;
                match redirect_target(&url, &response) {
                    Ok(target) if redirects <= MAX_REDIRECTS => {
                        url = target;
                        continue;
                    }
                    Ok(_) => anyhow::anyhow!("more than {MAX_REDIRECTS} redirects in a row"),
                    Err(error) => error,
                }
            }
            Ok(response) if response.status() == StatusCode::NOT_IMPLEMENTED => bail!("501: bus not supported"),
            Ok(response) => {
                let status = response.status();
                let text = read_body(response).await.unwrap_or_default();
                let text = String::from_utf8_lossy(&text[..text.len().min(200)]).into_owned();
                anyhow::anyhow!("HTTP {status}: {text}")
            }
            Err(error) if error.is_timeout() => {
                // urlopen's socket.timeout: no error, poll again at once.
                counters.timeouts.fetch_add(1, Ordering::Relaxed);
                wait = 1;
                continue;
            }
            Err(error) => anyhow::Error::new(error).context("poll"),
        };
        counters.errors.fetch_add(1, Ordering::Relaxed);
        eprintln!("bus-load: client {index}: {failure:#}; sleeping {wait} s");
        tokio::time::sleep(Duration::from_secs(wait.min(shared.bus_timeout.as_secs()))).await;
        // Doubles as bus.py's does, but stops growing once past the cap it
        // could never sleep beyond anyway.
        wait = (wait * 2).min(shared.bus_timeout.as_secs().max(1) * 2);
    }
}

/// The body, at most MAX_BODY_BYTES.
async fn read_body(mut response: reqwest::Response) -> anyhow::Result<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.context("reading the answer")? {
        ensure!(body.len() + chunk.len() <= MAX_BODY_BYTES, "answer larger than {MAX_BODY_BYTES} bytes");
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Where a redirect points, resolved against the current URL; still loopback only.
fn redirect_target(current: &Url, response: &reqwest::Response) -> anyhow::Result<Url> {
    let location = response
        .headers()
        .get(LOCATION)
        .with_context(|| format!("{} without Location", response.status()))?
        .to_str()
        .context("Location is not text")?;
    let target = current.join(location).with_context(|| format!("bad Location {location:?}"))?;
    ensure!(is_loopback(&target), "refusing a redirect off loopback: {target}");
    Ok(target)
}

/// Python truthiness, for `if data['message']:`.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// The stdout side: `ready <K>` once every client is ready, then the lines,
/// flushed whenever the queue runs dry (so the driver sees each delivery
/// promptly without a syscall per line under load). Returns the lines written.
fn write_output(mut rx: mpsc::Receiver<Output>, clients: usize) -> std::io::Result<u64> {
    use std::io::Write;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (mut ready, mut written) = (0usize, 0u64);
    while let Some(first) = rx.blocking_recv() {
        let mut next = Some(first);
        while let Some(item) = next {
            match item {
                Output::Ready => {
                    ready += 1;
                    if ready == clients {
                        writeln!(out, "ready {clients}")?;
                    }
                }
                Output::Line(line) => {
                    writeln!(out, "{line}")?;
                    written += 1;
                }
            }
            next = rx.try_recv().ok();
        }
        out.flush()?;
    }
    out.flush()?;
    Ok(written)
}
