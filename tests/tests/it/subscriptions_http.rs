//! Subscriptions through HTTP, on both stores: users manage their own,
//! admins any; filters are checked when saved; and the refusals.
use herald_tests::*;
use reqwest::Method;
use serde_json::{json, Value};

async fn setup(gw: &Gateway, admin: &str) {
    for name in ["req_req", "org_office"] {
        let (status, _) = gw.send(Method::PUT, &format!("/demo/resources/{name}"), Some(admin), Some(&json!({"title": name}))).await;
        assert_eq!(status, 200);
    }
}

async fn subscriptions_are_managed_by_their_owner(store: Store) {
    let gw = Gateway::start(store).await;
    let admin = admin_token();
    setup(&gw, &admin).await;
    let (ann, bob) = (user_token("1"), user_token("2"));
    let request = json!({"resources": ["req_req", "org_office", "req_req"], "filter": [["~.status__belongs", "open,closed"], ["priority__ge", 2]],
        "notify_on": ["new", "upd"], "frequency": "hourly", "methods": ["EMAIL", "INAPP"], "email_format": "text"});
    let (status, created) = gw.post("/demo/subscriptions", Some(&ann), &request).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["subscriber"], json!({"user": "1"}), "the caller by default");
    assert_eq!(created["resources"], json!(["org_office", "req_req"]));
    assert_eq!(created["filter_text"], "status is one of open, closed; priority ≥ 2");
    assert_eq!(created["filter"], request["filter"]);
    let id = created["id"].as_str().unwrap().to_owned();
    let path = format!("/demo/subscriptions/{id}");

    assert_eq!(gw.send(Method::GET, &path, Some(&ann), None).await.1, created);
    assert_eq!(gw.send(Method::GET, &path, Some(&bob), None).await.0, 404, "not Bob's");
    assert_eq!(gw.send(Method::GET, &path, Some(&admin), None).await.0, 200, "admins see any");
    let (_, mine) = gw.send(Method::GET, "/demo/subscriptions", Some(&ann), None).await;
    assert_eq!(mine["subscriptions"], json!([created]));
    assert_eq!(gw.send(Method::GET, "/demo/subscriptions", Some(&bob), None).await.1["subscriptions"], json!([]));
    assert_eq!(gw.send(Method::GET, "/demo/subscriptions?subscriber=user:1", Some(&admin), None).await.1["subscriptions"], json!([created]));
    assert_eq!(gw.send(Method::GET, "/demo/subscriptions?subscriber=user:1", Some(&bob), None).await.0, 403);

    let (status, replaced) = gw.send(Method::PUT, &path, Some(&ann), Some(&json!({"resources": ["req_req"], "frequency": "weekly"}))).await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!((replaced["frequency"].as_str(), &replaced["notify_on"], &replaced["methods"]), (Some("weekly"), &json!(["new"]), &json!(["EMAIL"])));
    assert_eq!(gw.send(Method::PUT, &path, Some(&bob), Some(&json!({"resources": ["req_req"]}))).await.0, 404);
    let (status, _) = gw.send(Method::PUT, &path, Some(&admin), Some(&json!({"resources": ["req_req"], "subscriber": {"user": "2"}}))).await;
    assert_eq!(status, 400, "the subscriber cannot change");

    // Admins subscribe groups and companies; `never` has no next check.
    let (status, group) = gw.post("/demo/subscriptions", Some(&admin), &json!({"subscriber": {"group": "support"}, "resources": ["req_req"], "frequency": "never"})).await;
    assert_eq!((status, &group["next_check_time"]), (201, &Value::Null));
    assert_eq!(gw.send(Method::GET, "/demo/subscriptions?subscriber=group:support", Some(&admin), None).await.1["subscriptions"].as_array().map(Vec::len), Some(1));

    assert_eq!(gw.send(Method::DELETE, &path, Some(&bob), None).await.0, 404);
    assert_eq!(gw.send(Method::DELETE, &path, Some(&ann), None).await.0, 200);
    assert_eq!(gw.send(Method::GET, &path, Some(&ann), None).await.0, 404);
    assert_eq!(gw.send(Method::GET, "/demo/subscriptions", Some(&ann), None).await.1["subscriptions"], json!([]));
}

on_both_stores!(subscriptions_are_managed_by_their_owner);

#[tokio::test]
async fn subscription_refusals() {
    let gw = Gateway::start(Store::Embedded).await;
    let admin = admin_token();
    setup(&gw, &admin).await;
    let ann = user_token("1");
    let ok = json!({"resources": ["req_req"]});
    let with = |field: &str, value: Value| {
        let mut r = ok.clone();
        r[field] = value;
        r
    };
    for (bad, why) in [
        (with("filter", json!([["status__between", "a,b"]])), "unknown operator"),
        (with("filter", json!([["status"]])), "filter pair 0"),
        (with("filter", json!("status=open")), "filter"),
        (with("resources", json!(["nope"])), "no resource 'nope'"),
        (with("resources", json!([])), "resources"),
        (with("notify_on", json!([])), "notify_on"),
        (with("notify_on", json!(["deleted"])), "invalid request"),
        (with("frequency", json!("monthly")), "invalid request"),
        (with("methods", json!(["SMS"])), "invalid request"),
        (with("methods", json!([])), "methods"),
        (with("email_format", json!("pdf")), "invalid request"),
        (with("colour", json!("red")), "invalid request"),
        (with("subscriber", json!({"robot": "1"})), "invalid request"),
    ] {
        let (status, body) = gw.post("/demo/subscriptions", Some(&ann), &bad).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("bad_request")), "{bad}");
        assert!(body["message"].as_str().unwrap_or_default().contains(why), "{bad}: {body}");
    }
    for subscriber in [json!({"group": "support"}), json!({"company": "acme"}), json!({"user": "2"})] {
        let (status, body) = gw.post("/demo/subscriptions", Some(&ann), &with("subscriber", subscriber.clone())).await;
        assert_eq!((status, body["error"].as_str()), (403, Some("forbidden")), "{subscriber}");
    }
    assert_eq!(gw.post("/demo/subscriptions", None, &ok).await.0, 401);
    let elsewhere = token_with(TokenSpec { sub: "1", db: herald::auth::TenantClaim::One("other".into()), ..Default::default() });
    assert_eq!(gw.post("/demo/subscriptions", Some(&elsewhere), &ok).await.0, 403);
    assert_eq!(gw.send(Method::GET, "/demo/subscriptions/nope", Some(&ann), None).await.0, 404);
    assert_eq!(gw.send(Method::GET, "/demo/subscriptions?subscriber=robot:1", Some(&admin), None).await.0, 400);
    assert_eq!(gw.send(Method::GET, "/demo/subscriptions?colour=red", Some(&ann), None).await.0, 400);
}
