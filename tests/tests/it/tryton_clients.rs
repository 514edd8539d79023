//! The real Tryton clients, unchanged, against the local gateway: the desktop
//! client's `tryton.bus` (Python) and the web client sao's `src/bus.js` (under
//! jsdom). Each receives the notifications published for it and keeps
//! receiving across long-poll timeouts (the gateway waits 1 s per poll here).
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use herald_tests::*;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

#[derive(Clone, Copy, Debug)]
pub(crate) enum Client {
    Desktop,
    Web,
}

fn clients_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("clients")
}

pub(crate) fn command(client: Client) -> Command {
    match client {
        Client::Desktop => {
            let python = std::env::var_os("HERALD_TEST_PYTHON")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python"));
            assert!(python.exists(), "no Python with the tryton package: run scripts/test");
            let mut c = Command::new(python);
            c.arg(clients_dir().join("tryton_desktop.py"));
            c
        }
        Client::Web => {
            assert!(clients_dir().join("node_modules/tryton-sao").exists(), "tryton-sao is not installed: run scripts/test");
            let mut c = Command::new("node");
            c.arg(clients_dir().join("sao_bus.mjs"));
            c
        }
    }
}

pub(crate) async fn next_line(lines: &mut Lines<BufReader<ChildStdout>>) -> String {
    tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the client printed nothing for 30 s")
        .expect("read client output")
        .expect("the client exited")
}

async fn next_message(lines: &mut Lines<BufReader<ChildStdout>>) -> Value {
    serde_json::from_str(&next_line(lines).await).expect("a JSON line")
}

/// A real client listening: `ready <client-id>` printed, then one JSON line
/// per message it handled.
pub(crate) struct Listener {
    pub(crate) id: String,
    lines: Lines<BufReader<ChildStdout>>,
    _child: Child,
}

impl Listener {
    /// Listens at `base_url` with the session `login:uid:key`, on the
    /// client's own channels and `channels`.
    pub(crate) async fn start(client: Client, base_url: &str, login: &str, uid: &str, key: &str, channels: &[String]) -> Self {
        let mut child = command(client)
            .args([base_url, DB, login, uid, key])
            .args(channels)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start the client");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let ready = next_line(&mut lines).await;
        let id = ready.strip_prefix("ready ").expect("ready line").to_owned();
        Self { id, lines, _child: child }
    }

    /// The next message handled: {"channel", "message"}.
    pub(crate) async fn next_json(&mut self) -> Value {
        next_message(&mut self.lines).await
    }

    /// The next message handled: (channel, message).
    pub(crate) async fn next(&mut self) -> (String, Value) {
        let got = self.next_json().await;
        (got["channel"].as_str().unwrap_or_default().to_owned(), got["message"].clone())
    }

    /// The next message's channel and title.
    pub(crate) async fn next_title(&mut self) -> (String, String) {
        let (channel, message) = self.next().await;
        (channel, message["title"].as_str().unwrap_or_default().to_owned())
    }
}

async fn receives_notifications(store: Store, client: Client) {
    let gw = Gateway::start_with(GatewayOptions { wait_secs: 1, ..GatewayOptions::new(store) }).await;
    let (admin, uid) = (admin_token(), "7");
    let mut listener = Listener::start(client, &gw.url, "admin", uid, &user_token(uid), &[]).await;
    let client_id = listener.id.clone();

    // Tryton's `notify(client=…)`: the client id alone.
    gw.notify(&admin, json!({"title": "to this client", "body": "b", "priority": 3, "client": client_id})).await;
    let got = listener.next_json().await;
    assert_eq!(got["channel"], format!("client:{client_id}"));
    assert_eq!(got["message"]["type"], "notification");
    assert_eq!(got["message"]["title"], "to this client");
    assert_eq!(got["message"]["priority"], 3);

    // Several empty long polls go by; the client keeps listening.
    tokio::time::sleep(Duration::from_secs(3)).await;
    gw.notify(&admin, json!({"title": "after timeouts", "user": 7})).await;
    gw.notify(&admin, json!({"title": "and one more", "user": "7", "client": client_id})).await;
    // Two channels: each arrives once (their relative order is publish time,
    // which may be the same millisecond).
    let mut got = [listener.next_json().await, listener.next_json().await];
    got.sort_by_key(|m| m["message"]["title"].as_str().map(str::to_owned));
    assert_eq!((got[0]["channel"].as_str(), got[0]["message"]["title"].as_str()), (Some("user:7"), Some("after timeouts")));
    assert_eq!(got[1]["channel"], format!("client:{client_id}"));
    assert_eq!(got[1]["message"]["title"], "and one more");

    // Nothing for another user reaches it.
    gw.notify(&admin, json!({"title": "for someone else", "user": 8})).await;
    gw.notify(&admin, json!({"title": "last", "user": 7})).await;
    assert_eq!(listener.next_json().await["message"]["title"], "last");
}

async fn desktop_client(store: Store) {
    receives_notifications(store, Client::Desktop).await;
}

async fn web_client(store: Store) {
    receives_notifications(store, Client::Web).await;
}

on_both_stores!(desktop_client, web_client);
