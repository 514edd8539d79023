//! The wiring each Lambda function builds in its `main.rs`
//! (`Wiring::new(config, Aws, <its role>)`), on moto: what a function wires
//! works against DynamoDB, SQS and SES v2, and what it leaves out answers
//! "not wired in this function" (a 503, never a panic). The functions run
//! together as in AWS: `notify` queues on SQS, `check` publishes what is
//! due, `outbox` delivers the SQS batch by email.
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::SqsEvent;
use herald::config::Config;
use herald::domain::{Clock, ManualClock, StoreError, TenantId, UserId};
use herald::events;
use herald::notifications::{DeliveryStatus, NotifyError, SendRequest};
use herald::services::Services;
use herald::wiring::{ApiFunction, Aws, BusFunction, CheckFunction, LocalGateway, NotifyFunction, OutboxFunction, Role, Wiring};
use herald_tests::{aws_config, fresh_table, mail_domain, verify_sender, EMAIL_FROM};
use serde_json::{json, Value};

fn config(table: &str, queue_url: Option<&str>) -> Config {
    config_with(table, queue_url, &[])
}

fn config_with(table: &str, queue_url: Option<&str>, more: &[(&str, &str)]) -> Config {
    let (table, queue_url) = (table.to_owned(), queue_url.map(str::to_owned));
    let more: std::collections::HashMap<String, String> = more.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Config::from_lookup(move |name| match more.get(name) {
        Some(value) => Some(value.clone()),
        None => match name {
        "HERALD_JWT_SECRET" => Some("lambda-wiring-secret-0123456789".into()),
        "HERALD_DATA_TABLE" => Some(format!("{table}-data")),
        "HERALD_BUS_TABLE" => Some(table.clone()),
        "HERALD_OUTBOX_QUEUE_URL" => queue_url.clone(),
        "HERALD_EMAIL_FROM" => Some(EMAIL_FROM.into()),
        "HERALD_BUS_WAIT_SECS" => Some("1".into()),
        _ => None,
        },
    })
    .expect("config")
}

async fn function<R: Role>(config: &Config, clock: &Arc<ManualClock>, role: R) -> Services {
    Wiring::new(config.clone(), Aws, role).with_clock(clock.clone()).build().await.expect("the function starts")
}

fn send(user: &UserId, channel: &str, due_at: Option<herald::domain::Timestamp>) -> SendRequest {
    SendRequest {
        key: herald::notifications::TypeKey::parse("message:internal").expect("key"),
        title: format!("By {channel}"),
        body: "Body".into(),
        body_html: None,
        recipients: serde_json::from_value(json!({"users": [user]})).expect("recipients"),
        due_at,
        until: None,
        force_channel: serde_json::from_value(json!(channel)).expect("channel"),
        context: None,
        idempotency_key: None,
    }
}

