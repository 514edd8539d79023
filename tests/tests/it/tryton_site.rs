//! A real Tryton site moved to Herald by configuration: trytond 8.2 from
//! PyPI on SQLite with the module `herald` (integrations/tryton), its
//! `[bus]` and `[herald]` lines written as `example.conf` says, and Herald
//! (`herald-local`, embedded or `--aws` on moto). Users log in through
//! trytond (`common.db.login`); the unchanged desktop client (`tryton.bus`)
//! and sao (`src/bus.js`) poll Herald with the session trytond gave them and
//! the `bus_url_host` of its answer. Messages come from committed trytond
//! transactions (`trytond.bus.notify`, `res.notification`), run by a
//! publisher process on the same database (tests/clients/tryton_site.py).
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use base64::Engine as _;
use herald_tests::*;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::OnceCell;

use crate::tryton_clients::{next_line, Client, Listener};

/// The venv with trytond and the module (scripts/test makes it).
fn trytond_python() -> PathBuf {
    let python = std::env::var_os("HERALD_TRYTOND_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv-trytond/bin/python"));
    assert!(python.exists(), "no Python with trytond and the module herald: run scripts/test");
    python
}

fn site_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("clients/tryton_site.py")
}

/// A database with the module activated and the users ann and bob, made
/// once per test run and copied for each site.
async fn template() -> &'static PathBuf {
    static TEMPLATE: OnceCell<PathBuf> = OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            let dir = fresh_dir("tryton-site-template");
            let status = Command::new(trytond_python()).arg(site_script()).arg("create").arg(&dir).stdout(Stdio::null()).status().await.expect("run tryton_site.py create");
            assert!(status.success(), "creating the trytond database failed");
            dir
        })
        .await
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

const PASSWORD: &str = "herald-e2e-password-2026";

/// A trytond login: what `common.db.login` answered.
struct Login {
    login: String,
    uid: u64,
    key: String,
    bus_url_host: String,
}

impl Login {
    /// A real client listening with this session at the `bus_url_host`
    /// trytond answered.
    async fn listen(&self, client: Client, channels: &[String]) -> Listener {
        Listener::start(client, &self.bus_url_host, &self.login, &self.uid.to_string(), &self.key, channels).await
    }

    fn authorization(&self) -> String {
        let session = format!("{}:{}:{}", self.login, self.uid, self.key);
        format!("Session {}", base64::engine::general_purpose::STANDARD.encode(session))
    }
}

/// trytond serving the site, and a publisher running commands in its own
/// transactions.
struct Site {
    url: String,
    config: PathBuf,
    log: PathBuf,
    http: reqwest::Client,
    _trytond: Child,
    _publisher: Child,
    publisher_in: ChildStdin,
    publisher_out: Lines<BufReader<ChildStdout>>,
}

