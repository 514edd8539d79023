//! Helpers for end-to-end tests: start `herald-local` (embedded, or `--aws`
//! against the moto server that `scripts/test` started), mint tokens, poll and
//! publish over HTTP.
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use herald::auth::{issue, TenantClaim, TokenRequest};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const SECRET: &str = "herald-test-secret-not-for-production";
pub const DB: &str = "demo";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    Embedded,
    /// DynamoDB on moto server; needs `AWS_ENDPOINT_URL`.
    Moto,
}

pub fn local_gateway_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("HERALD_LOCAL_BIN") {
        return path.into();
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/debug/herald-local");
    assert!(path.exists(), "{} is missing: run `cargo build --bins` (scripts/test does)", path.display());
    path
}

pub struct Gateway {
    child: Child,
    pub url: String,
    pub http: reqwest::Client,
    /// Where the embedded mailer writes `.eml` files.
    pub mail_dir: PathBuf,
    /// The data table (`--aws`); the outbox queue is `{data_table}-outbox`.
    pub data_table: Option<String>,
    /// The data directory (embedded).
    pub data_dir: Option<PathBuf>,
}

pub struct GatewayOptions {
    pub store: Store,
    pub wait_secs: u64,
    /// DynamoDB table of the bus; several gateways may share one.
    pub bus_table: Option<String>,
    /// More environment for the gateway.
    pub env: Vec<(String, String)>,
    /// Where the gateway's log (standard error) goes; inherited when `None`.
    pub log_file: Option<PathBuf>,
    /// The data directory (embedded): a fresh one when `None`; name one to
    /// start a gateway again on the state of one stopped.
    pub data_dir: Option<PathBuf>,
    /// Where the embedded mailer writes: a fresh folder when `None`.
    pub mail_dir: Option<PathBuf>,
    /// No `HERALD_JWT_SECRET`: the gateway makes (or finds) its own.
    pub generated_secret: bool,
    /// `--memory`: the embedded store in memory, no data directory.
    pub memory: bool,
}

impl GatewayOptions {
    pub fn new(store: Store) -> Self {
        Self { store, wait_secs: 2, bus_table: None, env: Vec::new(), log_file: None, data_dir: None, mail_dir: None, generated_secret: false, memory: false }
    }
}

/// A new, empty folder under `target/` (data directories, mail folders).
pub fn fresh_dir(kind: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target").join(kind).join(uuid_like());
    std::fs::create_dir_all(&dir).expect("create a test folder");
    dir
}

/// The sender every test gateway uses (`HERALD_EMAIL_FROM`).
pub const EMAIL_FROM: &str = "herald@example.com";

pub fn fresh_table() -> String {
    format!("herald-bus-{}", uuid_like())
}

fn uuid_like() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{nanos:x}-{}-{n}", std::process::id())
}

impl Gateway {
    pub async fn start(store: Store) -> Self {
        Self::start_with(GatewayOptions::new(store)).await
    }

