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
    let mut ids: Vec<String> = (1..=6).map(|n| format!("REQ-00{n}")).filter(|id| text.contains(id.as_str())).collect();
    ids.sort();
    ids
}

/// One digest email: recipient (local part), new and updated record ids.
type Digest = (String, Vec<String>, Vec<String>);

/// New and updated ids of a digest body: both bundled email templates head
/// the updated rows with "Updated <title> (n)" after the new ones.
fn split(body: &str) -> (Vec<String>, Vec<String>) {
    let at = body.find("Updated Requests (").unwrap_or(body.len());
    (mentioned(&body[..at]), mentioned(&body[at..]))
}

/// Every digest email to `domain` so far, sorted.
async fn digests(gw: &Gateway, domain: &str) -> Vec<Digest> {
    let mut found: Vec<Digest> = gw
        .sent_mail_with_body(domain)
        .await
        .into_iter()
        .map(|m| {
            assert_eq!(m.subject, "Herald Update Notification: Requests");
            let (new, upd) = split(&m.body);
            (m.to.split('@').next().unwrap_or_default().to_owned(), new, upd)
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

fn entry(who: &str, new: &[&str], upd: &[&str]) -> Digest {
    let ids = |list: &[&str]| list.iter().map(|s| s.to_string()).collect();
    (who.to_owned(), ids(new), ids(upd))
}

/// The digests sent since `before` was taken (both sorted).
fn since(before: &[Digest], now: Vec<Digest>) -> Vec<Digest> {
    let mut rest = before.to_vec();
    now.into_iter()
        .filter(|d| match rest.iter().position(|b| b == d) {
            Some(i) => {
                rest.remove(i);
                false
            }
            None => true,
        })
        .collect()
}

async fn digests_end_to_end(store: Store) {
    let gw = Gateway::start(store).await;
    if store == Store::Moto {
        verify_sender(EMAIL_FROM).await;
    }
    let admin = admin_token();
    let domain = mail_domain();
    assert_eq!(gw.send(Method::PUT, "/demo/companies/acme", Some(&admin), Some(&json!({"name": "ACME"}))).await.0, 200);
    for (id, login, groups, companies) in [
        ("1", "ann", json!(["manager"]), json!([])),
        ("2", "bob", json!(["support"]), json!([])),
        ("3", "carl", json!(["support"]), json!([])),
        ("4", "dave", json!([]), json!(["acme"])),
        ("5", "erin", json!([]), json!(["acme"])),
    ] {
        put(&gw, &admin, &format!("/demo/users/{id}"), json!({"login": login, "email": format!("{login}@{domain}"), "groups": groups, "companies": companies})).await;
    }
    put(&gw, &admin, "/demo/resources/req_req", json!({"title": "Requests",
        "notify_fields": [{"name": "name", "label": "Name"}, {"name": "status", "label": "Status"}, {"name": "priority", "label": "Priority"}],
        "item_url": "https://app.example/req/{id}"})).await;
    let (ann, bob, dave) = (user_token("1"), user_token("2"), user_token("4"));

    // Ann: open or urgent requests, new only, every check, email as text.
    subscribe(&gw, &ann, json!({"resources": ["req_req"], "filter": [["status__belongs", "open,urgent"]], "notify_on": ["new"],
        "frequency": "immediately", "methods": ["EMAIL"], "email_format": "text"})).await;
    // Ann again, but never: nothing, ever.
    subscribe(&gw, &ann, json!({"resources": ["req_req"], "frequency": "never"})).await;
    // Bob: priority 2 and up, new and updated, hourly, in-app.
    subscribe(&gw, &bob, json!({"resources": ["req_req"], "filter": [["priority__ge", 2]], "notify_on": ["new", "upd"],
        "frequency": "hourly", "methods": ["INAPP"]})).await;
    // The support group (Bob and Carl): new, every check, email (HTML).
    subscribe(&gw, &admin, json!({"subscriber": {"group": "support"}, "resources": ["req_req"], "notify_on": ["new"], "frequency": "immediately"})).await;
    // Dave: everything he may read, new and updated, daily, email as text.
    subscribe(&gw, &dave, json!({"resources": ["req_req"], "notify_on": ["new", "upd"], "frequency": "daily", "methods": ["EMAIL"], "email_format": "text"})).await;
    // The company (Dave and Erin): weekly, email (HTML).
    subscribe(&gw, &admin, json!({"subscriber": {"company": "acme"}, "resources": ["req_req"], "frequency": "weekly"})).await;

    gw.advance_clock(10).await;
    record(&gw, &admin, "REQ-001", "open", 3, json!({"public": true})).await;
    record(&gw, &admin, "REQ-002", "open", 1, json!({"groups": ["manager"]})).await;
    record(&gw, &admin, "REQ-003", "closed", 5, json!({"users": ["2"]})).await;
    record(&gw, &admin, "REQ-005", "open", 1, json!({"companies": ["acme"]})).await;

    // Six minutes on: the "immediately" subscriptions are due, the others not.
    gw.advance_clock(360).await;
    let report = gw.tick().await;
    assert_eq!((report["subscriptions"]["checked"].as_u64(), report["subscriptions"]["digests"].as_u64()), (Some(2), Some(2)), "{report}");
    let sent = digests(&gw, &domain).await;
    assert_eq!(
        sent,
        [entry("ann", &["REQ-001", "REQ-002"], &[]), entry("bob", &["REQ-001"], &[]), entry("carl", &["REQ-001"], &[])],
        "Ann reads her group's REQ-002; the group reads neither it nor Bob's own REQ-003"
    );
    assert!(inbox_bodies(&gw, &bob).await.is_empty());

    // REQ-001 is updated (not new: Ann's and the group's notify_on skip
    // it); REQ-004 (public) and REQ-006 (shared with support) are created.
    record(&gw, &admin, "REQ-001", "urgent", 3, json!({"public": true})).await;
    record(&gw, &admin, "REQ-004", "open", 2, json!({"public": true})).await;
    record(&gw, &admin, "REQ-006", "open", 1, json!({"groups": ["support"]})).await;
    gw.advance_clock(3600).await;
    let report = gw.tick().await;
    assert_eq!(report["subscriptions"]["digests"], 3, "{report}");
    let now = digests(&gw, &domain).await;
    assert_eq!(
        since(&sent, now.clone()),
        [entry("ann", &["REQ-004"], &[]), entry("bob", &["REQ-004", "REQ-006"], &[]), entry("carl", &["REQ-004", "REQ-006"], &[])],
        "a record shared with the group reaches the group's digest"
    );
    let sent = now;
    // Bob's first hourly digest: everything new since he subscribed that he
    // may read and that passes his filter (REQ-002: priority 1, not his).
    let bodies = inbox_bodies(&gw, &bob).await;
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert_eq!(mentioned(&bodies[0]), ["REQ-001", "REQ-003", "REQ-004"]);
    assert!(bodies[0].starts_with("3 new:"), "{}", bodies[0]);

    // An update only: Bob hears of it as updated; the others hear nothing.
    record(&gw, &admin, "REQ-003", "closed", 6, json!({"users": ["2"]})).await;
    gw.advance_clock(3600).await;
    let report = gw.tick().await;
    assert_eq!(report["subscriptions"]["digests"], 1, "{report}");
    let bodies = inbox_bodies(&gw, &bob).await;
    assert_eq!(bodies.len(), 2);
    assert_eq!((mentioned(&bodies[0]), bodies[0].starts_with("1 updated:")), (vec!["REQ-003".to_string()], true), "{}", bodies[0]);
    assert_eq!(digests(&gw, &domain).await, sent, "no new email");

    // Quiet hours send nothing.
    gw.advance_clock(3600).await;
    assert_eq!(gw.tick().await["subscriptions"]["digests"], 0);
    let elapsed = 10 + 360 + 3 * 3600;

    // A day on: Dave's first daily digest, everything he may read (public and
    // his company's), all new within his first day.
    const DAY: u64 = 86_400;
    gw.advance_clock(DAY + 60 - elapsed).await;
    let report = gw.tick().await;
    assert_eq!(report["subscriptions"]["digests"], 1, "{report}");
    let now = digests(&gw, &domain).await;
    assert_eq!(since(&sent, now.clone()), [entry("dave", &["REQ-001", "REQ-004", "REQ-005"], &[])]);
    let sent = now;

    // Day two: REQ-005 changed; Dave's daily digest has it as updated.
    record(&gw, &admin, "REQ-005", "urgent", 1, json!({"companies": ["acme"]})).await;
    gw.advance_clock(DAY).await;
    let report = gw.tick().await;
    assert_eq!(report["subscriptions"]["digests"], 1, "{report}");
    let now = digests(&gw, &domain).await;
    assert_eq!(since(&sent, now.clone()), [entry("dave", &[], &["REQ-005"])]);
    let sent = now;

    // A week on: the company's weekly digest reaches Dave and Erin, with what
    // the whole company may read (REQ-005 was created in that week: new).
    gw.advance_clock(7 * DAY + 60 - (2 * DAY + 60)).await;
    let report = gw.tick().await;
    assert_eq!(report["subscriptions"]["digests"], 1, "{report}");
    let now = digests(&gw, &domain).await;
    assert_eq!(
        since(&sent, now),
        [entry("dave", &["REQ-001", "REQ-004", "REQ-005"], &[]), entry("erin", &["REQ-001", "REQ-004", "REQ-005"], &[])]
    );
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
    gw.advance_clock(10).await;
    put(&gw, &admin, "/demo/resources/req_req/records/R1", json!({"fields": {"name": "<b>Pumps</b>"}, "acl": {"public": true}})).await;
    gw.advance_clock(360).await;
    gw.tick().await;
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
