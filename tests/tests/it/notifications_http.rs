//! Typed notifications end to end through HTTP on the local gateway,
//! embedded and `--aws` on moto (DynamoDB, SQS, SES v2): recipients by
//! group, company and follower, email and in-app channels, scheduling, the
//! inbox, and the live `notification:<uid>` bus message.
use herald_tests::*;
use reqwest::Method;
use serde_json::{json, Value};

/// Users in two groups, one company with its own address, a follower.
async fn directory(gw: &Gateway, admin: &str, domain: &str) {
    let a = Some(admin);
    let users = [
        ("1", json!({"login": "ann", "email": format!("ann@{domain}"), "groups": ["manager"], "companies": ["acme"],
                      "follower": "3", "account_type": "entrepreneur",
                      "contacts": [{"method": "EMAIL", "address": format!("ann.work@{domain}"), "priority": 1}]})),
        ("2", json!({"login": "bob", "email": format!("bob@{domain}"), "groups": ["manager", "support"], "companies": ["acme"]})),
        ("3", json!({"login": "carl", "email": format!("carl@{domain}"), "groups": ["support"]})),
        ("4", json!({"login": "dan", "email": format!("dan@{domain}"), "groups": ["manager"], "active": false})),
    ];
    for (id, user) in users {
        let (status, body) = gw.send(Method::PUT, &format!("/demo/users/{id}"), a, Some(&user)).await;
        assert_eq!(status, 200, "{body}");
    }
    let company = json!({"name": "ACME", "email": format!("hq@{domain}")});
    assert_eq!(gw.send(Method::PUT, "/demo/companies/acme", a, Some(&company)).await.0, 200);
}

async fn send(gw: &Gateway, admin: &str, request: Value) -> Value {
    let (status, body) = gw.post("/demo/notifications", Some(admin), &request).await;
    assert_eq!(status, 202, "send answered {body}");
    body
}

async fn inbox(gw: &Gateway, user: &str, query: &str) -> Vec<Value> {
    let (status, body) = gw.send(Method::GET, &format!("/demo/inbox{query}"), Some(user), None).await;
    assert_eq!(status, 200, "inbox answered {body}");
    body["items"].as_array().cloned().unwrap_or_default()
}

fn titles(items: &[Value]) -> Vec<&str> {
    items.iter().map(|i| i["title"].as_str().unwrap_or_default()).collect()
}

fn mail(to: &str, subject: &str) -> SentMail {
    SentMail { to: to.into(), subject: subject.into() }
}