    pub async fn start_with(options: GatewayOptions) -> Self {
        let mut command = Command::new(local_gateway_binary());
        let mut data_table = None;
        command
            .args(["--port", "0"])
            .env("HERALD_JWT_SECRET", SECRET)
            .env("HERALD_BUS_WAIT_SECS", options.wait_secs.to_string())
            .env("HERALD_BUS_POLL_MS", "100")
            .env("RUST_LOG", "warn")
            .env("HERALD_EMAIL_FROM", EMAIL_FROM)
            // Failed sends retried at once, unless a test says otherwise.
            .env("HERALD_OUTBOX_RETRY_SECS", "0")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        if options.store == Store::Moto {
            assert!(
                std::env::var_os("AWS_ENDPOINT_URL").is_some(),
                "AWS_ENDPOINT_URL is not set: run the suite with scripts/test (it starts moto server)"
            );
            let table = options.bus_table.unwrap_or_else(fresh_table);
            // Gateways sharing a bus table share the data table (and queue).
            data_table = Some(format!("{table}-data"));
            command.arg("--aws").env("HERALD_DATA_TABLE", data_table.clone().unwrap_or_default()).env("HERALD_BUS_TABLE", table);
        }
        let mut data_dir = None;
        if options.store == Store::Embedded && options.memory {
            command.arg("--memory");
        } else if options.store == Store::Embedded {
            let dir = options.data_dir.clone().unwrap_or_else(|| fresh_dir("test-data"));
            command.arg("--data-dir").arg(&dir);
            data_dir = Some(dir);
        }
        let mail_dir = options.mail_dir.clone().unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/test-mail").join(uuid_like()));
        command.env("HERALD_MAIL_DIR", &mail_dir);
        for (name, value) in &options.env {
            command.env(name, value);
        }
        if options.generated_secret {
            command.env_remove("HERALD_JWT_SECRET");
        }
        if let Some(path) = &options.log_file {
            command.stderr(std::fs::File::create(path).expect("log file"));
        }
        let mut child = command.spawn().expect("spawn herald-local");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let url = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.expect("read stdout") {
                if let Some(rest) = line.strip_prefix("herald-local listening on ") {
                    return rest.split_whitespace().next().map(str::to_owned);
                }
            }
            None
        })
        .await
        .expect("herald-local did not start in time")
        .expect("herald-local exited before listening");
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("client");
        Self { child, url, http, mail_dir, data_table, data_dir }
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// `kill -9`: the process ends at once, mid-write or not.
    pub async fn kill_hard(mut self) {
        self.child.start_kill().expect("send SIGKILL");
        self.child.wait().await.expect("wait for herald-local");
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        self.post_raw(path, token, body.to_string()).await
    }

    pub async fn post_raw(&self, path: &str, token: Option<&str>, body: String) -> (u16, Value) {
        let mut request = self.http.post(format!("{}{path}", self.url)).body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        json_answer(request).await
    }

    /// Any method, JSON body optional; the status and the JSON answer.
    pub async fn send(&self, method: reqwest::Method, path: &str, token: Option<&str>, body: Option<&Value>) -> (u16, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        json_answer(request).await
    }

    /// Sends `request` as it is on a new connection; the whole answer as
    /// text, read until the server closes it.
    pub async fn raw_http(&self, request: &str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let address = self.url.trim_start_matches("http://");
        let mut stream = tokio::net::TcpStream::connect(address).await.expect("connect");
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
        String::from_utf8_lossy(&answer).into_owned()
    }

    /// One poll; panics unless it answers 200.
    pub async fn poll(&self, token: &str, last_message: Option<&str>, channels: &[&str]) -> Value {
        let (status, body) =
            self.post(&format!("/{DB}/bus"), Some(token), &json!({"last_message": last_message, "channels": channels})).await;
        assert_eq!(status, 200, "poll answered {body}");
        body
    }

    pub async fn notify(&self, admin: &str, request: Value) -> Value {
        let (status, body) = self.post(&format!("/{DB}/notify"), Some(admin), &request).await;
        assert_eq!(status, 200, "notify answered {body}");
        body
    }

    pub async fn publish(&self, admin: &str, channel: &str, message: Value) -> Value {
        let (status, body) =
            self.post(&format!("/{DB}/bus/publish"), Some(admin), &json!({"channel": channel, "message": message})).await;
        assert_eq!(status, 200, "publish answered {body}");
        body
    }

    /// Moves the gateway's one clock (an operator's route: every tenant's).
    pub async fn advance_clock(&self, secs: u64) {
        let (status, body) = self.post("/_local/clock", Some(&operator_token()), &json!({"advance_secs": secs})).await;
        assert_eq!(status, 200, "clock answered {body}");
    }
}

/// Sends a request; its status and JSON answer (panics on a non-JSON answer).
async fn json_answer(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("non-JSON answer {status}: {text}"));
    (status, value)
}

pub struct TokenSpec<'a> {
    pub sub: &'a str,
    pub db: TenantClaim,
    pub roles: &'a [&'a str],
    pub channels: &'a [&'a str],
    pub exp_offset_secs: i64,
    pub secret: &'a str,
}

impl Default for TokenSpec<'_> {
    fn default() -> Self {
        Self { sub: "1", db: TenantClaim::One(DB.into()), roles: &[], channels: &[], exp_offset_secs: 3600, secret: SECRET }
    }
}

pub fn token_with(spec: TokenSpec<'_>) -> String {
    let request = TokenRequest {
        sub: spec.sub.into(),
        tenants: spec.db,
        roles: spec.roles.iter().map(|r| r.to_string()).collect(),
        channels: spec.channels.iter().map(|c| c.to_string()).collect(),
        expires_in_secs: spec.exp_offset_secs,
        issuer: None,
        audience: None,
    };
    issue(spec.secret.as_bytes(), &request).expect("mint")
}

pub fn user_token(sub: &str) -> String {
    token_with(TokenSpec { sub, ..Default::default() })
}

pub fn admin_token() -> String {
    token_with(TokenSpec { sub: "0", roles: &["admin"], ..Default::default() })
}

