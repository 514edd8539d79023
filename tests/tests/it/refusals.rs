//! Every refusal, with its status and a JSON error; and no input ever gets a
//! 500. Run on the embedded gateway (refusals happen before the store).
use herald::auth::TenantClaim;
use herald_tests::*;
use serde_json::{json, Value};

fn bus() -> String {
    format!("/{DB}/bus")
}

async fn expect(gw: &Gateway, path: &str, token: Option<&str>, body: String, status: u16, needle: &str) {
    let (got, reply) = gw.post_raw(path, token, body.clone()).await;
    assert_eq!(got, status, "{path} {body:.80} answered {reply}");
    let message = reply["message"].as_str().unwrap_or_default();
    assert!(reply["error"].is_string(), "JSON error expected, got {reply}");
    assert!(message.contains(needle), "message {message:?} should mention {needle:?}");
}

#[tokio::test]
async fn authentication_refusals_are_401() {
    let gw = Gateway::start(Store::Embedded).await;
    let body = json!({"channels": []}).to_string();
    expect(&gw, &bus(), None, body.clone(), 401, "authentication required").await;
    expect(&gw, &bus(), Some("not.a.jwt"), body.clone(), 401, "invalid").await;
    let forged = token_with(TokenSpec { secret: "some-other-secret-of-16+", ..Default::default() });
    expect(&gw, &bus(), Some(&forged), body.clone(), 401, "invalid").await;
    let expired = token_with(TokenSpec { exp_offset_secs: -3600, ..Default::default() });
    expect(&gw, &bus(), Some(&expired), body.clone(), 401, "expired").await;
    for path in ["/demo/notify", "/demo/bus/publish", "/_local/tick", "/_local/clock"] {
        expect(&gw, path, None, "{}".into(), 401, "authentication").await;
    }
    // A Session whose uid is not the token's subject.
    let response = gw
        .http
        .post(format!("{}{}", gw.url, bus()))
        .header("Authorization", format!("Session {}", base64_session("admin", "9", &user_token("5"))))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
}

fn base64_session(login: &str, uid: &str, token: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{login}:{uid}:{token}"))
}

#[tokio::test]
async fn tenant_and_role_refusals_are_403() {
    let gw = Gateway::start(Store::Embedded).await;
    let other_tenant = token_with(TokenSpec { db: TenantClaim::Many(vec!["other".into()]), ..Default::default() });
    expect(&gw, &bus(), Some(&other_tenant), "{}".into(), 403, "tenant 'demo'").await;
    let admin_elsewhere = token_with(TokenSpec { db: TenantClaim::One("other".into()), roles: &["admin"], ..Default::default() });
    expect(&gw, "/demo/notify", Some(&admin_elsewhere), json!({"title": "x"}).to_string(), 403, "tenant").await;
    let user = user_token("5");
    expect(&gw, "/demo/notify", Some(&user), json!({"title": "x"}).to_string(), 403, "admin").await;
    let publish = json!({"channel": "user:5", "message": {}}).to_string();
    expect(&gw, "/demo/bus/publish", Some(&user), publish, 403, "admin").await;
    // herald-local's own routes act on every tenant: an admin of one may not.
    let any_tenant_user = token_with(TokenSpec { db: TenantClaim::One("*".into()), ..Default::default() });
    expect(&gw, "/_local/tick", Some(&any_tenant_user), "{}".into(), 403, "admin").await;
    let one_tenant_admin = admin_token();
    expect(&gw, "/_local/tick", Some(&one_tenant_admin), "{}".into(), 403, "every tenant").await;
    expect(&gw, "/_local/clock", Some(&one_tenant_admin), json!({"advance_secs": 1}).to_string(), 403, "every tenant").await;
    let listed_admin = token_with(TokenSpec { db: TenantClaim::Many(vec![DB.into(), "other".into()]), roles: &["admin"], ..Default::default() });
    expect(&gw, "/_local/clock", Some(&listed_admin), json!({"advance_secs": 1}).to_string(), 403, "every tenant").await;
    assert_eq!(gw.post("/_local/clock", Some(&operator_token()), &json!({"advance_secs": 1})).await.0, 200);
    // A wildcard tenant claim is accepted.
    let any = token_with(TokenSpec { db: TenantClaim::One("*".into()), ..Default::default() });
    assert_eq!(gw.post(&bus(), Some(&any), &json!({})).await.0, 200);
}