async fn notifications_end_to_end(store: Store) {
    let gw = Gateway::start(store).await;
    if store == Store::Moto {
        verify_sender(EMAIL_FROM).await;
    }
    let admin = admin_token();
    let domain = mail_domain();
    directory(&gw, &admin, &domain).await;
    let carl = user_token("3");
    let bob = user_token("2");

    // Email to two sources: the managers (dan is inactive) and the company
    // at its own address. Ann's contact comes before her own address.
    let sent = send(&gw, &admin, json!({"key": "message:internal", "title": "Quarterly close", "body": "Close the books.",
        "recipients": {"groups": ["manager"], "companies": ["acme"]}, "force_channel": "email"})).await;
    assert_eq!((sent["outcome"].as_str(), sent["status"].as_str(), sent["channel"].as_str()), (Some("published"), Some("published"), Some("email")));
    let email_id = sent["id"].as_str().expect("id").to_owned();

    // In-app (`message`, the type's default) to Ann's follower and to Bob.
    let sent = send(&gw, &admin, json!({"key": "message:internal", "title": "Review the file", "body": "Folder 12",
        "recipients": {"followers_of": ["1"], "users": ["2"]}, "context": {"table": "folder", "id": "12"}})).await;
    assert_eq!(sent["outcome"], "published");
    assert_eq!(sent["channel"], "message");

    // Due in an hour: scheduled, nothing sent yet.
    let due = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
    let due_ms = due.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let scheduled = send(&gw, &admin, json!({"key": "message:system", "title": "Maintenance tonight", "body": "At 22:00",
        "recipients": {"users": ["3"]}, "due_at": due_ms})).await;
    assert_eq!((scheduled["outcome"].as_str(), scheduled["channel"].as_str()), (Some("scheduled"), Some("alert")));

    // `until` already past: stored as cancelled, never sent.
    let expired = send(&gw, &admin, json!({"key": "message:internal", "title": "Too late", "body": "",
        "recipients": {"users": ["3"]}, "until": "2020-01-01T00:00:00Z", "force_channel": "email"})).await;
    assert_eq!((expired["outcome"].as_str(), expired["status"].as_str()), (Some("cancelled"), Some("cancelled")));

    let report = gw.tick().await;
    assert_eq!(report["check"]["published"], 0, "nothing is due yet: {report}");

    assert_eq!(
        gw.sent_mail(&domain).await,
        vec![
            mail(&format!("ann.work@{domain}"), "Quarterly close"),
            mail(&format!("bob@{domain}"), "Quarterly close"),
            mail(&format!("hq@{domain}"), "Quarterly close"),
        ]
    );
    let (status, shown) = gw.send(Method::GET, &format!("/demo/notifications/{email_id}"), Some(&admin), None).await;
    assert_eq!(status, 200);
    let mut deliveries: Vec<(String, String)> = shown["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["delivered_to"].as_str().unwrap_or("-").to_owned(), d["status"].as_str().unwrap().to_owned()))
        .collect();
    deliveries.sort();
    assert_eq!(
        deliveries,
        [format!("ann.work@{domain}"), format!("bob@{domain}"), format!("hq@{domain}")].map(|to| (to, "sent".to_owned()))
    );
    let (_, shown) = gw.send(Method::GET, &format!("/demo/notifications/{}", expired["id"].as_str().unwrap()), Some(&admin), None).await;
    assert_eq!((shown["status"].as_str(), shown["deliveries"].as_array().map(Vec::len)), (Some("cancelled"), Some(0)));

    // Carl (the follower) and Bob have the in-app item; Ann has nothing.
    let carl_items = inbox(&gw, &carl, "").await;
    assert_eq!(titles(&carl_items), ["Review the file"]);
    assert_eq!(carl_items[0]["channel"], "message");
    assert_eq!(carl_items[0]["context"], json!({"table": "folder", "id": "12"}));
    assert_eq!(titles(&inbox(&gw, &bob, "").await), ["Review the file"]);
    assert!(inbox(&gw, &user_token("1"), "").await.is_empty());

    // The live message on Carl's notification channel is exactly the item.
    let reply = gw.poll(&carl, None, &["notification:3"]).await;
    let live = message(&reply).expect("a live message");
    assert_eq!(reply["channel"], "notification:3");
    assert_eq!(live["type"], "user-notification");
    assert_eq!(live["count"], 1);
    assert_eq!(live["content"], json!([carl_items[0].clone()]));
    let cursor = message_id(&reply);

    // An hour later the scheduled alert is published, once.
    gw.advance_clock(3601).await;
    let report = gw.tick().await;
    assert_eq!((report["check"]["published"].as_u64(), report["check"]["deliveries"].as_u64()), (Some(1), Some(1)), "{report}");
    assert_eq!(gw.tick().await["check"]["published"], 0);
    let carl_items = inbox(&gw, &carl, "").await;
    assert_eq!(titles(&carl_items), ["Maintenance tonight", "Review the file"]);
    assert_eq!(carl_items[0]["channel"], "alert");
    assert_eq!(carl_items[0]["status_type"], "caution");
    let reply = gw.poll(&carl, cursor.as_deref(), &["notification:3"]).await;
    let live = message(&reply).expect("a second live message");
    assert_eq!((live["count"].as_u64(), &live["content"]), (Some(2), &json!([carl_items[0].clone()])));

    // Filters, reading, postponing, deleting.
    assert_eq!(titles(&inbox(&gw, &carl, "?channel=alert").await), ["Maintenance tonight"]);
    assert_eq!(titles(&inbox(&gw, &carl, "?key=message:internal").await), ["Review the file"]);
    let page = gw.send(Method::GET, "/demo/inbox?limit=1", Some(&carl), None).await.1;
    assert_eq!(titles(page["items"].as_array().unwrap()), ["Maintenance tonight"]);
    let next = page["next_cursor"].as_str().expect("a cursor").to_owned();
    assert_eq!(titles(&inbox(&gw, &carl, &format!("?limit=1&cursor={next}")).await), ["Review the file"]);

    let alert_id = carl_items[0]["id"].as_str().unwrap().to_owned();
    let review_id = carl_items[1]["id"].as_str().unwrap().to_owned();
    let (status, read) = gw.post(&format!("/demo/inbox/{alert_id}/read"), Some(&carl), &json!({})).await;
    assert_eq!((status, read["read"].as_bool()), (200, Some(true)));
    assert_eq!(titles(&inbox(&gw, &carl, "").await), ["Review the file"]);
    assert_eq!(titles(&inbox(&gw, &carl, "?state=read").await), ["Maintenance tonight"]);
    assert_eq!(gw.send(Method::GET, &format!("/demo/inbox/{alert_id}"), Some(&carl), None).await.1["title"], "Maintenance tonight");

    let (status, postponed) = gw.post(&format!("/demo/inbox/{review_id}/postpone"), Some(&carl), &json!({"days": 2})).await;
    assert_eq!(status, 200, "{postponed}");
    assert!(inbox(&gw, &carl, "").await.is_empty(), "postponed items wait");
    assert_eq!(titles(&inbox(&gw, &carl, &format!("?due_before={}", due_ms + 3 * 86_400_000)).await), ["Review the file"]);
    gw.advance_clock(2 * 86_400 + 60).await;
    assert_eq!(titles(&inbox(&gw, &carl, "").await), ["Review the file"], "due again two days later");

    // Bob cannot see or touch Carl's items (the alert went to Carl only).
    for (method, path) in [
        (Method::GET, format!("/demo/inbox/{alert_id}")),
        (Method::POST, format!("/demo/inbox/{alert_id}/read")),
        (Method::POST, format!("/demo/inbox/{alert_id}/postpone")),
        (Method::DELETE, format!("/demo/inbox/{alert_id}")),
    ] {
        let (status, body) = gw.send(method, &path, Some(&bob), Some(&json!({}))).await;
        assert_eq!((status, body["error"].as_str()), (404, Some("not_found")), "{path}");
    }
    let (status, marked) = gw.post("/demo/inbox/read-all", Some(&carl), &json!({})).await;
    assert_eq!((status, marked["marked"].as_u64()), (200, Some(1)));
    assert!(inbox(&gw, &carl, "").await.is_empty());
    assert_eq!(gw.send(Method::DELETE, &format!("/demo/inbox/{review_id}"), Some(&carl), None).await.0, 200);
    assert_eq!(titles(&inbox(&gw, &carl, "?state=all").await), ["Maintenance tonight"]);

    // Read items expire after the retention (30 days by default).
    gw.advance_clock(31 * 86_400).await;
    assert!(inbox(&gw, &carl, "?state=all").await.is_empty());
    assert_eq!(gw.send(Method::GET, &format!("/demo/inbox/{alert_id}"), Some(&carl), None).await.0, 404);

    // The email went out once: the queue is empty and the ticks sent nothing more.
    assert_eq!(gw.sent_mail(&domain).await.len(), 3);
}

async fn context_reschedules_and_republishes(store: Store) {
    let gw = Gateway::start(store).await;
    let admin = admin_token();
    let domain = mail_domain();
    directory(&gw, &admin, &domain).await;
    let carl = user_token("3");
    let later = |secs: u64| {
        (std::time::SystemTime::now() + std::time::Duration::from_secs(secs)).duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()
            as u64
    };
    let request = |title: &str, due: Option<u64>| {
        json!({"key": "task:status:valid", "title": title, "body": "", "recipients": {"users": ["3"]},
               "context": {"table": "task", "id": "7"}, "due_at": due})
    };
    // Due in a minute, valid until a minute and a half: a check that runs
    // only after `until` cancels it instead of publishing it.
    let lapsing = send(&gw, &admin, json!({"key": "message:internal", "title": "Lapsed", "body": "", "recipients": {"users": ["3"]},
        "due_at": later(60), "until": later(90)})).await;
    assert_eq!(lapsing["outcome"], "scheduled");
    gw.advance_clock(200).await;
    let report = gw.tick().await;
    assert_eq!((report["check"]["published"].as_u64(), report["check"]["cancelled"].as_u64()), (Some(0), Some(1)), "{report}");
    let (_, shown) = gw.send(Method::GET, &format!("/demo/notifications/{}", lapsing["id"].as_str().unwrap()), Some(&admin), None).await;
    assert_eq!((shown["status"].as_str(), shown["deliveries"].as_array().map(Vec::len)), (Some("cancelled"), Some(0)));

    let first = send(&gw, &admin, request("Due in two hours", Some(later(7200)))).await;
    let second = send(&gw, &admin, request("Due in one hour", Some(later(3600)))).await;
    assert_eq!(second["outcome"], "rescheduled");
    assert_eq!(second["id"], first["id"], "the same notification, moved");
    gw.advance_clock(3700).await;
    let report = gw.tick().await;
    assert_eq!(report["check"]["published"], 1, "{report}");
    let superseded = inbox(&gw, &carl, "").await;
    assert_eq!(titles(&superseded), ["Due in one hour"]);
    gw.advance_clock(7200).await;
    assert_eq!(gw.tick().await["check"]["published"], 0, "the replaced schedule is gone");

    let third = send(&gw, &admin, request("Validated", None)).await;
    assert_eq!((third["outcome"].as_str(), third["revision"].as_u64()), (Some("republished"), Some(2)));
    gw.tick().await;
    // The new revision replaces the item of the one it supersedes, and the
    // live message says which item went (the earlier messages expired).
    let items = inbox(&gw, &carl, "?state=all").await;
    assert_eq!(titles(&items), ["Validated"]);
    let live = message(&gw.poll(&carl, None, &["notification:3"]).await).cloned().expect("the live message");
    assert_eq!((live["count"].as_u64(), &live["content"][0]["id"]), (Some(1), &items[0]["id"]), "{live}");
    assert_eq!(live["change"], json!({"action": "deleted", "ids": [superseded[0]["id"]]}));

    // A scheduled one can be cancelled; a published one cannot.
    let other = send(&gw, &admin, json!({"key": "message:internal", "title": "Never", "body": "", "recipients": {"users": ["3"]},
        "due_at": later(100_000)})).await;
    let path = format!("/demo/notifications/{}", other["id"].as_str().unwrap());
    let (status, cancelled) = gw.send(Method::DELETE, &path, Some(&admin), None).await;
    assert_eq!((status, cancelled["status"].as_str()), (200, Some("cancelled")));
    gw.advance_clock(200_000).await;
    assert_eq!(gw.tick().await["check"]["published"], 0);
    let (status, body) = gw.send(Method::DELETE, &format!("/demo/notifications/{}", third["id"].as_str().unwrap()), Some(&admin), None).await;
    assert_eq!((status, body["error"].as_str()), (409, Some("conflict")));
}

async fn idempotency_key_sends_once(store: Store) {
    let gw = Gateway::start(store).await;
    if store == Store::Moto {
        verify_sender(EMAIL_FROM).await;
    }
    let admin = admin_token();
    let domain = mail_domain();
    directory(&gw, &admin, &domain).await;
    let request = json!({"key": "message:internal", "title": "Once", "body": "only once", "recipients": {"users": [2]},
        "force_channel": "email", "idempotency_key": "invoice-42-reminder"});
    let first = send(&gw, &admin, request.clone()).await;
    let again = send(&gw, &admin, request.clone()).await;
    assert_eq!((again["outcome"].as_str(), &again["id"]), (Some("duplicate"), &first["id"]));
    gw.tick().await;
    // Still a duplicate 23 hours later; a new send after 24 hours.
    gw.advance_clock(23 * 3600).await;
    assert_eq!(send(&gw, &admin, request.clone()).await["outcome"], "duplicate");
    gw.tick().await;
    assert_eq!(gw.sent_mail(&domain).await, vec![mail(&format!("bob@{domain}"), "Once")]);
    gw.advance_clock(3600 + 1).await;
    let later = send(&gw, &admin, request).await;
    assert_eq!(later["outcome"], "published");
    assert_ne!(later["id"], first["id"]);
}

/// Every change a user makes to their inbox (read, read all, postpone,
/// delete) reaches their open clients on `notification:<uid>`: the unread
/// count after it and what changed; another user's clients hear nothing.
async fn inbox_changes_reach_the_users_clients(store: Store) {
    let gw = Gateway::start(store).await;
    let admin = admin_token();
    directory(&gw, &admin, &mail_domain()).await;
    let (carl, bob) = (user_token("3"), user_token("2"));
    for title in ["First", "Second", "Third"] {
        send(&gw, &admin, json!({"key": "message:internal", "title": title, "body": "", "recipients": {"users": ["3"]}})).await;
    }
    gw.tick().await;
    let items = inbox(&gw, &carl, "").await;
    assert_eq!(titles(&items), ["Third", "Second", "First"]);
    assert!(items[0].as_object().is_some_and(|i| i.contains_key("body_html")) && items[0]["body_html"].is_null(), "{}", items[0]);
    let id = |n: usize| items[n]["id"].as_str().expect("id").to_owned();

    // Past the three deliveries' messages: the changes come next, in order.
    let mut cursor = None;
    for _ in 0..3 {
        cursor = message_id(&gw.poll(&carl, cursor.as_deref(), &["notification:3"]).await);
    }
    let bob_cursor = message_id(&gw.poll(&bob, None, &["notification:2"]).await);
    let next = async |cursor: &mut Option<String>| {
        let reply = gw.poll(&carl, cursor.as_deref(), &["notification:3"]).await;
        *cursor = message_id(&reply);
        message(&reply).cloned().expect("a live message for the change")
    };

    assert_eq!(gw.post(&format!("/demo/inbox/{}/read", id(0)), Some(&carl), &json!({})).await.0, 200);
    let live = next(&mut cursor).await;
    assert_eq!((live["type"].as_str(), live["count"].as_u64(), &live["content"]), (Some("user-notification"), Some(2), &json!([])));
    assert_eq!((live["change"]["action"].as_str(), live["change"]["items"][0]["id"].as_str(), live["change"]["items"][0]["read"].as_bool()), (Some("read"), Some(id(0).as_str()), Some(true)));
    // Read again: nothing changed, nothing pushed (the next message is the postpone's).
    assert_eq!(gw.post(&format!("/demo/inbox/{}/read", id(0)), Some(&carl), &json!({})).await.0, 200);

    assert_eq!(gw.post(&format!("/demo/inbox/{}/postpone", id(1)), Some(&carl), &json!({"days": 1})).await.0, 200);
    let live = next(&mut cursor).await;
    assert_eq!((live["count"].as_u64(), live["change"]["action"].as_str(), live["change"]["items"][0]["id"].as_str()), (Some(1), Some("postponed"), Some(id(1).as_str())));

    assert_eq!(gw.post("/demo/inbox/read-all", Some(&carl), &json!({})).await.0, 200);
    let live = next(&mut cursor).await;
    assert_eq!((live["count"].as_u64(), live["change"]["action"].as_str()), (Some(0), Some("read_all")));

    assert_eq!(gw.send(Method::DELETE, &format!("/demo/inbox/{}", id(2)), Some(&carl), None).await.0, 200);
    let live = next(&mut cursor).await;
    assert_eq!((live["count"].as_u64(), live["change"]["action"].as_str(), &live["change"]["ids"]), (Some(0), Some("deleted"), &json!([id(2)])));

    let reply = gw.poll(&carl, cursor.as_deref(), &["notification:3"]).await;
    assert_eq!(reply["message"], Value::Null, "one message per change");
    let reply = gw.poll(&bob, bob_cursor.as_deref(), &["notification:2"]).await;
    assert_eq!(reply["message"], Value::Null, "nothing for another user");
}

/// A postponed item coming due is pushed on `notification:<uid>` once, with
/// the count back up; the item keeps the notification's HTML body.
async fn a_postponed_item_coming_due_reaches_the_users_clients(store: Store) {
    let gw = Gateway::start(store).await;
    let admin = admin_token();
    directory(&gw, &admin, &mail_domain()).await;
    let carl = user_token("3");
    let html = "<p>Later, <b>please</b><img src=x onerror=alert(1)></p>";
    send(&gw, &admin, json!({"key": "message:internal", "title": "Later", "body": "Later, please", "body_html": html, "recipients": {"users": ["3"]}})).await;
    gw.tick().await;
    let items = inbox(&gw, &carl, "").await;
    assert_eq!((titles(&items), items[0]["body_html"].as_str()), (vec!["Later"], Some(html)), "stored as given");
    let id = items[0]["id"].as_str().expect("id").to_owned();
    let mut cursor = message_id(&gw.poll(&carl, None, &["notification:3"]).await);

    assert_eq!(gw.post(&format!("/demo/inbox/{id}/postpone"), Some(&carl), &json!({"days": 1})).await.0, 200);
    let reply = gw.poll(&carl, cursor.as_deref(), &["notification:3"]).await;
    assert_eq!((message(&reply).and_then(|m| m["change"]["action"].as_str()), message(&reply).and_then(|m| m["count"].as_u64())), (Some("postponed"), Some(0)), "{reply}");
    cursor = message_id(&reply);
    assert_eq!(gw.tick().await["inbox"]["pushed"], 0, "not due yet");

    gw.advance_clock(86_400 + 60).await;
    let report = gw.tick().await;
    assert_eq!((&report["inbox"]["pushed"], &report["inbox"]["users"]), (&json!(1), &json!(1)), "{report}");
    let reply = gw.poll(&carl, cursor.as_deref(), &["notification:3"]).await;
    let live = message(&reply).cloned().expect("a live message for the item come due");
    assert_eq!((live["type"].as_str(), live["count"].as_u64(), &live["content"]), (Some("user-notification"), Some(1), &json!([])), "{live}");
    let change = &live["change"];
    assert_eq!((change["action"].as_str(), change["items"].as_array().map(Vec::len)), (Some("due"), Some(1)), "{live}");
    assert_eq!((change["items"][0]["id"].as_str(), change["items"][0]["read"].as_bool(), change["items"][0]["body_html"].as_str()), (Some(id.as_str()), Some(false), Some(html)));
    assert_eq!(titles(&inbox(&gw, &carl, "").await), ["Later"], "due again in the list");
    cursor = message_id(&reply);

    assert_eq!(gw.tick().await["inbox"]["pushed"], 0, "pushed once");
    let reply = gw.poll(&carl, cursor.as_deref(), &["notification:3"]).await;
    assert_eq!(reply["message"], Value::Null, "nothing more: {reply}");
}

on_both_stores!(
    notifications_end_to_end,
    context_reschedules_and_republishes,
    idempotency_key_sends_once,
    inbox_changes_reach_the_users_clients,
    a_postponed_item_coming_due_reaches_the_users_clients
);

#[tokio::test]
async fn notification_refusals() {
    let gw = Gateway::start(Store::Embedded).await;
    let admin = admin_token();
    let a = Some(admin.as_str());
    let ok = json!({"key": "message:internal", "title": "T", "body": "B", "recipients": {"users": ["1"]}});
    let with = |field: &str, value: Value| {
        let mut request = ok.clone();
        request[field] = value;
        request
    };
    let long = "x".repeat(300);
    let bad = [
        with("force_channel", json!("sms")),
        with("recipients", json!({})),
        with("recipients", json!({"users": []})),
        with("recipients", json!({"user": ["1"]})),
        with("title", json!("")),
        with("title", json!(long)),
        with("body", json!("x".repeat(17 * 1024))),
        with("key", json!("Not A Key")),
        with("due_at", json!("tomorrow")),
        with("until", json!(-5)),
        with("context", json!({"table": "a#b", "id": "1"})),
        with("idempotency_key", json!("")),
        with("colour", json!("red")),
        json!({"title": "T", "recipients": {"users": ["1"]}}),
        with("recipients", json!({"users": (0..101).map(|i| i.to_string()).collect::<Vec<_>>()})),
    ];
    for request in bad {
        let (status, body) = gw.post("/demo/notifications", a, &request).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("bad_request")), "{request} → {body}");
    }
    let (status, body) = gw.post_raw("/demo/notifications", a, "{not json".into()).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("bad_request")));

    // Only admins send; tokens for another tenant are refused.
    assert_eq!(gw.post("/demo/notifications", None, &ok).await.0, 401);
    assert_eq!(gw.post("/demo/notifications", Some(&user_token("1")), &ok).await.0, 403);
    let elsewhere = token_with(TokenSpec { db: herald::auth::TenantClaim::One("other".into()), roles: &["admin"], ..Default::default() });
    assert_eq!(gw.post("/demo/notifications", Some(&elsewhere), &ok).await.0, 403);
    assert_eq!(gw.send(Method::GET, "/demo/notifications/0123456789abcdef0123456789abcdef", Some(&user_token("1")), None).await.0, 403);
    assert_eq!(gw.send(Method::GET, "/demo/notifications/0123456789abcdef0123456789abcdef", a, None).await.0, 404);
    assert_eq!(gw.send(Method::GET, "/demo/notifications/nope", a, None).await.0, 404);
    assert_eq!(gw.send(Method::DELETE, "/demo/notifications/0123456789abcdef0123456789abcdef", a, None).await.0, 404);

    // The inbox: signed in, of this tenant, and known to its directory.
    assert_eq!(gw.send(Method::GET, "/demo/inbox", None, None).await.0, 401);
    let (status, body) = gw.send(Method::GET, "/demo/inbox", Some(&user_token("77")), None).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")), "unknown user: {body}");
    gw.send(Method::PUT, "/demo/users/5", a, Some(&json!({"login": "eve"}))).await;
    let eve = user_token("5");
    assert_eq!(gw.send(Method::GET, "/demo/inbox", Some(&eve), None).await.0, 200);
    let other_tenant = token_with(TokenSpec { sub: "5", db: herald::auth::TenantClaim::One("other".into()), ..Default::default() });
    assert_eq!(gw.send(Method::GET, "/demo/inbox", Some(&other_tenant), None).await.0, 403);
    for query in ["?state=new", "?channel=sms", "?limit=0", "?limit=101", "?cursor=zzz", "?due_before=soon", "?colour=red"] {
        let (status, body) = gw.send(Method::GET, &format!("/demo/inbox{query}"), Some(&eve), None).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("bad_request")), "{query}");
    }
    let missing = "1700000000000-0123456789abcdef0123456789abcdef-1";
    assert_eq!(gw.send(Method::GET, &format!("/demo/inbox/{missing}"), Some(&eve), None).await.0, 404);
    assert_eq!(gw.send(Method::GET, "/demo/inbox/garbage", Some(&eve), None).await.0, 404);
    for days in [json!({"days": 0}), json!({"days": 400}), json!({"days": "x"}), json!({"weeks": 1})] {
        let (status, _) = gw.post(&format!("/demo/inbox/{missing}/postpone"), Some(&eve), &days).await;
        assert_eq!(status, 400, "{days}");
    }
}

