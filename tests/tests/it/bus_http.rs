//! The bus through HTTP on the local gateway, embedded and `--aws` on moto:
//! Tryton's request/reply shapes, one message per reply, `last_message`
//! semantics, retention, waiting, and the channel rules.
use herald_tests::*;
use serde_json::{json, Value};

async fn delivers_a_notify_with_trytons_shape(store: Store) {
    let gw = Gateway::start(store).await;
    let (admin, alice) = (admin_token(), user_token("5"));
    let published = gw.notify(&admin, json!({"title": "Hello", "body": "World", "priority": 2, "user": 5})).await;
    assert_eq!(published["channel"], "user:5");
    let reply = gw.poll(&alice, None, &[]).await;
    assert_eq!(reply["channel"], "user:5");
    let m = message(&reply).expect("a message");
    assert_eq!(m["type"], "notification");
    assert_eq!((m["title"].as_str(), m["body"].as_str(), m["priority"].as_i64()), (Some("Hello"), Some("World"), Some(2)));
    assert!(m["message_id"].as_str().is_some_and(|s| !s.is_empty()));
    // Caught up: the next poll waits and answers nothing.
    let next = gw.poll(&alice, message_id(&reply).as_deref(), &[]).await;
    assert_eq!(next, json!({"channel": null, "message": null}));
}

async fn one_message_per_reply_in_publish_order(store: Store) {
    let gw = Gateway::start(store).await;
    let (admin, alice) = (admin_token(), user_token("5"));
    let client = "0b5d5f5e-6a1e-4f7e-9e65-3c1f3b6f0d11";
    // Across channels, order is publish time at millisecond resolution: space
    // the publishes so each has its own millisecond.
    let tick = || tokio::time::sleep(std::time::Duration::from_millis(3));
    for i in 0..3 {
        gw.notify(&admin, json!({"title": format!("user {i}"), "user": "5"})).await;
        tick().await;
        gw.notify(&admin, json!({"title": format!("client {i}"), "user": 5, "client": client})).await;
        tick().await;
    }
    gw.publish(&admin, "user:5", json!({"type": "custom", "n": 7})).await;
    let mut last = None;
    let mut got = Vec::new();
    let client_channel = format!("client:{client}");
    loop {
        let reply = gw.poll(&alice, last.as_deref(), &[&client_channel]).await;
        let Some(m) = message(&reply) else { break };
        got.push(format!("{} {}", reply["channel"].as_str().unwrap(), m["title"].as_str().unwrap_or("-")));
        last = message_id(&reply);
    }
    let expected: Vec<String> = (0..3)
        .flat_map(|i| [format!("user:5 user {i}"), format!("{client_channel} client {i}")])
        .chain([String::from("user:5 -")])
        .collect();
    assert_eq!(got, expected);
}

async fn unknown_or_null_last_message_starts_at_the_oldest_retained(store: Store) {
    let gw = Gateway::start(store).await;
    let (admin, alice) = (admin_token(), user_token("5"));
    gw.notify(&admin, json!({"title": "first", "user": 5})).await;
    gw.notify(&admin, json!({"title": "second", "user": 5})).await;
    for last in [None, Some("not-a-cursor"), Some("8c2f2b8e-7d3c-4a7b-9f0e-1b2c3d4e5f60")] {
        let reply = gw.poll(&alice, last, &[]).await;
        assert_eq!(message(&reply).unwrap()["title"], "first", "last_message {last:?}");
    }
    // The key may also be absent.
    let (status, reply) = gw.post(&format!("/{DB}/bus"), Some(&alice), &json!({"channels": []})).await;
    assert_eq!((status, message(&reply).unwrap()["title"].as_str()), (200, Some("first")));
}

async fn expired_messages_are_not_delivered(store: Store) {
    let gw = Gateway::start(store).await;
    let (admin, alice) = (admin_token(), user_token("5"));
    gw.notify(&admin, json!({"title": "old", "user": 5})).await;
    let first = gw.poll(&alice, None, &[]).await;
    gw.advance_clock(200).await;
    gw.notify(&admin, json!({"title": "newer", "user": 5})).await;
    gw.advance_clock(150).await; // "old" is now 350 s old, past the 300 s retention
    let reply = gw.poll(&alice, None, &[]).await;
    assert_eq!(message(&reply).unwrap()["title"], "newer", "null starts at the oldest retained");
    let stale = gw.poll(&alice, message_id(&first).as_deref(), &[]).await;
    assert_eq!(message(&stale).unwrap()["title"], "newer");
    gw.advance_clock(400).await;
    assert_eq!(gw.poll(&alice, None, &[]).await, json!({"channel": null, "message": null}));
}