#[tokio::test]
async fn malformed_polls_are_400() {
    let gw = Gateway::start(Store::Embedded).await;
    let t = user_token("5");
    let t = Some(t.as_str());
    let b = bus();
    expect(&gw, &b, t, "{not json".into(), 400, "not valid JSON").await;
    expect(&gw, &b, t, "[]".into(), 400, "JSON object").await;
    expect(&gw, &b, t, "\"text\"".into(), 400, "JSON object").await;
    expect(&gw, &b, t, json!({"channels": "user:5"}).to_string(), 400, "invalid request").await;
    expect(&gw, &b, t, json!({"channels": [1, 2]}).to_string(), 400, "invalid request").await;
    expect(&gw, &b, t, json!({"channels": [null]}).to_string(), 400, "invalid request").await;
    expect(&gw, &b, t, json!({"last_message": 5}).to_string(), 400, "invalid request").await;
    let many: Vec<String> = (0..33).map(|i| format!("client:{i}")).collect();
    expect(&gw, &b, t, json!({"channels": many}).to_string(), 400, "at most 32 channels").await;
    let exactly: Vec<String> = (0..32).map(|i| format!("client:{i}")).collect();
    assert_eq!(gw.post(&b, t, &json!({"channels": exactly})).await.0, 200);
    expect(&gw, &b, t, json!({"channels": ["x".repeat(257)]}).to_string(), 400, "256 bytes").await;
    expect(&gw, &b, t, json!({"channels": [""]}).to_string(), 400, "empty").await;
    expect(&gw, &b, t, json!({"last_message": "x".repeat(3000)}).to_string(), 400, "last_message").await;
    let huge = json!({"channels": [], "padding": "x".repeat(70 * 1024)}).to_string();
    expect(&gw, &b, t, huge, 400, "exceeds 65536 bytes").await;
    expect(&gw, "/bad#tenant/bus", t, "{}".into(), 404, "").await;
    expect(&gw, "/bad%20tenant/bus", t, "{}".into(), 400, "tenant").await;
    // "." and "..": sent as they are (a URL library folds them away).
    let any = token_with(TokenSpec { db: TenantClaim::One("*".into()), ..Default::default() });
    for tenant in [".", "..", "%2E%2E"] {
        let answer = gw.raw_http(&format!("POST /{tenant}/bus HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {any}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}")).await;
        assert!(answer.starts_with("HTTP/1.1 400") && answer.contains("dots only"), "{tenant}: {answer}");
    }
    // A key named twice is refused, not read as its last value.
    expect(&gw, &b, t, r#"{"channels": ["user:5"], "channels": []}"#.into(), 400, "'channels' appears twice").await;
}

#[tokio::test]
async fn malformed_publishes_are_400() {
    let gw = Gateway::start(Store::Embedded).await;
    let admin = admin_token();
    let a = Some(admin.as_str());
    let n = format!("/{DB}/notify");
    let p = format!("/{DB}/bus/publish");
    expect(&gw, &n, a, json!({}).to_string(), 400, "title").await;
    expect(&gw, &n, a, json!({"title": ""}).to_string(), 400, "title must not be empty").await;
    // README's limits: a title of 256 bytes, a body of 16 KiB.
    expect(&gw, &n, a, json!({"title": "x".repeat(257)}).to_string(), 400, "256").await;
    expect(&gw, &n, a, json!({"title": "t", "body": "x".repeat(16 * 1024 + 1)}).to_string(), 400, "16384").await;
    assert_eq!(gw.post(&n, a, &json!({"title": "x".repeat(256), "body": "x".repeat(16 * 1024)})).await.0, 200);
    expect(&gw, &n, a, json!({"title": "t", "priority": 4}).to_string(), 400, "priority").await;
    expect(&gw, &n, a, json!({"title": "t", "priority": "high"}).to_string(), 400, "invalid request").await;
    expect(&gw, &n, a, json!({"title": "t", "user": 1.5}).to_string(), 400, "user").await;
    expect(&gw, &n, a, json!({"title": "t", "user": "a:b"}).to_string(), 400, "user").await;
    expect(&gw, &n, a, json!({"title": "t", "client": ""}).to_string(), 400, "client").await;
    expect(&gw, &n, a, json!({"title": "t", "colour": "red"}).to_string(), 400, "unknown field").await;
    expect(&gw, &p, a, json!({"channel": "user:5"}).to_string(), 400, "message").await;
    expect(&gw, &p, a, json!({"channel": "user:5", "message": [1]}).to_string(), 400, "invalid request").await;
    expect(&gw, &p, a, json!({"channel": "", "message": {}}).to_string(), 400, "empty").await;
    expect(&gw, &p, a, json!({"channel": "user:", "message": {}}).to_string(), 400, "user id").await;
    expect(&gw, &p, a, json!({"channel": "client:", "message": {}}).to_string(), 400, "client id").await;
    let big = json!({"channel": "user:5", "message": {"text": "x".repeat(65 * 1024)}}).to_string();
    expect(&gw, &p, a, big, 400, "exceeds").await;
    let operator = operator_token();
    expect(&gw, "/_local/clock", Some(&operator), json!({"advance_secs": -1}).to_string(), 400, "invalid request").await;
}

#[tokio::test]
async fn no_input_gets_a_500() {
    let gw = Gateway::start(Store::Embedded).await;
    let (admin, user) = (admin_token(), user_token("5"));
    let bodies: Vec<String> = vec![
        String::new(),
        "null".into(),
        "0".into(),
        "{\"channels\": {}}".into(),
        "{\"last_message\": {\"a\": 1}}".into(),
        "{\"last_message\": \"AQAAAA\"}".into(),
        "{\"last_message\": \"AQ\", \"channels\": [\"user:5\", \"client:\", \"notification:\"]}".into(),
        "\u{0}\u{1}".into(),
        "{\"title\": \"t\", \"body\": 5}".into(),
        "{\"channel\": \"a\\nb\", \"message\": {}}".into(),
        "{".repeat(10_000),
        format!("{{\"title\": \"{}\"}}", "é".repeat(600)),
    ];
    let paths = [format!("/{DB}/bus"), format!("/{DB}/notify"), format!("/{DB}/bus/publish"), "/_local/clock".into()];
    for path in &paths {
        for token in [&admin, &user] {
            for body in &bodies {
                let (status, reply): (u16, Value) = gw.post_raw(path, Some(token), body.clone()).await;
                assert!(status < 500, "{path} {body:.40} → {status} {reply}");
            }
        }
    }
}
