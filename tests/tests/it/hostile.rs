//! Issue 11: no tenant or user can hurt another, and hostile input is
//! harmless. One test per finding of the attack on `herald-local` (each
//! failed before its fix), named for it.
use herald::auth::TenantClaim;
use herald_tests::*;
use reqwest::Method;
use serde_json::json;

async fn gateway_with(env: &[(&str, &str)]) -> Gateway {
    let mut options = GatewayOptions::new(Store::Embedded);
    options.env = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Gateway::start_with(options).await
}

/// A browser's preflight from `origin`; the `Access-Control-Allow-*`
/// headers of the answer.
async fn preflight(gw: &Gateway, origin: &str) -> (Option<String>, Option<String>) {
    let response = gw
        .http
        .request(Method::OPTIONS, format!("{}/{DB}/bus", gw.url))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
        .expect("preflight");
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    (header("access-control-allow-origin"), header("access-control-allow-credentials"))
}

/// Finding 7: CORS reflected any origin with credentials.
#[tokio::test]
async fn finding_07_cors_answers_only_configured_origins() {
    let unset = gateway_with(&[]).await;
    assert_eq!(preflight(&unset, "https://evil.example").await, (None, None), "no origin unless configured");
    let listed = gateway_with(&[("HERALD_CORS_ORIGINS", "https://erp.example")]).await;
    assert_eq!(preflight(&listed, "https://erp.example").await, (Some("https://erp.example".into()), Some("true".into())));
    assert_eq!(preflight(&listed, "https://evil.example").await.0, None, "an unlisted origin is not echoed");
    let any = gateway_with(&[("HERALD_CORS_ORIGINS", "*")]).await;
    assert_eq!(preflight(&any, "https://evil.example").await, (Some("*".into()), None), "'*' never with credentials");
}

/// Finding 7: the session cookie authenticated a `text/plain` POST, which a
/// page of any site can make a browser send without a preflight.
#[tokio::test]
async fn finding_07_cookie_writes_must_declare_json() {
    let gw = gateway_with(&[]).await;
    let cookie = format!("tryton_session=admin:0:{}", admin_token());
    let notify = |content_type: &'static str, cookie: Option<String>| {
        let mut request = gw.http.post(format!("{}/{DB}/notify", gw.url)).header("Content-Type", content_type).body(r#"{"title": "t"}"#);
        if let Some(cookie) = cookie {
            request = request.header("Cookie", cookie);
        } else {
            request = request.bearer_auth(admin_token());
        }
        async move {
            let response = request.send().await.expect("notify");
            let status = response.status().as_u16();
            (status, response.json::<serde_json::Value>().await.expect("JSON"))
        }
    };
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
        let (status, body) = notify(content_type, Some(cookie.clone())).await;
        assert_eq!((status, body["error"].as_str()), (415, Some("unsupported_media_type")), "{content_type}: {body}");
    }
    assert_eq!(notify("application/json; charset=UTF-8", Some(cookie.clone())).await.0, 200);
    assert_eq!(notify("text/plain", None).await.0, 200, "a Bearer token is no browser's ambient credential");
    let poll = gw.http.get(format!("{}/{DB}/inbox", gw.url)).header("Cookie", cookie).send().await.expect("GET");
    assert_ne!(poll.status().as_u16(), 415, "reads need no content type");
}

/// Finding 9: any tenant's admin moved the one clock of every tenant.
#[tokio::test]
async fn finding_09_local_routes_need_an_admin_of_every_tenant() {
    let gw = gateway_with(&[]).await;
    let one_tenant_admin = admin_token();
    for path in ["/_local/tick", "/_local/clock"] {
        let (status, body) = gw.post(path, Some(&one_tenant_admin), &json!({"advance_secs": 1})).await;
        assert_eq!((status, body["error"].as_str()), (403, Some("forbidden")), "{path}: {body}");
    }
    let every_tenant_admin = token_with(TokenSpec { roles: &["admin"], db: TenantClaim::One("*".into()), ..Default::default() });
    assert_eq!(gw.post("/_local/clock", Some(&every_tenant_admin), &json!({"advance_secs": 1})).await.0, 200);
}

/// Finding 10: failed sends were retried at once (five attempts in 133 ms).
/// Here the mail folder cannot be created, so every send fails; each retry
/// waits its backoff (1 s, then 2 s), and the error recorded is short.
#[tokio::test]
async fn finding_10_failed_sends_back_off() {
    let gw = gateway_with(&[("HERALD_MAIL_DIR", "/dev/null/mail"), ("HERALD_OUTBOX_RETRY_SECS", "1")]).await;
    let admin = admin_token();
    let user = json!({"login": "bob", "email": "bob@example.org"});
    assert_eq!(gw.send(Method::PUT, &format!("/{DB}/users/2"), Some(&admin), Some(&user)).await.0, 200);
    let request = json!({"key": "message:internal", "title": "T", "body": "B", "recipients": {"users": ["2"]}, "force_channel": "email"});
    let (status, sent) = gw.post(&format!("/{DB}/notifications"), Some(&admin), &request).await;
    assert_eq!(status, 202, "{sent}");
    let path = format!("/{DB}/notifications/{}", sent["id"].as_str().unwrap_or_default());
    let attempts = || async {
        let (_, shown) = gw.send(Method::GET, &path, Some(&admin), None).await;
        (shown["deliveries"][0]["attempts"].as_u64().unwrap_or(0), shown["deliveries"][0]["last_error"].as_str().unwrap_or_default().to_owned())
    };
    gw.tick().await;
    let (first, error) = attempts().await;
    assert_eq!(first, 1);
    assert!(!error.is_empty() && error.len() <= herald::outbox::MAX_ERROR_BYTES, "{error}");
    for _ in 0..3 {
        gw.tick().await;
    }
    assert_eq!(attempts().await.0, 1, "no retry before the backoff");
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    gw.tick().await;
    assert_eq!(attempts().await.0, 2, "retried once the backoff passed");
    gw.tick().await;
    assert_eq!(attempts().await.0, 2, "the next waits twice as long");
}

