//! Every parser input reaches, fed anything (proptest): the bus body, the
//! cursor, channel names, filters, times, JWT claims, the Session header
//! and the cookie. Never a panic, never a 5xx: an answer or a typed error.
use std::sync::Arc;

use axum::body::Body;
use base64::Engine;
use herald::auth::{issue, Authenticator, TenantClaim, TokenPolicy, TokenRequest};
use herald::bus::channel::{authorize_subscriptions, check_name};
use herald::bus::{ChannelGrants, Cursor};
use herald::config::Config;
use herald::domain::{ManualClock, Timestamp, UserId};
use herald::subscriptions::Filter;
use herald::wiring::{Embedded, LocalGateway, Wiring};
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use tower::ServiceExt;

const SECRET: &str = "parsers-test-secret-0123456789";

fn token(sub: &str) -> String {
    let request = TokenRequest {
        sub: sub.into(),
        tenants: TenantClaim::One("demo".into()),
        roles: vec!["admin".into()],
        channels: vec!["chat:*".into()],
        expires_in_secs: 600,
        issuer: None,
        audience: None,
    };
    issue(SECRET.as_bytes(), &request).expect("token")
}

/// The gateway's routers on the embedded store, polls answering at once.
fn router() -> (tokio::runtime::Runtime, axum::Router) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let config = Config::from_lookup(|name| match name {
        "HERALD_JWT_SECRET" => Some(SECRET.into()),
        "HERALD_BUS_WAIT_SECS" => Some("0".into()),
        _ => None,
    })
    .expect("config");
    let services = runtime.block_on(Wiring::new(config, Embedded::memory(), LocalGateway).with_clock(Arc::new(ManualClock::new())).build()).expect("services");
    (runtime, herald::http::all_routes(services))
}

fn status_of(runtime: &tokio::runtime::Runtime, router: &axum::Router, request: http::Request<Body>) -> (u16, Value) {
    runtime.block_on(async {
        let response = router.clone().oneshot(request).await.expect("infallible");
        let status = response.status().as_u16();
        let bytes = http_body_util::BodyExt::collect(response.into_body()).await.expect("body").to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    })
}

/// Text that looks like what a client might send, and anything else.
fn jsonish() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,200}",
        proptest::collection::vec(any::<u8>(), 0..200).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        (proptest::option::of(".{0,80}"), proptest::collection::vec(".{0,40}", 0..40))
            .prop_map(|(last, channels)| json!({"last_message": last, "channels": channels}).to_string()),
        (any::<i64>(), proptest::collection::vec("(user|client|notification|chat):[a-z0-9:]{0,6}", 0..5))
            .prop_map(|(n, channels)| format!(r#"{{"last_message": {n}, "channels": {}}}"#, json!(channels))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// The bus body, whatever it holds, with a good token: 200 or a JSON 400.
    #[test]
    fn a_poll_body_is_answered_or_refused(body in jsonish()) {
        let (runtime, router) = router();
        let request = http::Request::post("/demo/bus").header("authorization", format!("Bearer {}", token("5"))).body(Body::from(body)).expect("request");
        let (status, answer) = status_of(&runtime, &router, request);
        prop_assert!(status == 200 || (status == 400 && answer["error"] == "bad_request"), "{} {}", status, answer);
    }

    /// Any Authorization value, any Session, any cookie: 200, or a JSON
    /// 400/401 (never a 5xx, never a panic).
    #[test]
    fn credentials_are_verified_or_refused(raw in ".{0,300}", session in ".{0,200}", cookie in "[ -~]{0,200}") {
        let (runtime, router) = router();
        let encoded = base64::engine::general_purpose::STANDARD.encode(session.as_bytes());
        let valid_session = base64::engine::general_purpose::STANDARD.encode(format!("{session}:5:{}", token("5")));
        for (name, value) in [
            ("authorization", raw.clone()),
            ("authorization", format!("Bearer {raw}")),
            ("authorization", format!("Session {encoded}")),
            ("authorization", format!("Session {valid_session}")),
            ("cookie", format!("tryton_session={cookie}")),
            ("cookie", format!("{cookie}; tryton_session={session}:5:{}", token("5"))),
        ] {
            let Ok(value) = http::HeaderValue::from_str(&value) else { continue };
            let request = http::Request::post("/demo/bus").header(name, value).header("content-type", "application/json").body(Body::from("{}")).expect("request");
            let (status, answer) = status_of(&runtime, &router, request);
            prop_assert!(matches!(status, 200 | 400 | 401), "{} {}: {} {}", name, raw, status, answer);
            prop_assert!(status == 200 || answer["error"].is_string());
        }
    }

    /// Any claims, signed with the right secret: a principal, or a typed
    /// refusal; an accepted one never lives longer than the policy allows.
    #[test]
    fn claims_are_checked(claims in claims()) {
        let auth = Authenticator::hs256(SECRET.as_bytes(), TokenPolicy::default());
        let token = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes())).expect("encode");
        let mut headers = http::HeaderMap::new();
        headers.insert("authorization", format!("Bearer {token}").parse().expect("header"));
        if auth.authenticate(&headers).is_ok() {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
            let exp = claims["exp"].as_u64().unwrap_or(0);
            let start = claims.get("iat").and_then(Value::as_u64).unwrap_or(now);
            prop_assert!(exp.saturating_sub(start) <= TokenPolicy::DEFAULT_MAX_LIFETIME_SECS + TokenPolicy::DEFAULT_LEEWAY_SECS);
            prop_assert!(claims.get("nbf").and_then(Value::as_u64).is_none_or(|nbf| nbf <= now + TokenPolicy::DEFAULT_LEEWAY_SECS));
        }
    }

    /// Channel names: checked or refused; what a user may read always has
    /// its own channel and never another user's (a client channel is the
    /// client id's; the bus reads it only for the user that id is bound to:
    /// bus::service's tests).
    #[test]
    fn channels_never_reach_another_user(names in proptest::collection::vec("(user:|client:|notification:|chat:|)[ -~]{0,20}", 0..40)) {
        let user = UserId::parse("5").expect("user");
        let checked: Vec<String> = names.into_iter().filter(|n| check_name(n).is_ok()).collect();
        let readable = authorize_subscriptions(&user, &ChannelGrants::new(vec!["chat:*".into()]), &checked);
        prop_assert!(readable.iter().any(|s| s.name == "user:5"));
        for s in &readable {
            let key = s.key.as_str();
            prop_assert!(key.starts_with("u:5") || key.starts_with("n:5") || (key.starts_with("cl:") && s.name.starts_with("client:")) || key.starts_with("s:chat:"), "{}", key);
        }
    }

    /// Filters: parsed or refused, and a parsed one matches any record's
    /// fields without a panic.
    #[test]
    fn filters_parse_or_refuse(filter in filter_value(), fields in fields()) {
        if let Ok(filter) = Filter::parse(&filter) {
            let _ = filter.matches(&fields);
        }
    }

    /// Times: RFC 3339 text is read or refused; every time Herald keeps
    /// round-trips.
    #[test]
    fn times_parse_or_refuse(text in ".{0,40}", millis in 0..=Timestamp::MAX_MILLIS) {
        let _ = Timestamp::parse_rfc3339(&text);
        let at = Timestamp::from_millis(millis);
        prop_assert_eq!(Timestamp::parse_rfc3339(&at.to_rfc3339()), Some(at));
    }

    /// Cursors: anything decodes to a cursor or to nothing.
    #[test]
    fn cursors_decode_or_not(text in "[A-Za-z0-9_-]{0,300}") {
        let _ = Cursor::decode(&text);
    }
}