/// An admin of every tenant: `herald-local`'s own routes need one.
pub fn operator_token() -> String {
    token_with(TokenSpec { sub: "0", roles: &["admin"], db: TenantClaim::One("*".into()), ..Default::default() })
}

/// The message of a poll reply, if any.
pub fn message(reply: &Value) -> Option<&Value> {
    reply.get("message").filter(|m| !m.is_null())
}

pub fn message_id(reply: &Value) -> Option<String> {
    message(reply).and_then(|m| m["message_id"].as_str()).map(str::to_owned)
}

/// Runs a test body against each store, as separate `#[tokio::test]`s.
#[macro_export]
macro_rules! on_both_stores {
    ($($case:ident),* $(,)?) => {
        mod embedded {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
              async fn $case() { super::$case($crate::Store::Embedded).await; })*
        }
        mod moto {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
              async fn $case() { super::$case($crate::Store::Moto).await; })*
        }
    };
}

/// An email as a test sees it, from an `.eml` file or from moto's SES.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SentMail {
    pub to: String,
    pub subject: String,
}

/// An email with its body: the raw `.eml` text, or the body moto kept (the
/// HTML part when there are two).
#[derive(Debug, Clone)]
pub struct SentMailWithBody {
    pub to: String,
    pub subject: String,
    pub body: String,
}

impl Gateway {
    /// Runs the scheduled jobs once and drains the outbox; the report.
    pub async fn tick(&self) -> Value {
        let (status, body) = self.post("/_local/tick", Some(&operator_token()), &json!({})).await;
        assert_eq!(status, 200, "tick answered {body}");
        body
    }

    /// Emails sent so far to addresses ending in `domain`, sorted: `.eml`
    /// files (embedded) or moto's SES messages (`--aws`).
    pub async fn sent_mail(&self, domain: &str) -> Vec<SentMail> {
        let mut mails: Vec<SentMail> =
            self.sent_mail_with_body(domain).await.into_iter().map(|m| SentMail { to: m.to, subject: m.subject }).collect();
        mails.sort();
        mails
    }

    /// As `sent_mail`, with bodies, in no particular order.
    pub async fn sent_mail_with_body(&self, domain: &str) -> Vec<SentMailWithBody> {
        let mut mails = match self.data_table {
            None => eml_files(&self.mail_dir),
            Some(_) => moto_ses_messages(&self.http).await,
        };
        mails.retain(|m| m.to.ends_with(domain));
        mails
    }
}

fn eml_files(dir: &std::path::Path) -> Vec<SentMailWithBody> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut mails = Vec::new();
    for entry in entries.flatten() {
        let text = std::fs::read_to_string(entry.path()).expect("read .eml");
        let header = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.trim().trim_start_matches('<').trim_end_matches('>').to_owned())
                .unwrap_or_default()
        };
        mails.push(SentMailWithBody { to: header("To:"), subject: header("Subject:"), body: text.clone() });
    }
    mails
}

/// moto keeps sent SES messages in its backend; `/moto-api/data.json`
/// shows them.
async fn moto_ses_messages(http: &reqwest::Client) -> Vec<SentMailWithBody> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL");
    let data: Value = http.get(format!("{endpoint}/moto-api/data.json")).send().await.expect("moto data").json().await.expect("json");
    let mut mails = Vec::new();
    for message in data["ses"]["Message"].as_array().into_iter().flatten() {
        let subject = message["subject"].as_str().unwrap_or_default().to_owned();
        let body = message["body"].as_str().unwrap_or_default().to_owned();
        for to in message["destinations"]["ToAddresses"].as_array().into_iter().flatten() {
            mails.push(SentMailWithBody { to: to.as_str().unwrap_or_default().to_owned(), subject: subject.clone(), body: body.clone() });
        }
    }
    mails
}

/// AWS clients on the moto server the suite started.
pub async fn aws_config() -> herald::adapters::aws::SdkConfig {
    herald::adapters::aws::load_config().await
}

/// Makes `address` a verified SES identity on moto (moto refuses to send
/// from anything else, as SES does).
pub async fn verify_sender(address: &str) {
    let ses = aws_sdk_sesv2::Client::new(&aws_config().await);
    let _ = ses.create_email_identity().email_identity(address).send().await;
}

/// A domain unique to one test run, so tests sharing moto's SES tell their
/// mail apart.
pub fn mail_domain() -> String {
    format!("t{}.example", uuid_like().replace('-', ""))
}