impl Site {
    async fn start(gw: &Gateway) -> Self {
        let dir = fresh_dir("tryton-site");
        std::fs::copy(template().await.join("demo.sqlite"), dir.join("demo.sqlite")).expect("copy the template database");
        let port = free_port();
        let status = Command::new(trytond_python())
            .arg(site_script())
            .arg("configure")
            .arg(&dir)
            .arg(port.to_string())
            .arg(&gw.url)
            .env("HERALD_ADMIN_TOKEN", admin_token())
            .status()
            .await
            .expect("run tryton_site.py configure");
        assert!(status.success());
        let config = dir.join("trytond.conf");
        let log = dir.join("trytond.log");
        let trytond = Command::new(trytond_python().with_file_name("trytond"))
            .arg("-c")
            .arg(&config)
            .args(["-d", DB])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("trytond log"))
            .kill_on_drop(true)
            .spawn()
            .expect("start trytond");
        let url = format!("http://127.0.0.1:{port}/");
        let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let version = http.post(format!("{url}rpc/")).json(&json!({"id": 0, "method": "common.server.version", "params": []})).send().await;
            if version.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "trytond did not answer in 60 s (log: {})", log.display());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut publisher = Command::new(trytond_python())
            .arg(site_script())
            .arg("publisher")
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start the publisher");
        let publisher_in = publisher.stdin.take().expect("stdin");
        let mut publisher_out = BufReader::new(publisher.stdout.take().expect("stdout")).lines();
        assert_eq!(next_line(&mut publisher_out).await, "ready");
        Self { url, config, log, http, _trytond: trytond, _publisher: publisher, publisher_in, publisher_out }
    }

    /// Runs one command in its own trytond transaction; returns once it
    /// ended and what it committed reached Herald.
    async fn run(&mut self, command: Value) -> Value {
        self.publisher_in.write_all(format!("{command}\n").as_bytes()).await.expect("write to the publisher");
        let line = next_line(&mut self.publisher_out).await;
        let answer = line.strip_prefix("ok ").unwrap_or_else(|| panic!("publisher answered {line}"));
        serde_json::from_str(answer).expect("JSON answer")
    }

    async fn rpc(&self, method: &str, params: Value, authorization: Option<&str>) -> Value {
        let mut request = self.http.post(format!("{}demo/rpc/", self.url)).json(&json!({"id": 1, "method": method, "params": params}));
        if let Some(authorization) = authorization {
            request = request.header("Authorization", authorization);
        }
        let response = request.send().await.expect("trytond answers");
        assert!(response.status().is_success(), "{method}: {} (log: {})", response.status(), self.log.display());
        let body: Value = response.json().await.expect("JSON-RPC answer");
        assert!(body.get("error").is_none_or(Value::is_null), "{method}: {body}");
        body["result"].clone()
    }

    /// Logs in through trytond, as the clients do.
    async fn login(&self, login: &str) -> Login {
        let answer = self.rpc("common.db.login", json!([login, {"password": PASSWORD}, "en"]), None).await;
        Login {
            login: login.to_owned(),
            uid: answer[0].as_u64().expect("user id"),
            key: answer[1].as_str().expect("session key").to_owned(),
            bus_url_host: answer[2].as_str().expect("bus_url_host").to_owned(),
        }
    }

    async fn logout(&self, login: &Login) {
        self.rpc("common.db.logout", json!([]), Some(&login.authorization())).await;
    }

    /// `trytond-herald push-sessions`: the live sessions mirrored again,
    /// the others removed from Herald.
    async fn push_sessions(&self) {
        let status = Command::new(trytond_python().with_file_name("trytond-herald"))
            .args(["push-sessions", "-c"])
            .arg(&self.config)
            .args(["-d", DB])
            .stdout(Stdio::null())
            .status()
            .await
            .expect("run trytond-herald push-sessions");
        assert!(status.success(), "push-sessions failed");
    }
}

/// A poll of Herald's bus with a trytond session, as the clients send it.
async fn poll_status(gw: &Gateway, login: &Login) -> u16 {
    gw.http
        .post(format!("{}/{DB}/bus", gw.url))
        .header("Authorization", login.authorization())
        .json(&json!({"channels": [], "last_message": null}))
        .send()
        .await
        .expect("poll")
        .status()
        .as_u16()
}

