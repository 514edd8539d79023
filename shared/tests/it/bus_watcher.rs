//! One watcher per process (issue 15), on the DynamoDB adapter (moto): with
//! a thousand polls waiting in one process, the store is read once per
//! interval, at most one request per 100 distinct channels plus one (the
//! feed's partitions the channels fall in; every minute one `BatchGetItem`
//! per 100 heads), as the adapter's own request counter counts them; a
//! message another process publishes wakes the polls of its channel, and
//! each gets its own message.
use std::sync::Arc;
use std::time::Duration;

use crate::common;
use herald::adapters::aws::{load_config, tables, DynamoBusStore, DynamoClient, RequestCount, Table};
use herald::bus::{Bus, BusSettings, ChannelKey, Subscription};
use herald::domain::{SystemClock, TenantId, UserId};
use serde_json::{json, Map, Value};
use futures::StreamExt;
use tokio::time::Instant;

const POLLS: usize = 1000;
/// Long enough for every poll to start, the counting and the publishes,
/// on a busy moto.
const WAIT: Duration = Duration::from_secs(45);
/// Polls' first looks in flight at once, as invocations arrive over time
/// (a thousand at once would only measure moto's accept queue).
const STARTING_AT_ONCE: u64 = 25;
const INTERVAL: Duration = Duration::from_millis(200);
/// Watcher reads the counting window spans.
const ROUNDS: u64 = 5;

fn subscription(user: usize) -> Subscription {
    let user = UserId::parse(user.to_string()).expect("user id");
    Subscription { name: format!("user:{user}"), key: ChannelKey::user(&user) }
}

