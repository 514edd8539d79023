//! Resources and records through HTTP, on both stores: Herald stamps
//! `created_on`/`modified_on`, a report that changes nothing is no change,
//! deletion is a mark; and the refusals.
use herald_tests::*;
use reqwest::Method;
use serde_json::{json, Value};

async fn resources_and_records(store: Store) {
    let gw = Gateway::start(store).await;
    let admin = admin_token();
    let a = Some(admin.as_str());
    let resource = json!({"title": "Requests", "notify_fields": [{"name": "status", "label": "Status"}, {"name": "priority", "label": "Priority"}],
        "notify_subject": "{system}: new {resource}", "page_url": "https://app.example/req", "item_url": "https://app.example/req/{id}"});
    let (status, stored) = gw.send(Method::PUT, "/demo/resources/req_req", a, Some(&resource)).await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(stored["notify_template"], "notify", "the default prefix");
    assert_eq!(gw.send(Method::GET, "/demo/resources/req_req", a, None).await.1, stored);
    assert_eq!(gw.send(Method::GET, "/demo/resources", a, None).await.1["resources"], json!([stored]));

    let report = json!({"fields": {"status": "open", "priority": 2}, "acl": {"public": false, "groups": ["manager"]}});
    let (status, created) = gw.send(Method::PUT, "/demo/resources/req_req/records/7", a, Some(&report)).await;
    assert_eq!((status, created["change"].as_str()), (200, Some("created")), "{created}");
    assert_eq!(created["created_on"], created["modified_on"]);
    let (_, same) = gw.send(Method::PUT, "/demo/resources/req_req/records/7", a, Some(&report)).await;
    assert_eq!((same["change"].as_str(), &same["modified_on"]), (Some("unchanged"), &created["modified_on"]));
    gw.advance_clock(60).await;
    let (_, updated) = gw.send(Method::PUT, "/demo/resources/req_req/records/7", a, Some(&json!({"fields": {"status": "closed", "priority": 2}}))).await;
    assert_eq!(updated["change"], "updated");
    assert_eq!(updated["created_on"], created["created_on"]);
    assert_ne!(updated["modified_on"], created["modified_on"]);
    assert_eq!(updated["acl"], json!({"public": false, "users": [], "groups": [], "companies": []}));
    let (status, fetched) = gw.send(Method::GET, "/demo/resources/req_req/records/7", a, None).await;
    assert_eq!((status, &fetched["fields"]), (200, &json!({"status": "closed", "priority": 2})));

    let (_, deleted) = gw.send(Method::DELETE, "/demo/resources/req_req/records/7", a, None).await;
    assert_eq!((deleted["change"].as_str(), deleted["deleted"].as_bool()), (Some("deleted"), Some(true)));
    assert_eq!(deleted["fields"]["status"], "closed", "a deletion keeps the last fields");
    assert_eq!(gw.send(Method::DELETE, "/demo/resources/req_req/records/7", a, None).await.1["change"], "unchanged");
    assert_eq!(gw.send(Method::DELETE, "/demo/resources/req_req/records/99", a, None).await.0, 404);
    assert_eq!(gw.send(Method::GET, "/demo/resources/req_req/records/99", a, None).await.0, 404);

    let batch = json!({"records": [
        {"id": "1", "fields": {"status": "open"}, "acl": {"public": true}},
        {"id": "2", "fields": {"status": "open"}, "acl": {"users": ["3", 4]}},
        {"id": "7", "fields": {"status": "reopened"}},
    ]});
    let (status, saved) = gw.post("/demo/resources/req_req/records", a, &batch).await;
    assert_eq!(status, 200, "{saved}");
    let changes: Vec<&str> = saved["records"].as_array().unwrap().iter().map(|r| r["change"].as_str().unwrap()).collect();
    assert_eq!(changes, ["created", "created", "updated"], "a deleted record reported again is back");
    let (_, second) = gw.send(Method::GET, "/demo/resources/req_req/records/2", a, None).await;
    assert_eq!(second["acl"]["users"], json!(["3", "4"]), "an integer user id is its text: {second}");
}

on_both_stores!(resources_and_records);

