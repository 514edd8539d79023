//! The whole API against its written contract (`docs/openapi.json`):
//! herald-local serves the committed document, and Schemathesis (from
//! PyPI, in the suite's `.venv`) drives every operation from it, with an
//! admin's token and then a user's, on a tenant with data: no server
//! error, no answer outside its schema, no status the document does not
//! list, no content type it does not say.
use std::path::PathBuf;
use std::process::Stdio;

use herald_tests::*;
use serde_json::{json, Value};
use tokio::process::Command;

/// What every answer is held to.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance";
/// A fixed seed keeps a run repeatable; `HERALD_SCHEMATHESIS_SEED` picks another.
const SEED: &str = "20261201";

fn committed_document() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("docs/openapi.json")).expect("JSON")
}

fn schemathesis() -> PathBuf {
    let python = std::env::var_os("HERALD_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python"));
    let program = python.with_file_name("schemathesis");
    assert!(program.exists(), "{} is missing: run scripts/test (it installs scripts/requirements-test.txt)", program.display());
    program
}

#[tokio::test]
async fn herald_local_serves_the_committed_document() {
    let gw = Gateway::start(Store::Embedded).await;
    let response = gw.http.get(format!("{}/openapi.json", gw.url)).send().await.expect("GET /openapi.json");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let served: Value = response.json().await.expect("JSON");
    assert_eq!(served, committed_document(), "GET /openapi.json differs from docs/openapi.json");
}

/// Users, a company, a resource with a record, a subscription and inbox
/// items, so operations reach more than "not found".
async fn seed(gw: &Gateway, admin: &str) {
    let put = |path: &'static str, body: Value| async move {
        let (status, answer) = gw.send(reqwest::Method::PUT, path, Some(admin), Some(&body)).await;
        assert_eq!(status, 200, "PUT {path}: {answer}");
    };
    put("/demo/users/0", json!({"login": "admin", "email": "admin@example.com", "groups": ["manager"]})).await;
    put("/demo/users/2", json!({"login": "ana", "email": "ana@example.com", "groups": ["manager"], "companies": ["acme"]})).await;
    put("/demo/companies/acme", json!({"name": "Acme", "email": "office@example.com"})).await;
    put("/demo/resources/req", json!({"title": "Requests", "notify_fields": [{"name": "name", "label": "Name"}]})).await;
    put("/demo/resources/req/records/r1", json!({"fields": {"name": "first"}, "acl": {"public": true}})).await;
    let (status, answer) = gw.post("/demo/subscriptions", Some(&user_token("2")), &json!({"resources": ["req"], "frequency": "immediately"})).await;
    assert_eq!(status, 201, "{answer}");
    for title in ["one", "two"] {
        let (status, answer) =
            gw.post("/demo/notifications", Some(admin), &json!({"key": "message:internal", "title": title, "recipients": {"users": ["0", "2"]}})).await;
        assert_eq!(status, 202, "{answer}");
    }
    gw.tick().await;
}

/// One run; the summary line (`N generated, N passed`).
async fn run(gw: &Gateway, token: &str, who: &str) -> String {
    let dir = std::env::temp_dir().join(format!("herald-schemathesis-{}-{who}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let config = dir.join("schemathesis.toml");
    // Every route is under one tenant, the token's; the other values are
    // drawn from the document.
    std::fs::write(&config, "[parameters]\n\"path.db\" = \"demo\"\n\n[generation]\nmax-examples = 25\n").expect("config");
    let seed = std::env::var("HERALD_SCHEMATHESIS_SEED").unwrap_or_else(|_| SEED.to_owned());
    let output = Command::new(schemathesis())
        .arg("--config-file")
        .arg(&config)
        .args(["run", &format!("{}/openapi.json", gw.url)])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--checks", CHECKS, "--seed", &seed, "--no-color", "--request-timeout", "30"])
        // One worker: Python 3.11's parser is not safe for Hypothesis's
        // threads ("AST constructor recursion depth mismatch").
        .args(["--workers", "1"])
        .current_dir(&dir)
        .env("SCHEMATHESIS_TELEMETRY", "false")
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run schemathesis");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let errors = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "schemathesis ({who}) found failures:\n{text}\n{errors}");
    assert!(text.contains("Tested: 38"), "schemathesis ({who}) did not test all 38 operations:\n{text}");
    let summary = text.lines().skip_while(|l| !l.starts_with("Test cases:")).nth(1).unwrap_or_default().trim().to_owned();
    let numbers: Vec<u64> = summary.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse().ok()).collect();
    assert!(
        matches!(numbers.as_slice(), [generated, passed] if generated == passed && *generated > 500),
        "schemathesis ({who}): every case generated must pass, and there must be many: {summary}\n{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    summary
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_meets_the_contract_for_an_admin_and_a_user() {
    let gw = Gateway::start(Store::Embedded).await;
    let admin = admin_token();
    seed(&gw, &admin).await;
    let as_admin = run(&gw, &admin, "admin").await;
    let as_user = run(&gw, &user_token("2"), "user").await;
    println!("schemathesis, 38 operations: admin {as_admin}; user {as_user}");
}