fn claims() -> impl Strategy<Value = Value> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let time = prop_oneof![Just(Value::Null), (0..u64::MAX).prop_map(Value::from), (now - 100_000..now + 100_000_000).prop_map(Value::from), ".{0,10}".prop_map(Value::from)];
    (
        prop_oneof![".{0,10}".prop_map(Value::from), any::<u64>().prop_map(Value::from), Just(Value::Null), Just(json!(["5"]))],
        prop_oneof![Just(json!("demo")), Just(json!("*")), Just(json!(["demo", 1])), ".{0,8}".prop_map(Value::from)],
        time.clone(),
        time.clone(),
        time,
        prop_oneof![Just(Value::Null), Just(json!(["admin"])), Just(json!("admin")), Just(json!([1]))],
    )
        .prop_map(|(sub, db, exp, nbf, iat, roles)| {
            let mut claims = Map::new();
            for (name, value) in [("sub", sub), ("db", db), ("exp", exp), ("nbf", nbf), ("iat", iat), ("roles", roles)] {
                if !value.is_null() {
                    claims.insert(name.into(), value);
                }
            }
            Value::Object(claims)
        })
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![Just(Value::Null), any::<bool>().prop_map(Value::from), any::<i64>().prop_map(Value::from), any::<f64>().prop_map(|f| json!(f)), ".{0,12}".prop_map(Value::from)]
}

fn filter_value() -> impl Strategy<Value = Value> {
    let selector = "(~\\.)?[a-z_]{0,8}(__(eq|ne|lt|le|gt|ge|like|belongs|contains|anyof|[a-z]{0,4}))?";
    prop_oneof![
        scalar(),
        proptest::collection::vec((selector, scalar()).prop_map(|(s, v)| json!([s, v])), 0..8).prop_map(Value::Array),
        proptest::collection::vec(proptest::collection::vec(scalar(), 0..4).prop_map(Value::Array), 0..4).prop_map(Value::Array),
    ]
}

fn fields() -> impl Strategy<Value = Map<String, Value>> {
    proptest::collection::btree_map("[a-z_]{0,6}", scalar(), 0..6).prop_map(|m| m.into_iter().collect())
}