fn not_wired(error: &StoreError) -> bool {
    matches!(error, StoreError::Unavailable(m) if m.contains("not wired in this function"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_function_wires_what_it_uses() {
    let table = fresh_table();
    let clock = Arc::new(ManualClock::new());
    // What template.yaml creates in AWS: the tables, the queue and its DLQ.
    function(&config(&table, None), &clock, LocalGateway).await;
    let sqs = aws_sdk_sqs::Client::new(&aws_config().await);
    let queue_url = sqs.get_queue_url().queue_name(format!("{table}-data-outbox")).send().await.expect("queue").queue_url.expect("url");
    let config = config(&table, Some(&queue_url));
    let tenant = TenantId::parse("demo").expect("tenant");
    let user = UserId::parse("5").expect("user");
    let address = format!("eve@{}", mail_domain());

    // api: the directory on DynamoDB; it never queues.
    let api = function(&config, &clock, ApiFunction).await;
    let request = serde_json::from_value(json!({"login": "eve", "email": address})).expect("user");
    api.directory.put_user(&tenant, user.clone(), request).await.expect("put user");
    assert_eq!(api.directory.user(&tenant, &user).await.expect("get user").login, "eve");
    assert!(matches!(api.notifier.send(&tenant, send(&user, "message", None)).await, Err(NotifyError::Store(e)) if not_wired(&e)));

    // bus: Tryton's notify and poll on the bus table; it never pulls the queue.
    let bus = function(&config, &clock, BusFunction).await;
    let notify = serde_json::from_value(json!({"title": "Hello", "user": 5})).expect("notify");
    bus.bus.notify(&tenant, &user, &notify).await.expect("notify");
    let poll = serde_json::from_value(json!({"last_message": null, "channels": []})).expect("poll");
    let delivered = bus.bus.listen(&tenant, &user, &Default::default(), &poll).await.expect("poll").expect("a message");
    assert_eq!(delivered.message["title"], "Hello");
    assert!(matches!(events::drain_outbox(&bus).await, Err(e) if not_wired(&e)));

    // notify: queues the deliveries on SQS; it sends no email.
    verify_sender(EMAIL_FROM).await;
    let notify = function(&config, &clock, NotifyFunction).await;
    let (now, _) = notify.notifier.send(&tenant, send(&user, "email", None)).await.expect("send now");
    let later = clock.now().plus(Duration::from_secs(60));
    let (scheduled, _) = notify.notifier.send(&tenant, send(&user, "email", Some(later))).await.expect("schedule");
    let unsent = notify.notifier.status(&tenant, &now.id).await.expect("status").1;
    let key = serde_json::to_string(&unsent[0].key).expect("key");
    assert!(notify.outbox.handle_message(&key).await.retries(), "the notify function cannot mail");
    assert!(notify.notifier.status(&tenant, &now.id).await.expect("status").1[0].last_error.as_deref().is_some_and(|e| e.contains("not wired")));

    // check: publishes what is due, queuing its deliveries.
    let check = function(&config, &clock, CheckFunction).await;
    clock.advance(Duration::from_secs(61));
    let report = events::scheduled(&check, &json!({"source": "aws.events"})).await.expect("check");
    assert_eq!(report["notifications"]["published"], 1);

    // outbox: the SQS batch, as the event source hands it over, by SES.
    let outbox = function(&config, &clock, OutboxFunction).await;
    let received = sqs.receive_message().queue_url(&queue_url).max_number_of_messages(10).send().await.expect("receive").messages.unwrap_or_default();
    assert_eq!(received.len(), 2, "one delivery of each notification is queued");
    let records: Vec<Value> = received.iter().map(|m| json!({"messageId": m.message_id, "receiptHandle": m.receipt_handle, "body": m.body})).collect();
    let batch: SqsEvent = serde_json::from_value(json!({"Records": records})).expect("an SQS event");
    let answer = events::outbox_batch(&outbox, batch).await;
    assert!(answer.batch_item_failures.is_empty(), "{:?}", answer.batch_item_failures);
    for id in [&now.id, &scheduled.id] {
        let deliveries = outbox.notifier.status(&tenant, id).await.expect("status").1;
        assert_eq!((deliveries[0].status, deliveries[0].delivered_to.as_deref()), (DeliveryStatus::Sent, Some(address.as_str())));
    }
    assert!(matches!(outbox.notifier.send(&tenant, send(&user, "message", None)).await, Err(NotifyError::Store(e)) if not_wired(&e)));
}

/// Finding 10 of issue 11: a failed send was retried with no delay. The
/// outbox function hides the message for the backoff (1 s here), not the
/// queue's visibility timeout (60 s), and records a short error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_function_backs_off_a_failed_send() {
    let table = fresh_table();
    let clock = Arc::new(ManualClock::new());
    function(&config(&table, None), &clock, LocalGateway).await;
    let sqs = aws_sdk_sqs::Client::new(&aws_config().await);
    let queue_url = sqs.get_queue_url().queue_name(format!("{table}-data-outbox")).send().await.expect("queue").queue_url.expect("url");
    let unverified = format!("unverified@{}", mail_domain());
    let config = config_with(&table, Some(&queue_url), &[("HERALD_OUTBOX_RETRY_SECS", "1"), ("HERALD_EMAIL_FROM", &unverified)]);
    let (tenant, user) = (TenantId::parse("demo").expect("tenant"), UserId::parse("5").expect("user"));
    let api = function(&config, &clock, ApiFunction).await;
    let request = serde_json::from_value(json!({"login": "eve", "email": format!("eve@{}", mail_domain())})).expect("user");
    api.directory.put_user(&tenant, user.clone(), request).await.expect("put user");
    let notify = function(&config, &clock, NotifyFunction).await;
    let (sent, _) = notify.notifier.send(&tenant, send(&user, "email", None)).await.expect("send");

    let outbox = function(&config, &clock, OutboxFunction).await;
    let receive = || async {
        sqs.receive_message().queue_url(&queue_url).max_number_of_messages(10).send().await.expect("receive").messages.unwrap_or_default()
    };
    let received = receive().await;
    assert_eq!(received.len(), 1);
    let records: Vec<Value> = received.iter().map(|m| json!({"messageId": m.message_id, "receiptHandle": m.receipt_handle, "body": m.body})).collect();
    let answer = events::outbox_batch(&outbox, serde_json::from_value(json!({"Records": records})).expect("an SQS event")).await;
    assert_eq!(answer.batch_item_failures.len(), 1, "the failed send stays on the queue");
    let delivery = &outbox.notifier.status(&tenant, &sent.id).await.expect("status").1[0];
    assert_eq!((delivery.status, delivery.attempts), (DeliveryStatus::Queued, 1));
    let error = delivery.last_error.as_deref().unwrap_or_default();
    assert!(error.contains("not verified") && error.len() <= herald::outbox::MAX_ERROR_BYTES, "{error}");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(receive().await.len(), 1, "visible again after the backoff, not after the 60 s visibility timeout");
}
