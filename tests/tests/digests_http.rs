//! Subscription digests end to end on the local gateway, embedded and
//! `--aws` on moto: records with different ACLs, subscriptions with filters,
//! frequencies and `notify_on` variants, a group subscription; change
//! records, advance the clock, tick; exactly which digests arrive, with
//! which records, and nobody sees a record outside its ACL.
use herald_tests::*;
use reqwest::Method;
use serde_json::{json, Value};

async fn put(gw: &Gateway, admin: &str, path: &str, body: Value) -> Value {
    let (status, answer) = gw.send(Method::PUT, path, Some(admin), Some(&body)).await;
    assert_eq!(status, 200, "{path}: {answer}");
    answer
}

async fn subscribe(gw: &Gateway, token: &str, body: Value) -> Value {
    let (status, answer) = gw.post("/demo/subscriptions", Some(token), &body).await;
    assert_eq!(status, 201, "{answer}");
    answer
}

async fn record(gw: &Gateway, admin: &str, id: &str, status: &str, priority: u32, acl: Value) {
    put(gw, admin, &format!("/demo/resources/req_req/records/{id}"), json!({"fields": {"status": status, "priority": priority, "name": format!("Request {id}")}, "acl": acl})).await;
}

/// Record ids (REQ-…) a text mentions, sorted.
fn mentioned(text: &str) -> Vec<String> {
    let mut ids: Vec<String> = ["REQ-001", "REQ-002", "REQ-003", "REQ-004"].iter().filter(|id| text.contains(*id)).map(|s| s.to_string()).collect();
    ids.sort();
    ids
}

/// (recipient, record ids) of each digest email to `domain`, sorted.
async fn digests(gw: &Gateway, domain: &str) -> Vec<(String, Vec<String>)> {
    let mut found: Vec<(String, Vec<String>)> = gw
        .sent_mail_with_body(domain)
        .await
        .into_iter()
        .map(|m| {
            assert_eq!(m.subject, "Herald Update Notification: Requests");
            (m.to.split('@').next().unwrap_or_default().to_owned(), mentioned(&m.body))
        })
        .collect();
    found.sort();
    found
}

async fn inbox_bodies(gw: &Gateway, token: &str) -> Vec<String> {
    let (status, body) = gw.send(Method::GET, "/demo/inbox?state=all", Some(token), None).await;
    assert_eq!(status, 200, "{body}");
    body["items"].as_array().unwrap().iter().map(|i| i["body"].as_str().unwrap_or_default().to_owned()).collect()
}

fn entry(who: &str, ids: &[&str]) -> (String, Vec<String>) {
    (who.to_owned(), ids.iter().map(|s| s.to_string()).collect())
}

async fn digests_end_to_end(store: Store) {
    let gw = Gateway::start(store).await;
    if store == Store::Moto {
        verify_sender(EMAIL_FROM).await;
    }
    let admin = admin_token();
    let domain = mail_domain();
    for (id, login, groups) in [("1", "ann", json!(["manager"])), ("2", "bob", json!(["support"])), ("3", "carl", json!(["support"]))] {
        put(&gw, &admin, &format!("/demo/users/{id}"), json!({"login": login, "email": format!("{login}@{domain}"), "groups": groups})).await;
    }
    put(&gw, &admin, "/demo/resources/req_req", json!({"title": "Requests",
        "notify_fields": [{"name": "name", "label": "Name"}, {"name": "status", "label": "Status"}, {"name": "priority", "label": "Priority"}],
        "item_url": "https://app.example/req/{id}"})).await;
    let (ann, bob) = (user_token("1"), user_token("2"));

    // Ann: open or urgent requests, new only, every check, email as text.
    subscribe(&gw, &ann, json!({"resources": ["req_req"], "filter": [["status__belongs", "open,urgent"]], "notify_on": ["new"],
        "frequency": "immediately", "methods": ["EMAIL"], "email_format": "text"})).await;
    // Ann again, but never: nothing, ever.
    subscribe(&gw, &ann, json!({"resources": ["req_req"], "frequency": "never"})).await;
    // Bob: priority 2 and up, new and updated, hourly, in-app.
    subscribe(&gw, &bob, json!({"resources": ["req_req"], "filter": [["priority__ge", 2]], "notify_on": ["new", "upd"],
        "frequency": "hourly", "methods": ["INAPP"]})).await;
    // The support group (Bob and Carl): public records only, new, every check, email (HTML).
    subscribe(&gw, &admin, json!({"subscriber": {"group": "support"}, "resources": ["req_req"], "frequency": "immediately"})).await;

    gw.advance_clock(&admin, 10).await;
    record(&gw, &admin, "REQ-001", "open", 3, json!({"public": true})).await;
    record(&gw, &admin, "REQ-002", "open", 1, json!({"groups": ["manager"]})).await;
    record(&gw, &admin, "REQ-003", "closed", 5, json!({"users": ["2"]})).await;

    // Six minutes on: the "immediately" subscriptions are due, Bob's is not.
    gw.advance_clock(&admin, 360).await;
    let report = gw.tick(&admin).await;
    assert_eq!((report["subscriptions"]["checked"].as_u64(), report["subscriptions"]["digests"].as_u64()), (Some(2), Some(2)), "{report}");
    assert_eq!(
        digests(&gw, &domain).await,
        [entry("ann", &["REQ-001", "REQ-002"]), entry("bob", &["REQ-001"]), entry("carl", &["REQ-001"])],
        "Ann sees her group's REQ-002; the group sees public records only"
    );
    assert!(inbox_bodies(&gw, &bob).await.is_empty());

    // REQ-001 is updated (not new: Ann's and the group's notify_on skip
    // it), REQ-004 is created.
    record(&gw, &admin, "REQ-001", "urgent", 3, json!({"public": true})).await;
    record(&gw, &admin, "REQ-004", "open", 2, json!({"public": true})).await;
    gw.advance_clock(&admin, 3600).await;
    let report = gw.tick(&admin).await;
    assert_eq!(report["subscriptions"]["digests"], 3, "{report}");
    assert_eq!(
        digests(&gw, &domain).await,
        [
            entry("ann", &["REQ-001", "REQ-002"]),
            entry("ann", &["REQ-004"]),
            entry("bob", &["REQ-001"]),
            entry("bob", &["REQ-004"]),
            entry("carl", &["REQ-001"]),
            entry("carl", &["REQ-004"]),
        ]
    );
    // Bob's first hourly digest: everything new since he subscribed that he
    // may read and that passes his filter (REQ-002: priority 1, not his).
    let bodies = inbox_bodies(&gw, &bob).await;
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert_eq!(mentioned(&bodies[0]), ["REQ-001", "REQ-003", "REQ-004"]);
    assert!(bodies[0].starts_with("3 new:"), "{}", bodies[0]);

    // An update only: Bob hears of it as updated; the others hear nothing.
    record(&gw, &admin, "REQ-003", "closed", 6, json!({"users": ["2"]})).await;
    gw.advance_clock(&admin, 3600).await;
    let report = gw.tick(&admin).await;
    assert_eq!(report["subscriptions"]["digests"], 1, "{report}");
    let bodies = inbox_bodies(&gw, &bob).await;
    assert_eq!(bodies.len(), 2);
    assert_eq!((mentioned(&bodies[0]), bodies[0].starts_with("1 updated:")), (vec!["REQ-003".to_string()], true), "{}", bodies[0]);
    assert_eq!(digests(&gw, &domain).await.len(), 6, "no new email");

    // Quiet hours send nothing.
    gw.advance_clock(&admin, 3600).await;
    assert_eq!(gw.tick(&admin).await["subscriptions"]["digests"], 0);
}

