//! The directory through HTTP on the local gateway, embedded and `--aws` on
//! moto: users, companies, group membership by group; and its refusals.
use herald_tests::*;
use reqwest::Method;
use serde_json::json;

async fn users_and_groups(store: Store) {
    let gw = Gateway::start(store).await;
    let admin = admin_token();
    let a = Some(admin.as_str());
    let ann = json!({
        "login": "ann", "email": "ann@example.org", "groups": ["manager", "admin", "manager"],
        "companies": ["acme"], "follower": "9", "account_type": "entrepreneur", "locale": "fr_FR",
        "timezone": "Europe/Paris",
        "contacts": [{"method": "EMAIL", "address": "b@example.org", "priority": 2},
                     {"method": "EMAIL", "address": "a@example.org", "priority": 1}]
    });
    let (status, stored) = gw.send(Method::PUT, "/demo/users/1", a, Some(&ann)).await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(stored["groups"], json!(["admin", "manager"]), "deduplicated and sorted");
    assert_eq!(stored["contacts"][0]["address"], "a@example.org", "contacts in priority order");
    assert_eq!(stored["active"], true, "active by default");
    let (status, fetched) = gw.send(Method::GET, "/demo/users/1", a, None).await;
    assert_eq!((status, &fetched), (200, &stored));

    gw.send(Method::PUT, "/demo/users/2", a, Some(&json!({"login": "bob", "groups": ["manager"]}))).await;
    let (status, members) = gw.send(Method::GET, "/demo/groups/manager/members", a, None).await;
    assert_eq!((status, &members["members"]), (200, &json!(["1", "2"])));

    // Moving Ann out of `manager` updates the index.
    gw.send(Method::PUT, "/demo/users/1", a, Some(&json!({"login": "ann", "groups": ["support"]}))).await;
    assert_eq!(gw.send(Method::GET, "/demo/groups/manager/members", a, None).await.1["members"], json!(["2"]));
    assert_eq!(gw.send(Method::DELETE, "/demo/users/2", a, None).await.0, 200);
    assert_eq!(gw.send(Method::GET, "/demo/groups/manager/members", a, None).await.1["members"], json!([]));
    assert_eq!(gw.send(Method::GET, "/demo/users/2", a, None).await.0, 404);
    assert_eq!(gw.send(Method::DELETE, "/demo/users/2", a, None).await.0, 404);

    let (status, company) =
        gw.send(Method::PUT, "/demo/companies/acme", a, Some(&json!({"name": "ACME", "email": "hq@acme.example"}))).await;
    assert_eq!((status, company["active"].as_bool()), (200, Some(true)));
    assert_eq!(gw.send(Method::GET, "/demo/companies/acme", a, None).await.1["name"], "ACME");
    assert_eq!(gw.send(Method::GET, "/demo/companies/none", a, None).await.0, 404);
}

on_both_stores!(users_and_groups);

#[tokio::test]
async fn directory_refusals() {
    let gw = Gateway::start(Store::Embedded).await;
    let admin = admin_token();
    let a = Some(admin.as_str());
    let user = user_token("5");
    let ok = json!({"login": "ann"});
    assert_eq!(gw.send(Method::PUT, "/demo/users/1", None, Some(&ok)).await.0, 401);
    assert_eq!(gw.send(Method::PUT, "/demo/users/1", Some(&user), Some(&ok)).await.0, 403);
    assert_eq!(gw.send(Method::GET, "/demo/users/5", Some(&user), None).await.0, 403);
    assert_eq!(gw.send(Method::GET, "/demo/groups/x/members", Some(&user), None).await.0, 403);
    let elsewhere = token_with(TokenSpec { db: herald::auth::TenantClaim::One("other".into()), roles: &["admin"], ..Default::default() });
    assert_eq!(gw.send(Method::PUT, "/demo/users/1", Some(&elsewhere), Some(&ok)).await.0, 403);
    let bad = [
        json!({}),
        json!({"login": ""}),
        json!({"login": "x".repeat(300)}),
        json!({"login": "ann", "email": "not-an-email"}),
        json!({"login": "ann", "groups": ["a#b"]}),
        json!({"login": "ann", "groups": (0..33).map(|i| format!("g{i}")).collect::<Vec<_>>()}),
        json!({"login": "ann", "contacts": [{"method": "SMS", "address": "a@example.org"}]}),
        json!({"login": "ann", "contacts": [{"method": "EMAIL", "address": "nope"}]}),
        json!({"login": "ann", "active": "yes"}),
        json!({"login": "ann", "nickname": "a"}),
    ];
    for body in &bad {
        let (status, reply) = gw.send(Method::PUT, "/demo/users/1", a, Some(body)).await;
        assert_eq!(status, 400, "{body} answered {reply}");
        assert!(reply["message"].is_string());
    }
    assert_eq!(gw.send(Method::PUT, "/demo/users/a:b", a, Some(&ok)).await.0, 400);
    assert_eq!(gw.send(Method::PUT, "/demo/companies/acme", a, Some(&json!({"name": " "}))).await.0, 400);
    assert_eq!(gw.send(Method::POST, "/demo/users/1", a, Some(&ok)).await.0, 405);
}
