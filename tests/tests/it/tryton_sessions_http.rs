//! trytond's sessions as Herald credentials (issue 13): a site's admin
//! mirrors a session (the key's hash), and a client then polls the bus with
//! `Authorization: Session base64(login:uid:key)` or the `tryton_session`
//! cookie, for that tenant only, from the address the session is bound to,
//! until it is removed. On both stores.
use base64::Engine as _;
use herald::sessions::KeyHash;
use herald_tests::*;
use serde_json::{json, Value};

const KEY: &str = "5f1e3c0a9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f";

fn session_header(uid: &str, key: &str) -> String {
    format!("Session {}", base64::engine::general_purpose::STANDARD.encode(format!("alice:{uid}:{key}")))
}

/// One poll with the headers given; the status and answer.
async fn poll_with(client: &reqwest::Client, gw: &Gateway, db: &str, headers: &[(&str, String)]) -> (u16, Value) {
    let mut request = client.post(format!("{}/{db}/bus", gw.url)).header("content-type", "application/json").body(json!({"last_message": null, "channels": []}).to_string());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.expect("poll");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A session trytond opened now for user 5, for a day.
fn mirrored(key: &str, ip: Option<&str>) -> Value {
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    json!({"sessions": [{"user": 5, "key_sha256": KeyHash::of_key(key).as_str(), "created_at": now_ms, "max_age": 86_400, "ip": ip}]})
}

async fn a_mirrored_session_polls_the_bus_until_it_is_removed(store: Store) {
    let gw = Gateway::start(store).await;
    let admin = admin_token();
    let client = reqwest::Client::new();
    let header = || vec![("authorization", session_header("5", KEY))];
    // Unknown to Herald: refused.
    assert_eq!(poll_with(&client, &gw, DB, &header()).await.0, 401);
    let (status, answer) = gw.send(reqwest::Method::PUT, &format!("/{DB}/tryton/sessions"), Some(&admin), Some(&mirrored(KEY, Some("127.0.0.1")))).await;
    assert_eq!((status, answer["mirrored"].as_u64()), (200, Some(1)), "{answer}");
    gw.notify(&admin, json!({"title": "for alice", "user": 5})).await;
    let (status, reply) = poll_with(&client, &gw, DB, &header()).await;
    assert_eq!((status, reply["channel"].as_str(), message(&reply).and_then(|m| m["title"].as_str())), (200, Some("user:5"), Some("for alice")), "{reply}");
    // The cookie sao sends carries the same session.
    let (status, _) = poll_with(&client, &gw, DB, &[("cookie", format!("tryton_session=alice:5:{KEY}"))]).await;
    assert_eq!(status, 200);
    // Another user id, another key, another tenant: refused.
    assert_eq!(poll_with(&client, &gw, DB, &[("authorization", session_header("6", KEY))]).await.0, 401);
    assert_eq!(poll_with(&client, &gw, DB, &[("authorization", session_header("5", &KEY.replace('5', "6")))]).await.0, 401);
    assert_eq!(poll_with(&client, &gw, "other", &header()).await.0, 401);
    // A session is no admin.
    let (status, _) = gw.send(reqwest::Method::PUT, &format!("/{DB}/tryton/sessions"), None, None).await;
    assert_eq!(status, 401);
    // Logged out in trytond: removed, and refused from then on.
    let (status, answer) = gw.post(&format!("/{DB}/tryton/sessions/remove"), Some(&admin), &json!({"sessions": [{"user": "5", "key_sha256": KeyHash::of_key(KEY).as_str()}]})).await;
    assert_eq!((status, answer["removed"].as_u64()), (200, Some(1)), "{answer}");
    let (status, answer) = poll_with(&client, &gw, DB, &header()).await;
    assert_eq!((status, answer["error"].as_str()), (401, Some("unauthorized")), "{answer}");
}

/// trytond 8.2 binds a session to the address it was opened from: another
/// address is refused.
async fn a_session_bound_to_an_address_is_refused_from_another(store: Store) {
    let gw = Gateway::start(store).await;
    let admin = admin_token();
    let (status, _) = gw.send(reqwest::Method::PUT, &format!("/{DB}/tryton/sessions"), Some(&admin), Some(&mirrored(KEY, Some("127.0.0.1")))).await;
    assert_eq!(status, 200);
    let from = |address: [u8; 4]| reqwest::Client::builder().local_address(std::net::IpAddr::from(address)).build().expect("client");
    let header = [("authorization", session_header("5", KEY))];
    assert_eq!(poll_with(&from([127, 0, 0, 1]), &gw, DB, &header).await.0, 200);
    assert_eq!(poll_with(&from([127, 0, 0, 2]), &gw, DB, &header).await.0, 401);
}

/// Only the tenant's admin mirrors sessions, and every body is checked.
async fn mirroring_is_for_the_tenants_admin_and_checked(store: Store) {
    let gw = Gateway::start(store).await;
    let (admin, user) = (admin_token(), user_token("5"));
    let path = format!("/{DB}/tryton/sessions");
    let (status, _) = gw.send(reqwest::Method::PUT, &path, Some(&user), Some(&mirrored(KEY, None))).await;
    assert_eq!(status, 403);
    let other_tenant = token_with(TokenSpec { sub: "1", db: herald::auth::TenantClaim::One("other".into()), roles: &["admin"], ..Default::default() });
    let (status, _) = gw.send(reqwest::Method::PUT, &path, Some(&other_tenant), Some(&mirrored(KEY, None))).await;
    assert_eq!(status, 403);
    for body in [
        json!({"sessions": [{"user": 5, "key_sha256": "not-a-hash", "created_at": 0, "max_age": 60}]}),
        json!({"sessions": [{"user": 5, "key_sha256": KEY.to_uppercase(), "created_at": 0, "max_age": 60}]}),
        json!({"sessions": [{"user": 5, "key_sha256": KeyHash::of_key(KEY).as_str(), "created_at": "yesterday", "max_age": 60}]}),
        json!({"sessions": [{"user": 5, "key_sha256": KeyHash::of_key(KEY).as_str(), "created_at": 0, "max_age": 60, "ip": "here"}]}),
        json!({"sessions": (0..201).map(|n| json!({"user": 5, "key_sha256": KeyHash::of_key(&n.to_string()).as_str(), "created_at": 0, "max_age": 60})).collect::<Vec<_>>()}),
        json!({"sessions": [], "extra": true}),
    ] {
        let (status, answer) = gw.send(reqwest::Method::PUT, &path, Some(&admin), Some(&body)).await;
        assert_eq!((status, answer["error"].as_str()), (400, Some("bad_request")), "{answer}");
    }
}

on_both_stores!(a_mirrored_session_polls_the_bus_until_it_is_removed, a_session_bound_to_an_address_is_refused_from_another, mirroring_is_for_the_tenants_admin_and_checked);

/// A browser application on the trytond site's origin that calls the bus
/// with `Authorization` (CORS): its preflight is answered for the
/// configured origin, `Authorization` allowed; any other origin gets none.
#[tokio::test]
async fn a_preflight_from_the_sites_origin_may_send_authorization() {
    let mut options = GatewayOptions::new(Store::Embedded);
    options.env = vec![("HERALD_CORS_ORIGINS".into(), "https://erp.example".into())];
    let gw = Gateway::start_with(options).await;
    let preflight = |origin: &'static str| {
        gw.http
            .request(reqwest::Method::OPTIONS, format!("{}/{DB}/bus", gw.url))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "authorization, content-type")
            .send()
    };
    let answer = preflight("https://erp.example").await.expect("preflight");
    let header = |name: &str| answer.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_ascii_lowercase);
    assert_eq!(header("access-control-allow-origin").as_deref(), Some("https://erp.example"));
    let allowed = header("access-control-allow-headers").unwrap_or_default();
    assert!(allowed.split(',').any(|h| h.trim() == "authorization"), "{allowed}");
    let other = preflight("https://evil.example").await.expect("preflight");
    assert!(other.headers().get("access-control-allow-origin").is_none());
}