on_both_stores!(digests_end_to_end);

#[tokio::test]
async fn tenant_templates_override_the_bundled_ones() {
    let gw = Gateway::start(Store::Embedded).await;
    let admin = admin_token();
    let a = Some(admin.as_str());
    let domain = mail_domain();
    put(&gw, &admin, "/demo/users/1", json!({"login": "ann", "email": format!("ann@{domain}")})).await;
    put(&gw, &admin, "/demo/resources/req_req", json!({"title": "Requests", "notify_subject": "[{system}] {resource} changed",
        "notify_fields": [{"name": "name", "label": "Name"}]})).await;
    let template = json!({"source": "{{ total_new }} new: {% for r in resources %}{% for row in r.new %}{{ row.id }} {{ row.fields[0].value }}{% endfor %}{% endfor %}"});
    put(&gw, &admin, "/demo/templates/notify_inapp", template.clone()).await;
    let (status, fetched) = gw.send(Method::GET, "/demo/templates/notify_inapp", a, None).await;
    assert_eq!((status, fetched["origin"].as_str(), &fetched["source"]), (200, Some("tenant"), &template["source"]));
    assert_eq!(gw.send(Method::GET, "/demo/templates/notify_email_html", a, None).await.1["origin"], "bundled");
    assert_eq!(gw.send(Method::GET, "/demo/templates/nothing_here", a, None).await.0, 404);

    let ann = user_token("1");
    subscribe(&gw, &ann, json!({"resources": ["req_req"], "frequency": "immediately", "methods": ["INAPP"]})).await;
    gw.advance_clock(&admin, 10).await;
    put(&gw, &admin, "/demo/resources/req_req/records/R1", json!({"fields": {"name": "<b>Pumps</b>"}, "acl": {"public": true}})).await;
    gw.advance_clock(&admin, 360).await;
    gw.tick(&admin).await;
    let (_, inbox) = gw.send(Method::GET, "/demo/inbox", Some(&ann), None).await;
    assert_eq!(inbox["items"][0]["body"], "1 new: R1 <b>Pumps</b>", "text templates do not escape");
    assert_eq!(inbox["items"][0]["title"], "[Herald] Requests changed");

    // Refusals: invalid templates, names, non-admins.
    for bad in [json!({"source": "{% for %}"}), json!({"source": "{{ x | nosuchfilter }}"}), json!({"text": "x"}), json!({"source": "x".repeat(40_000)})] {
        let (status, body) = gw.send(Method::PUT, "/demo/templates/notify_inapp", a, Some(&bad)).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("bad_request")), "{}", &bad.to_string()[..40.min(bad.to_string().len())]);
    }
    assert_eq!(gw.send(Method::PUT, "/demo/templates/Bad-Name", a, Some(&template)).await.0, 400);
    assert_eq!(gw.send(Method::PUT, "/demo/templates/notify_inapp", Some(&ann), Some(&template)).await.0, 403);
    assert_eq!(gw.send(Method::GET, "/demo/templates/notify_inapp", Some(&ann), None).await.0, 403);
}
