//! The whole HTTP API as a transcript: every route, valid and refused
//! requests (bad tokens, tenants, roles, bodies, ids, double faults), run in
//! order on the embedded gateway; each answer's status and JSON body, with
//! what changes from run to run (times, random ids, cursors) replaced by
//! stable placeholders, must match the recorded snapshot
//! (`golden/api_transcript.snap`). It was recorded before the restructure
//! of issue 10, so it holds the routes, status codes, messages and JSON
//! shapes to what they were. Steps are in `golden/api_transcript.json`.
//! After an intended change: `INSTA_UPDATE=always` rewrites the snapshot;
//! review the diff.
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use herald::auth::TenantClaim;
use herald_tests::*;
use regex_lite::Regex;
use serde_json::{json, Value};

const STEPS: &str = include_str!("golden/api_transcript.json");

fn tokens() -> HashMap<&'static str, String> {
    let other = || TenantClaim::One("other".into());
    HashMap::from([
        ("admin", admin_token()),
        ("any-admin", token_with(TokenSpec { sub: "1", db: TenantClaim::One("*".into()), roles: &["admin"], ..Default::default() })),
        ("admin-other", token_with(TokenSpec { sub: "0", db: other(), roles: &["admin"], ..Default::default() })),
        ("user2", user_token("2")),
        ("user5", user_token("5")),
        ("user9", user_token("9")),
        ("chat-user", token_with(TokenSpec { sub: "8", channels: &["chat:*"], ..Default::default() })),
        ("user-other", token_with(TokenSpec { sub: "5", db: other(), ..Default::default() })),
        ("expired", token_with(TokenSpec { sub: "5", exp_offset_secs: -3600, ..Default::default() })),
        ("forged", token_with(TokenSpec { sub: "5", secret: "another-secret-of-16-bytes", ..Default::default() })),
    ])
}

/// `{name}` for a captured value, `{in:N}` for the time N seconds from now.
fn fill(text: &str, captured: &HashMap<String, String>) -> String {
    let mut text = text.to_owned();
    for (name, value) in captured {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    let later = Regex::new(r"\{in:(\d+)\}").expect("regex");
    later
        .replace_all(&text, |c: &regex_lite::Captures<'_>| {
            let secs: u64 = c[1].parse().expect("seconds");
            let at = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock") + Duration::from_secs(secs);
            herald::domain::Timestamp::from_millis(at.as_millis() as i64).to_rfc3339()
        })
        .into_owned()
}

/// Replaces what differs between runs; the same id keeps its placeholder.
struct Normalizer {
    seen: HashMap<String, String>,
    patterns: Vec<(&'static str, Regex)>,
}

impl Normalizer {
    fn new() -> Self {
        let patterns = vec![
            ("time", Regex::new(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})").expect("regex")),
            ("inbox", Regex::new(r"\d{13}-[0-9a-f]{32}-\d+").expect("regex")),
            ("id", Regex::new(r"[0-9a-f]{32}").expect("regex")),
        ];
        Self { seen: HashMap::new(), patterns }
    }

    fn text(&mut self, text: &str) -> String {
        let mut out = text.to_owned();
        for (kind, pattern) in &self.patterns {
            let mut replaced = String::new();
            let mut last = 0;
            for m in pattern.find_iter(&out) {
                replaced.push_str(&out[last..m.start()]);
                let placeholder = if *kind == "time" {
                    "<time>".to_owned()
                } else {
                    let n = self.seen.len() + 1;
                    self.seen.entry(m.as_str().to_owned()).or_insert_with(|| format!("<{kind}{n}>")).clone()
                };
                replaced.push_str(&placeholder);
                last = m.end();
            }
            replaced.push_str(&out[last..]);
            out = replaced;
        }
        out
    }

    fn value(&mut self, key: Option<&str>, value: &Value) -> Value {
        match (key, value) {
            // A cursor of positions and times; sequences and times in ms.
            (Some("message_id"), Value::String(_)) => json!("<cursor>"),
            (Some("sequence" | "now_ms" | "created_at" | "due_at" | "read_at"), Value::Number(_)) => json!("<ms>"),
            // The gateway drains the outbox every 200 ms as well: how much a
            // tick finds left is a matter of timing.
            (Some("outbox"), Value::Object(_)) => json!("<drained>"),
            (_, Value::String(s)) => Value::String(self.text(s)),
            (_, Value::Array(items)) => Value::Array(items.iter().map(|v| self.value(None, v)).collect()),
            (_, Value::Object(map)) => Value::Object(map.iter().map(|(k, v)| (k.clone(), self.value(Some(k), v))).collect()),
            _ => value.clone(),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_answers_as_recorded() {
    let gw = Gateway::start_with(GatewayOptions { wait_secs: 1, ..GatewayOptions::new(Store::Embedded) }).await;
    let tokens = tokens();
    let steps: Vec<Value> = serde_json::from_str(STEPS).expect("steps");
    let mut captured: HashMap<String, String> = HashMap::new();
    let mut normalizer = Normalizer::new();
    let mut transcript = Vec::new();
    for (n, step) in steps.iter().enumerate() {
        let method = reqwest::Method::from_bytes(step["m"].as_str().expect("m").as_bytes()).expect("method");
        let path = fill(step["p"].as_str().expect("p"), &captured);
        let mut request = gw.http.request(method.clone(), format!("{}{path}", gw.url));
        if let Some(name) = step["t"].as_str() {
            request = request.bearer_auth(tokens.get(name).unwrap_or_else(|| panic!("no token {name}")));
        }
        let body = match (step.get("b"), step.get("raw"), step.get("pad")) {
            (Some(b), _, _) => Some(fill(&b.to_string(), &captured)),
            (_, Some(raw), _) => Some(raw.as_str().expect("raw").to_owned()),
            (_, _, Some(pad)) => Some(json!({"channels": [], "padding": "x".repeat(pad.as_u64().expect("pad") as usize)}).to_string()),
            _ => None,
        };
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let answer: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        for (name, pointer) in step.get("cap").and_then(Value::as_object).into_iter().flatten() {
            let value = answer.pointer(pointer.as_str().expect("pointer")).and_then(Value::as_str);
            let value = value.unwrap_or_else(|| panic!("step {n}: nothing at {pointer} in {answer}"));
            captured.insert(name.clone(), value.to_owned());
        }
        let mut entry = json!({"step": n, "request": format!("{method} {}", step["p"].as_str().unwrap_or_default()), "status": status, "answer": normalizer.value(None, &answer)});
        if let Some(note) = step.get("note") {
            entry["note"] = note.clone();
        }
        transcript.push(entry);
        // Each step in a millisecond of its own: items of two steps never
        // share a creation time (ids sort by it).
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    insta::with_settings!({ snapshot_path => "golden", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_json_snapshot!("api_transcript", transcript);
    });
}