#[tokio::test]
async fn record_refusals() {
    let gw = Gateway::start(Store::Embedded).await;
    let admin = admin_token();
    let a = Some(admin.as_str());
    let user = user_token("3");
    let ok_resource = json!({"title": "Requests"});
    assert_eq!(gw.send(Method::PUT, "/demo/resources/req", a, Some(&ok_resource)).await.0, 200);
    let record = json!({"fields": {"status": "open"}});

    // Admins only, on every route.
    for (method, path, body) in [
        (Method::PUT, "/demo/resources/req", Some(&ok_resource)),
        (Method::GET, "/demo/resources", None),
        (Method::PUT, "/demo/resources/req/records/1", Some(&record)),
        (Method::GET, "/demo/resources/req/records/1", None),
        (Method::DELETE, "/demo/resources/req/records/1", None),
        (Method::POST, "/demo/resources/req/records", Some(&json!({"records": []}))),
    ] {
        assert_eq!(gw.send(method.clone(), path, Some(&user), body).await.0, 403, "{method} {path}");
        assert_eq!(gw.send(method.clone(), path, None, body).await.0, 401, "{method} {path}");
    }

    // Unknown resource.
    let (status, body) = gw.send(Method::PUT, "/demo/resources/nope/records/1", a, Some(&record)).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
    assert_eq!(gw.post("/demo/resources/nope/records", a, &json!({"records": [{"id": "1"}]})).await.0, 404);

    let bad_resources = [
        json!({"title": ""}),
        json!({"title": "R", "notify_subject": "{system} {when}"}),
        json!({"title": "R", "notify_subject": "{system"}),
        json!({"title": "R", "notify_template": "Bad-Prefix"}),
        json!({"title": "R", "notify_fields": [{"name": "", "label": "x"}]}),
        json!({"title": "R", "notify_fields": ["status"]}),
        json!({"title": "R", "colour": "red"}),
        json!({"title": "x".repeat(2000)}),
    ];
    for bad in bad_resources {
        let (status, body) = gw.send(Method::PUT, "/demo/resources/req", a, Some(&bad)).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("bad_request")), "{bad}");
    }
    assert_eq!(gw.send(Method::PUT, "/demo/resources/a%23b", a, Some(&ok_resource)).await.0, 400);

    let big: Value = json!({"fields": {"text": "x".repeat(17 * 1024)}});
    let many_users: Vec<String> = (0..65).map(|i| i.to_string()).collect();
    let bad_records = [
        big,
        json!({"fields": {}, "acl": {"users": many_users}}),
        json!({"fields": {}, "acl": {"everyone": true}}),
        json!({"fields": "not an object"}),
        json!({"status": "open"}),
    ];
    for bad in bad_records {
        let (status, body) = gw.send(Method::PUT, "/demo/resources/req/records/1", a, Some(&bad)).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("bad_request")), "{}", &bad.to_string()[..60.min(bad.to_string().len())]);
    }
    let too_many: Vec<Value> = (0..101).map(|i| json!({"id": i.to_string()})).collect();
    assert_eq!(gw.post("/demo/resources/req/records", a, &json!({"records": too_many})).await.0, 400);
    assert_eq!(gw.post("/demo/resources/req/records", a, &json!({"records": [{"id": "a#b"}]})).await.0, 400);
    // Nothing of a refused batch was saved.
    let mixed = json!({"records": [{"id": "5", "fields": {}}, {"id": "6", "fields": {"t": "x".repeat(17 * 1024)}}]});
    assert_eq!(gw.post("/demo/resources/req/records", a, &mixed).await.0, 400);
    assert_eq!(gw.send(Method::GET, "/demo/resources/req/records/5", a, None).await.0, 404);
    // ... nor of one that deletes a record never reported (404), nor of one
    // naming a record twice (400); neither enters the change log.
    let deletes_unknown = json!({"records": [{"id": "5", "fields": {}}, {"id": "6", "fields": {}}, {"id": "never-existed", "deleted": true}]});
    let (status, body) = gw.post("/demo/resources/req/records", a, &deletes_unknown).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")), "{body}");
    let twice = json!({"records": [{"id": "5", "fields": {}}, {"id": "5", "fields": {"a": 1}}]});
    let (status, body) = gw.post("/demo/resources/req/records", a, &twice).await;
    assert!(status == 400 && body["message"].as_str().is_some_and(|m| m.contains("twice")), "{status} {body}");
    for id in ["5", "6"] {
        assert_eq!(gw.send(Method::GET, &format!("/demo/resources/req/records/{id}"), a, None).await.0, 404, "record {id}");
    }
}