/// SES refuses the send every time (the sender is not a verified
/// identity): the delivery ends `failed` after the configured attempts and
/// its SQS message lands in the dead-letter queue.
#[tokio::test]
async fn moto_permanent_ses_failure_fails_and_dead_letters() {
    let domain = mail_domain();
    let mut options = GatewayOptions::new(Store::Moto);
    options.env = vec![
        ("HERALD_EMAIL_FROM".into(), format!("unverified@{domain}")),
        ("HERALD_OUTBOX_MAX_ATTEMPTS".into(), "2".into()),
    ];
    let gw = Gateway::start_with(options).await;
    let admin = admin_token();
    directory(&gw, &admin, &domain).await;
    let sent = send(&gw, &admin, json!({"key": "message:internal", "title": "Refused", "body": "x", "recipients": {"users": ["2"]},
        "force_channel": "email"})).await;
    gw.tick().await;
    let (_, shown) = gw.send(Method::GET, &format!("/demo/notifications/{}", sent["id"].as_str().unwrap()), Some(&admin), None).await;
    let delivery = &shown["deliveries"][0];
    assert_eq!((delivery["status"].as_str(), delivery["attempts"].as_u64()), (Some("failed"), Some(2)), "{shown}");
    assert!(delivery["last_error"].as_str().unwrap_or_default().contains("not verified"), "{delivery}");
    assert!(gw.sent_mail(&domain).await.is_empty());

    let sqs = aws_sdk_sqs::Client::new(&aws_config().await);
    let dlq = format!("{}-outbox-dlq", gw.data_table.as_deref().unwrap());
    let url = sqs.get_queue_url().queue_name(dlq).send().await.expect("dlq").queue_url.expect("url");
    let dead = sqs.receive_message().queue_url(url).max_number_of_messages(10).send().await.expect("receive").messages.unwrap_or_default();
    assert_eq!(dead.len(), 1);
    let key: Value = serde_json::from_str(dead[0].body.as_deref().unwrap_or_default()).expect("a delivery key");
    assert_eq!((&key["notification"], &key["recipient"]), (&sent["id"], &json!({"user": "2"})));
}