fn body(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

/// A fresh bus table whose client waits for moto to accept its
/// connections and to answer: a thousand polls woken at once send a
/// thousand requests (DynamoDB takes them; moto, serving one request at a
/// time, queues them for longer than the SDK's stall protection waits).
async fn patient_table() -> Table {
    let config = load_config().await;
    let timeouts = aws_config::timeout::TimeoutConfig::builder().connect_timeout(Duration::from_secs(60)).build();
    let stalls = aws_sdk_dynamodb::config::StalledStreamProtectionConfig::disabled();
    let client = DynamoClient::from_conf(aws_sdk_dynamodb::config::Builder::from(&config).timeout_config(timeouts).stalled_stream_protection(stalls).build());
    let name = common::fresh_name("bus-watcher");
    tables::ensure_bus_table(&client, &name).await.expect("create table");
    Table::new(client, name)
}

/// A bus process on `table`'s DynamoDB table counting its requests.
fn process(table: &Table, requests: &RequestCount) -> Arc<Bus> {
    let settings = BusSettings { wait: WAIT, poll_interval: INTERVAL, ..BusSettings::default() };
    Arc::new(Bus::new(Arc::new(DynamoBusStore::new(table.clone().counting(requests))), Arc::new(SystemClock), settings))
}

/// A poll's answer and how long it took.
type Poll = tokio::task::JoinHandle<(Result<Option<herald::bus::Delivery>, herald::domain::StoreError>, Duration)>;

/// Starts [`POLLS`] polls, poll `i` on `user:<channel(i)>`, a few looking
/// at once (each first look is one `BatchGetItem`: no channel has a head).
async fn start_polls(bus: &Arc<Bus>, requests: &RequestCount, tenant: &TenantId, channel: impl Fn(usize) -> usize) -> Vec<Poll> {
    let mut polls = Vec::with_capacity(POLLS);
    for i in 0..POLLS {
        while requests.get() + STARTING_AT_ONCE < i as u64 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let (bus, tenant, subscription) = (bus.clone(), tenant.clone(), subscription(channel(i)));
        polls.push(tokio::spawn(async move {
            let started = Instant::now();
            let answer = bus.poll(&tenant, &[subscription], None).await;
            (answer, started.elapsed())
        }));
    }
    polls
}

/// Waits until every poll has looked once, then counts the process's
/// requests over [`ROUNDS`] reads of the watcher: (requests, rounds).
async fn requests_per_window(bus: &Bus, requests: &RequestCount, polls: &[Poll]) -> (u64, u64) {
    let started = Instant::now();
    while bus.watcher_stats().waiting < POLLS {
        assert!(!polls.iter().any(|p| p.is_finished()), "a poll ended early");
        assert!(started.elapsed() < Duration::from_secs(60), "the polls never all looked: {:?}", bus.watcher_stats());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (first, rounds) = (requests.get(), bus.watcher_stats().rounds);
    while bus.watcher_stats().rounds < rounds + ROUNDS {
        assert!(started.elapsed() < Duration::from_secs(90), "the watcher stopped reading: {:?}", bus.watcher_stats());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (requests.get() - first, bus.watcher_stats().rounds - rounds)
}

/// One test, the two cases one after the other: moto serves one request at
/// a time, and two thousand polls at once would only measure its queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_waiting_polls_cost_at_most_a_request_per_hundred_channels_an_interval() {
    on_distinct_channels().await;
    on_one_channel().await;
}

async fn on_distinct_channels() {
    let table = patient_table().await;
    let requests = RequestCount::default();
    let bus = process(&table, &requests);
    let tenant = TenantId::parse("watch").expect("tenant");
    let polls = start_polls(&bus, &requests, &tenant, |i| i).await;

    let (counted, rounds) = requests_per_window(&bus, &requests, &polls).await;
    // A round begun before the window may add its requests to it.
    let most = POLLS.div_ceil(100) as u64 + 1;
    assert!(counted <= most * (rounds + 1), "{counted} requests over {rounds} reads of 1,000 channels");
    // The feed's 8 partitions, not the thousand heads (10 requests a read),
    // but for the heads' once-a-minute read.
    assert!(counted <= 8 * (rounds + 1) + 10, "{counted} requests over {rounds} reads: the feed is read, not every head");

    // Another process publishes for every tenth channel: only the watcher's
    // read can wake these polls. The others stay idle and time out. (Each
    // publish takes moto tens of milliseconds: a hundred, not a thousand.)
    let publisher = process(&table, &RequestCount::default());
    let publishes = futures::stream::iter((0..POLLS).step_by(10)).map(|user| {
        let (publisher, tenant) = (publisher.clone(), tenant.clone());
        async move { publisher.publish(&tenant, &subscription(user).key, &body(json!({"for": user}))).await }
    });
    let published: Vec<_> = publishes.buffer_unordered(8).collect().await;
    assert!(published.iter().all(Result::is_ok), "every publish succeeded");
    for (user, poll) in polls.into_iter().enumerate() {
        let (delivery, took) = poll.await.expect("joined");
        if user.is_multiple_of(10) {
            let delivery = delivery.expect("poll").unwrap_or_else(|| panic!("poll {user} got nothing"));
            assert_eq!((delivery.channel.as_str(), &delivery.message["for"]), (format!("user:{user}").as_str(), &json!(user)));
            // Not the last look a poll takes when its wait ends: woken.
            assert!(took < WAIT, "poll {user} answered after {took:?}, at its deadline: never woken");
        } else {
            assert_eq!(delivery.expect("poll"), None, "poll {user} had nothing published for it");
            assert!(took >= WAIT, "idle poll {user} answered after {took:?}, before its wait ended");
        }
    }
    assert_eq!(bus.watcher_stats().channels, 0, "nothing watched once every poll answered");
}

async fn on_one_channel() {
    let table = patient_table().await;
    let requests = RequestCount::default();
    let bus = process(&table, &requests);
    let tenant = TenantId::parse("watch").expect("tenant");
    let polls = start_polls(&bus, &requests, &tenant, |_| 7).await;

    let (counted, rounds) = requests_per_window(&bus, &requests, &polls).await;
    assert!(counted <= rounds + 1, "{counted} requests over {rounds} reads of one channel");

    let publisher = process(&table, &RequestCount::default());
    publisher.publish(&tenant, &subscription(7).key, &body(json!({"hello": "all"}))).await.expect("publish");
    for poll in polls {
        let (delivery, took) = poll.await.expect("joined");
        assert_eq!(delivery.expect("poll").map(|d| d.message["hello"].clone()), Some(json!("all")));
        assert!(took < WAIT, "answered after {took:?}, at its deadline: never woken");
    }
}