async fn a_waiting_poll_returns_as_soon_as_a_message_arrives(store: Store) {
    let gw = Gateway::start_with(GatewayOptions { wait_secs: 20, ..GatewayOptions::new(store) }).await;
    let (admin, alice) = (admin_token(), user_token("5"));
    let poller = {
        let url = gw.url.clone();
        let http = gw.http.clone();
        let alice = alice.clone();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            let reply: serde_json::Value = http
                .post(format!("{url}/{DB}/bus"))
                .bearer_auth(alice)
                .json(&json!({"last_message": null, "channels": []}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            (reply, started.elapsed())
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    gw.notify(&admin, json!({"title": "wake up", "user": 5})).await;
    let (reply, elapsed) = poller.await.unwrap();
    assert_eq!(message(&reply).unwrap()["title"], "wake up");
    // Not a timing assertion on speed: only that it did not wait the full 20 s.
    assert!(elapsed.as_secs() < 15, "the poll waited for its whole timeout");
}

async fn users_never_see_each_others_channels(store: Store) {
    let gw = Gateway::start(store).await;
    let (admin, alice, bob) = (admin_token(), user_token("5"), user_token("6"));
    let client = "11111111-2222-4333-8444-555555555555";
    gw.notify(&admin, json!({"title": "for alice", "user": 5})).await;
    gw.notify(&admin, json!({"title": "alice's client", "user": 5, "client": client})).await;
    gw.publish(&admin, "notification:5", json!({"type": "user-notification", "count": 1})).await;
    // Bob asks for everything of Alice's: all dropped, he gets his own user channel.
    let channels = ["user:5", &format!("client:{client}") as &str, "notification:5", "chat:secret"];
    let reply = gw.poll(&bob, None, &channels).await;
    assert_eq!(reply, json!({"channel": null, "message": null}));
    gw.notify(&admin, json!({"title": "for bob", "user": 6})).await;
    let reply = gw.poll(&bob, None, &channels).await;
    assert_eq!((reply["channel"].as_str(), message(&reply).unwrap()["title"].as_str()), (Some("user:6"), Some("for bob")));
    // Alice gets all three of hers.
    let mut last = None;
    let mut seen = Vec::new();
    for _ in 0..3 {
        let reply = gw.poll(&alice, last.as_deref(), &[&format!("client:{client}"), "notification:5"]).await;
        seen.push(reply["channel"].as_str().unwrap().to_owned());
        last = message_id(&reply);
    }
    seen.sort();
    let mut expected = vec!["user:5".to_owned(), format!("client:{client}"), "notification:5".to_owned()];
    expected.sort();
    assert_eq!(seen, expected);
}

async fn shared_channels_need_a_grant(store: Store) {
    let gw = Gateway::start(store).await;
    let admin = admin_token();
    let granted = token_with(TokenSpec { sub: "5", channels: &["chat:*"], ..Default::default() });
    let plain = user_token("6");
    gw.publish(&admin, "chat:sale.order,5", json!({"type": "chat", "text": "hi"})).await;
    let reply = gw.poll(&granted, None, &["chat:sale.order,5"]).await;
    assert_eq!(reply["channel"], "chat:sale.order,5");
    assert_eq!(gw.poll(&plain, None, &["chat:sale.order,5"]).await["message"], json!(null));
}

async fn a_new_channel_starts_after_the_last_message(store: Store) {
    let gw = Gateway::start(store).await;
    let (admin, alice) = (admin_token(), user_token("5"));
    gw.notify(&admin, json!({"title": "old on client", "user": 5, "client": "c1"})).await;
    // Older by at least a millisecond: same-millisecond messages count as new.
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    gw.notify(&admin, json!({"title": "user one", "user": 5})).await;
    let reply = gw.poll(&alice, None, &[]).await;
    assert_eq!(message(&reply).unwrap()["title"], "user one");
    gw.notify(&admin, json!({"title": "new on client", "user": 5, "client": "c1"})).await;
    // The client registers `client:c1` later, keeping its cursor (as sao does).
    let reply = gw.poll(&alice, message_id(&reply).as_deref(), &["client:c1"]).await;
    assert_eq!(message(&reply).unwrap()["title"], "new on client");
}

/// Tryton's `notify(client=X)`: a message for the client id alone reaches
/// the client that polls it (the first user to poll the id holds it); no
/// other user reads it, and a publisher naming another user for it is
/// refused.
async fn a_notify_to_a_client_alone_reaches_the_client_that_polls_it(store: Store) {
    let gw = Gateway::start(store).await;
    let (admin, alice, bob) = (admin_token(), user_token("5"), user_token("6"));
    let client = "9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f";
    let channel = format!("client:{client}");
    // Alice's client starts listening, then the message comes for it alone.
    assert_eq!(gw.poll(&alice, None, &[&channel]).await, json!({"channel": null, "message": null}));
    let published = gw.notify(&admin, json!({"title": "for this client", "client": client})).await;
    assert_eq!(published["channel"], channel);
    let reply = gw.poll(&alice, None, &[&channel]).await;
    assert_eq!((reply["channel"].as_str(), message(&reply).unwrap()["title"].as_str()), (Some(channel.as_str()), Some("for this client")));
    // Bob asks for Alice's client: dropped, he hears nothing of it.
    assert_eq!(gw.poll(&bob, None, &[&channel]).await, json!({"channel": null, "message": null}));
    // A publisher naming Bob for Alice's client is refused, and sends nothing.
    let (status, answer) = gw.post(&format!("/{DB}/notify"), Some(&admin), &json!({"title": "misrouted", "user": 6, "client": client})).await;
    assert_eq!((status, answer["error"].as_str()), (409, Some("conflict")), "{answer}");
    let (status, answer) = gw.post(&format!("/{DB}/bus/publish"), Some(&admin), &json!({"channel": channel, "message": {"n": 1}, "user": "6"})).await;
    assert_eq!((status, answer["error"].as_str()), (409, Some("conflict")), "{answer}");
    let reply = gw.poll(&alice, message_id(&reply).as_deref(), &[&channel]).await;
    assert_eq!(reply, json!({"channel": null, "message": null}), "nothing more for Alice's client");
}

/// A trytond transaction's messages, in one request, in their order; a
/// batch naming a channel no one may publish to publishes nothing.
async fn a_batch_publishes_in_order_or_not_at_all(store: Store) {
    let gw = Gateway::start(store).await;
    let (admin, alice) = (admin_token(), user_token("5"));
    let path = format!("/{DB}/bus/messages");
    let (status, answer) = gw.post(&path, Some(&admin), &json!({"messages": [{"channel": "user:5", "message": {"n": 1}}, {"channel": "user:", "message": {"n": 2}}]})).await;
    assert_eq!((status, answer["error"].as_str()), (400, Some("bad_request")), "{answer}");
    let (status, answer) = gw.post(&path, Some(&admin), &json!({"messages": (0..101).map(|n| json!({"channel": "user:5", "message": {"n": n}})).collect::<Vec<_>>()})).await;
    assert_eq!(status, 400, "{answer}");
    let (status, answer) = gw.post(&path, Some(&user_token("5")), &json!({"messages": []})).await;
    assert_eq!(status, 403, "{answer}");
    let (status, answer) = gw.post(&path, Some(&admin), &json!({"messages": [{"channel": "user:5", "message": {"n": 1}}, {"channel": "notification:5", "message": {"n": 2}}, {"channel": "user:5", "message": {"n": 3}}]})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["published"].as_array().map(Vec::len), Some(3));
    let mut last = None;
    let mut got = Vec::new();
    for _ in 0..3 {
        let reply = gw.poll(&alice, last.as_deref(), &["notification:5"]).await;
        got.push((reply["channel"].as_str().map(str::to_owned), message(&reply).expect("a message")["n"].as_i64()));
        last = message_id(&reply);
    }
    // Each channel in its order (across channels, the same millisecond may
    // come either way); nothing of the refused batch.
    let on = |channel: &str| got.iter().filter(|(c, _)| c.as_deref() == Some(channel)).map(|(_, n)| *n).collect::<Vec<_>>();
    assert_eq!((on("user:5"), on("notification:5")), (vec![Some(1), Some(3)], vec![Some(2)]), "{got:?}");
    assert_eq!(gw.poll(&alice, last.as_deref(), &["notification:5"]).await["message"], Value::Null);
}

/// The trytond module sends a batch again after a failure it cannot read
/// (a timeout): messages whose `id` their channel took are not published
/// twice; the client gets each once.
async fn a_batch_sent_again_publishes_only_what_was_missing(store: Store) {
    let gw = Gateway::start(store).await;
    let (admin, alice) = (admin_token(), user_token("5"));
    let path = format!("/{DB}/bus/messages");
    let item = |n: u64| json!({"channel": "user:5", "message": {"n": n}, "id": format!("3f2a-{n}")});
    let (status, first) = gw.post(&path, Some(&admin), &json!({"messages": [item(1), item(2)]})).await;
    assert_eq!(status, 200, "{first}");
    let (status, again) = gw.post(&path, Some(&admin), &json!({"messages": [item(1), item(2), item(3)]})).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["published"][0], first["published"][0], "the first message's sequence");
    assert_eq!(again["published"][1], first["published"][1]);
    let mut last = None;
    let mut got = Vec::new();
    for _ in 0..3 {
        let reply = gw.poll(&alice, last.as_deref(), &[]).await;
        got.push(message(&reply).expect("a message")["n"].as_u64());
        last = message_id(&reply);
    }
    assert_eq!(got, vec![Some(1), Some(2), Some(3)]);
    assert_eq!(gw.poll(&alice, last.as_deref(), &[]).await["message"], Value::Null, "nothing twice");
    for bad in ["", "a#b", "with space", &"x".repeat(65)] {
        let (status, answer) = gw.post(&path, Some(&admin), &json!({"messages": [{"channel": "user:5", "message": {}, "id": bad}]})).await;
        assert_eq!(status, 400, "id {bad:?}: {answer}");
    }
}

on_both_stores!(
    a_batch_publishes_in_order_or_not_at_all,
    a_batch_sent_again_publishes_only_what_was_missing,
    a_notify_to_a_client_alone_reaches_the_client_that_polls_it,
    delivers_a_notify_with_trytons_shape,
    one_message_per_reply_in_publish_order,
    unknown_or_null_last_message_starts_at_the_oldest_retained,
    expired_messages_are_not_delivered,
    a_waiting_poll_returns_as_soon_as_a_message_arrives,
    users_never_see_each_others_channels,
    shared_channels_need_a_grant,
    a_new_channel_starts_after_the_last_message,
);