async fn a_site_switches_its_bus_to_herald(store: Store) {
    let gw = Gateway::start_with(GatewayOptions { wait_secs: 1, ..GatewayOptions::new(store) }).await;
    let mut site = Site::start(&gw).await;
    let users = site.run(json!({"op": "users"})).await;
    let (ann_uid, bob_uid) = (users["ann"].as_u64().expect("ann"), users["bob"].as_u64().expect("bob"));

    let ann = site.login("ann").await;
    assert_eq!(ann.uid, ann_uid);
    assert_eq!(ann.bus_url_host, format!("{}/", gw.url), "trytond sends its clients to Herald");
    let notification_channel = format!("notification:{ann_uid}");
    let mut desktop = ann.listen(Client::Desktop, std::slice::from_ref(&notification_channel)).await;
    let mut web = ann.listen(Client::Web, std::slice::from_ref(&notification_channel)).await;
    let ann_channel = format!("user:{ann_uid}");

    // notify() to the user, from a committed transaction: each client once.
    site.run(json!({"op": "notify", "title": "to ann", "body": "b", "priority": 2, "user": ann_uid})).await;
    for client in [&mut desktop, &mut web] {
        let (channel, message) = client.next().await;
        assert_eq!(channel, ann_channel);
        assert_eq!((message["type"].as_str(), message["title"].as_str(), message["priority"].as_u64()), (Some("notification"), Some("to ann"), Some(2)));
    }

    // bob, logged in through trytond, asks for ann's channels (the clients
    // above have polled theirs, so their ids are ann's).
    let bob = site.login("bob").await;
    let foreign = [format!("user:{ann_uid}"), notification_channel.clone(), format!("client:{}", desktop.id), format!("client:{}", web.id)];
    let mut bob_client = bob.listen(Client::Desktop, &foreign).await;
    site.run(json!({"op": "notify", "title": "bob listens", "user": bob_uid})).await;
    assert_eq!(bob_client.next_title().await, (format!("user:{bob_uid}"), "bob listens".to_owned()));

    // notify(client=…) alone reaches that client only.
    site.run(json!({"op": "notify", "title": "to the desktop", "client": desktop.id})).await;
    assert_eq!(desktop.next_title().await, (format!("client:{}", desktop.id), "to the desktop".to_owned()));
    site.run(json!({"op": "notify", "title": "to sao", "client": web.id})).await;
    assert_eq!(web.next_title().await, (format!("client:{}", web.id), "to sao".to_owned()));

    // A res.notification record: notification:<uid>, for ann's clients.
    site.run(json!({"op": "notification", "user": ann_uid, "label": "Invoice 7 posted"})).await;
    for client in [&mut desktop, &mut web] {
        let (channel, message) = client.next().await;
        assert_eq!(channel, notification_channel);
        assert_eq!(message["type"], "user-notification");
        assert_eq!(message["count"], 1);
        assert_eq!(message["content"], json!(["Invoice 7 posted"]));
    }

    // A rolled-back transaction delivers nothing: the next message each
    // client handles is the one committed after it.
    site.run(json!({"op": "notify", "title": "rolled back", "user": ann_uid, "rollback": true})).await;
    site.run(json!({"op": "notify", "title": "last", "user": ann_uid})).await;
    for client in [&mut desktop, &mut web] {
        assert_eq!(client.next_title().await, (ann_channel.clone(), "last".to_owned()));
    }

    // Nothing of ann's reached bob: his next message is his own.
    site.run(json!({"op": "notify", "title": "bob again", "user": bob_uid})).await;
    assert_eq!(bob_client.next_title().await, (format!("user:{bob_uid}"), "bob again".to_owned()));

    // After logout, Herald refuses the session (the module removes it once
    // the logout committed).
    assert_eq!(poll_status(&gw, &ann).await, 200);
    site.logout(&ann).await;
    let mut status = 0;
    for _ in 0..100 {
        status = poll_status(&gw, &ann).await;
        if status == 401 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 401, "the session of a logged-out user still polls");
    assert_eq!(poll_status(&gw, &bob).await, 200, "bob's session is his own");

    // A mirror that missed something (here: bob's session gone from Herald)
    // is repaired by push-sessions; ann's ended session stays refused.
    let (removed, answer) = gw.post(&format!("/{DB}/tryton/sessions/remove"), Some(&admin_token()), &json!({"users": [bob_uid]})).await;
    assert_eq!(removed, 200, "{answer}");
    assert_eq!(poll_status(&gw, &bob).await, 401);
    site.push_sessions().await;
    assert_eq!(poll_status(&gw, &bob).await, 200, "bob's live session mirrored again");
    assert_eq!(poll_status(&gw, &ann).await, 401, "ann's ended session not brought back");
}

on_both_stores!(a_site_switches_its_bus_to_herald);
