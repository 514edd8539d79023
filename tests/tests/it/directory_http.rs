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

    // Tryton's ids are integers: a follower (and a company) may be one.
    let (status, carl) = gw.send(Method::PUT, "/demo/users/3", a, Some(&json!({"login": "carl", "follower": 1, "companies": [7]}))).await;
    assert_eq!((status, &carl["follower"], &carl["companies"]), (200, &json!("1"), &json!(["7"])), "{carl}");
    let (status, refused) = gw.send(Method::PUT, "/demo/users/3", a, Some(&json!({"login": "carl", "follower": 1.5}))).await;
    assert_eq!((status, refused["error"].as_str()), (400, Some("bad_request")), "{refused}");
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

async fn notification_types(store: Store) {
    let gw = Gateway::start(store).await;
    let admin = admin_token();
    let a = Some(admin.as_str());
    let (status, listed) = gw.send(Method::GET, "/demo/types", a, None).await;
    assert_eq!(status, 200);
    let system = listed["types"].as_array().unwrap().iter().find(|t| t["key"] == "message:system").cloned();
    assert_eq!(system.map(|t| t["default_channel"].clone()), Some(json!("alert")), "shipped default");
    let internal = listed["types"].as_array().unwrap().iter().find(|t| t["key"] == "message:internal").cloned();
    assert_eq!(internal.map(|t| t["default_channel"].clone()), Some(json!("message")));

    let change = json!({"label": "Système", "default_channel": "email", "status_type": "error"});
    let (status, _) = gw.send(Method::PUT, "/demo/types/message:system", a, Some(&change)).await;
    assert_eq!(status, 200);
    let added = json!({"label": "Rappel", "default_channel": "header_message", "status_type": "calendar"});
    assert_eq!(gw.send(Method::PUT, "/demo/types/task:reminder", a, Some(&added)).await.0, 200);
    let (_, listed) = gw.send(Method::GET, "/demo/types", a, None).await;
    let types = listed["types"].as_array().unwrap();
    let system = types.iter().find(|t| t["key"] == "message:system").unwrap();
    assert_eq!((system["default_channel"].as_str(), system["label"].as_str()), (Some("email"), Some("Système")));
    assert!(types.iter().any(|t| t["key"] == "task:reminder"));
    // Another tenant still has the shipped default.
    let other = token_with(TokenSpec { db: herald::auth::TenantClaim::One("*".into()), roles: &["admin"], ..Default::default() });
    let (_, theirs) = gw.send(Method::GET, "/elsewhere/types", Some(&other), None).await;
    let system = theirs["types"].as_array().unwrap().iter().find(|t| t["key"] == "message:system").cloned().unwrap();
    assert_eq!(system["default_channel"], "alert");

    // Refusals.
    for bad in [
        json!({"label": "x", "default_channel": "sms", "status_type": "error"}),
        json!({"label": "", "default_channel": "email", "status_type": "error"}),
        json!({"label": "x", "default_channel": "email", "status_type": "loud"}),
        json!({"label": "x", "default_channel": "email"}),
    ] {
        assert_eq!(gw.send(Method::PUT, "/demo/types/task:x", a, Some(&bad)).await.0, 400, "{bad}");
    }
    assert_eq!(gw.send(Method::PUT, "/demo/types/Bad%20Key", a, Some(&added)).await.0, 400);
    assert_eq!(gw.send(Method::GET, "/demo/types", Some(&user_token("5")), None).await.0, 403);
    assert_eq!(gw.send(Method::GET, "/demo/types", None, None).await.0, 401);
}

mod types_on {
    use super::*;
    on_both_stores!(notification_types);
}
