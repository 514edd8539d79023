//! The `herald` command against the local gateway: notify (with a body
//! file), show, types, inbox, bus tail, token, `--help`, and API errors as
//! a failing exit status.
use std::path::PathBuf;
use std::process::Output;

use herald_tests::*;
use reqwest::Method;
use serde_json::{json, Value};

fn cli_binary() -> PathBuf {
    std::env::var_os("HERALD_CLI_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/debug/herald"))
}

async fn herald(gw: &Gateway, token: Option<&str>, args: &[&str]) -> Output {
    let mut command = tokio::process::Command::new(cli_binary());
    command.args(args).env("HERALD_URL", &gw.url).env("HERALD_DB", DB).env_remove("HERALD_TOKEN").env("HERALD_JWT_SECRET", SECRET);
    if let Some(token) = token {
        command.env("HERALD_TOKEN", token);
    }
    command.output().await.expect("run herald")
}

fn stdout_json(output: &Output) -> Value {
    assert!(output.status.success(), "herald failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_sends_reads_and_tails() {
    let gw = Gateway::start(Store::Embedded).await;
    let admin = admin_token();
    for (id, groups) in [("3", json!(["support"])), ("4", json!(["support", "manager"]))] {
        let (status, _) = gw.send(Method::PUT, &format!("/demo/users/{id}"), Some(&admin), Some(&json!({"login": id, "groups": groups}))).await;
        assert_eq!(status, 200);
    }

    // A token minted by the CLI works for the API.
    let output = herald(&gw, None, &["token", "--sub", "3"]).await;
    assert!(output.status.success());
    let carl = String::from_utf8(output.stdout).unwrap().trim().to_owned();

    // Tail Carl's notification channel while a notification is sent.
    let tail = {
        let mut command = tokio::process::Command::new(cli_binary());
        command
            .args(["bus", "tail", "--channels", "notification:3", "--count", "1"])
            .env("HERALD_URL", &gw.url)
            .env("HERALD_DB", DB)
            .env("HERALD_TOKEN", &carl);
        tokio::spawn(async move { command.output().await.expect("run tail") })
    };

    let body_file = std::env::temp_dir().join(format!("herald-cli-body-{}.txt", std::process::id()));
    std::fs::write(&body_file, "Body from a file").unwrap();
    let sent = stdout_json(
        &herald(&gw, Some(&admin), &["notify", "--groups", "support", "--users", "9", "--title", "From the CLI", "--body-file", body_file.to_str().unwrap(), "--channel", "header_message", "--key", "message:system"]).await,
    );
    assert_eq!((sent["outcome"].as_str(), sent["channel"].as_str()), (Some("published"), Some("header_message")));
    gw.tick().await;

    let shown = stdout_json(&herald(&gw, Some(&admin), &["show", sent["id"].as_str().unwrap()]).await);
    assert_eq!(shown["deliveries"].as_array().map(Vec::len), Some(2));
    let inbox = stdout_json(&herald(&gw, Some(&carl), &["inbox"]).await);
    assert_eq!(inbox["items"][0]["title"], "From the CLI");
    assert_eq!(inbox["items"][0]["body"], "Body from a file");
    let types = stdout_json(&herald(&gw, Some(&admin), &["types"]).await);
    assert!(types["types"].as_array().unwrap().iter().any(|t| t["key"] == "message:system"));

    let tailed = tokio::time::timeout(std::time::Duration::from_secs(30), tail).await.expect("tail ended").unwrap();
    assert!(tailed.status.success(), "{}", String::from_utf8_lossy(&tailed.stderr));
    let line: Value = serde_json::from_slice(&tailed.stdout).expect("one JSON line");
    assert_eq!(line["channel"], "notification:3");
    assert_eq!(line["message"]["type"], "user-notification");
    assert_eq!(line["message"]["content"][0]["title"], "From the CLI");

    // API refusals end in a failing status with the API's error.
    let refused = herald(&gw, Some(&admin), &["notify", "--title", "Nobody"]).await;
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("400 bad_request"), "{}", String::from_utf8_lossy(&refused.stderr));
    let not_admin = herald(&gw, Some(&carl), &["types"]).await;
    assert!(String::from_utf8_lossy(&not_admin.stderr).contains("403"));
    let no_token = herald(&gw, None, &["inbox"]).await;
    assert!(String::from_utf8_lossy(&no_token.stderr).contains("no token"));

    for args in [&["--help"][..], &["notify", "--help"], &["types", "--help"], &["inbox", "--help"], &["bus", "tail", "--help"], &["token", "--help"]] {
        let help = herald(&gw, None, args).await;
        assert!(help.status.success() && String::from_utf8_lossy(&help.stdout).contains("Usage"), "{args:?}");
    }
}