/// Finding 1: a page of notifications due after 2286 (a 14-digit time)
/// sorted below today in the DynamoDB index and hid every tenant's due
/// notifications from the check. On both stores, through HTTP.
async fn finding_01_far_future_schedules_hide_nothing(store: Store) {
    let gw = Gateway::start(store).await;
    let every_tenant_admin = token_with(TokenSpec { sub: "0", roles: &["admin"], db: TenantClaim::One("*".into()), ..Default::default() });
    let user = json!({"login": "bob", "email": "bob@example.org"});
    for tenant in ["evil", DB] {
        assert_eq!(gw.send(Method::PUT, &format!("/{tenant}/users/2"), Some(&every_tenant_admin), Some(&user)).await.0, 200);
    }
    for n in 0..120 {
        let due_at = if n % 10 == 0 { "9999-12-31T23:59:59Z" } else { "2300-01-01T00:00:00Z" };
        let request = json!({"key": "message:internal", "title": format!("Later {n}"), "recipients": {"users": ["2"]}, "due_at": due_at});
        let (status, body) = gw.post("/evil/notifications", Some(&every_tenant_admin), &request).await;
        assert_eq!(status, 202, "{body}");
    }
    let soon = json!({"key": "message:internal", "title": "Soon", "recipients": {"users": ["2"]}, "due_at": herald::domain::Timestamp::from_millis(now_ms() + 60_000).to_rfc3339()});
    let (_, scheduled) = gw.post(&format!("/{DB}/notifications"), Some(&every_tenant_admin), &soon).await;
    assert_eq!(scheduled["outcome"], "scheduled", "{scheduled}");
    gw.advance_clock(120).await;
    let report = gw.tick().await;
    assert_eq!(report["check"]["published"], 1, "{report}");
    let (_, shown) = gw.send(Method::GET, &format!("/{DB}/notifications/{}", scheduled["id"].as_str().unwrap_or_default()), Some(&every_tenant_admin), None).await;
    assert_eq!(shown["status"], "published", "{shown}");
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}


/// Finding 2: no quota on subscriptions and no paging on their list (3,000
/// of 32 KB each made one GET answer 215 MB). On both stores.
async fn finding_02_subscriptions_have_a_quota_and_pages(store: Store) {
    let mut options = GatewayOptions::new(store);
    options.env = vec![("HERALD_MAX_SUBSCRIPTIONS_PER_SUBSCRIBER".into(), "5".into())];
    let gw = Gateway::start_with(options).await;
    let admin = admin_token();
    assert_eq!(gw.send(Method::PUT, &format!("/{DB}/resources/req"), Some(&admin), Some(&json!({"title": "Requests"}))).await.0, 200);
    let (ann, bob) = (user_token("7"), user_token("8"));
    let subscribe = json!({"resources": ["req"], "frequency": "never"});
    for _ in 0..5 {
        assert_eq!(gw.post(&format!("/{DB}/subscriptions"), Some(&ann), &subscribe).await.0, 201);
    }
    let (status, body) = gw.post(&format!("/{DB}/subscriptions"), Some(&ann), &subscribe).await;
    assert_eq!((status, body["error"].as_str()), (409, Some("quota_exceeded")), "{body}");
    assert_eq!(gw.post(&format!("/{DB}/subscriptions"), Some(&bob), &subscribe).await.0, 201, "the quota is per subscriber");

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for page in 0.. {
        let path = match &cursor {
            Some(c) => format!("/{DB}/subscriptions?limit=2&cursor={c}"),
            None => format!("/{DB}/subscriptions?limit=2"),
        };
        let (status, body) = gw.send(Method::GET, &path, Some(&ann), None).await;
        assert_eq!(status, 200, "{body}");
        let items = body["subscriptions"].as_array().cloned().unwrap_or_default();
        assert!(items.len() <= 2, "page {page}: {body}");
        seen.extend(items.iter().map(|s| s["id"].as_str().unwrap_or_default().to_owned()));
        cursor = body["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    let mut distinct = seen.clone();
    distinct.dedup();
    assert_eq!((seen.len(), distinct.len()), (5, 5), "every subscription once: {seen:?}");
    for bad in ["limit=0", "limit=101", "limit=x", "cursor=not-an-id"] {
        let (status, body) = gw.send(Method::GET, &format!("/{DB}/subscriptions?{bad}"), Some(&ann), None).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("bad_request")), "{bad}: {body}");
    }
    // Deleting one makes room again.
    let (_, first) = gw.send(Method::GET, &format!("/{DB}/subscriptions"), Some(&ann), None).await;
    let id = first["subscriptions"][0]["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(gw.send(Method::DELETE, &format!("/{DB}/subscriptions/{id}"), Some(&ann), None).await.0, 200);
    assert_eq!(gw.post(&format!("/{DB}/subscriptions"), Some(&ann), &subscribe).await.0, 201);
}

on_both_stores!(finding_01_far_future_schedules_hide_nothing, finding_02_subscriptions_have_a_quota_and_pages);
