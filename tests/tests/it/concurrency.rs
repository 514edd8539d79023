//! Several publishers in parallel and several pollers: every poller receives
//! every message of its channels exactly once, in each channel's commit order.
//! Run with tasks against one gateway (both stores), and with separate gateway
//! processes sharing one DynamoDB table, publishers and pollers spread across
//! them so any instance answers any poll.
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use herald_tests::*;
use serde_json::json;

const PUBLISHERS: usize = 4;
const PER_PUBLISHER: usize = 12;
const POLLERS: usize = 4;

struct Sent {
    channel: &'static str,
    sequence: u64,
}

async fn publish_all(gateways: Arc<Vec<Gateway>>) -> HashMap<String, Sent> {
    let admin = admin_token();
    let mut tasks = Vec::new();
    for p in 0..PUBLISHERS {
        let (gateways, admin) = (gateways.clone(), admin.clone());
        tasks.push(tokio::spawn(async move {
            let mut sent = Vec::new();
            for i in 0..PER_PUBLISHER {
                let gw = &gateways[(p + i) % gateways.len()];
                let id = format!("p{p}-{i}");
                let (channel, reply) = if i % 2 == 0 {
                    ("user:5", gw.notify(&admin, json!({"title": id, "user": 5})).await)
                } else {
                    ("chat:room", gw.publish(&admin, "chat:room", json!({"type": "chat", "title": id})).await)
                };
                sent.push((id, Sent { channel, sequence: reply["sequence"].as_u64().expect("sequence") }));
            }
            sent
        }));
    }
    let mut all = HashMap::new();
    for t in tasks {
        all.extend(t.await.expect("publisher"));
    }
    all
}

/// Polls (rotating over gateways) until `expected` messages arrived or 90 s passed.
async fn receive(gateways: Arc<Vec<Gateway>>, poller: usize, expected: usize) -> Vec<(String, String)> {
    let token = token_with(TokenSpec { sub: "5", channels: &["chat:*"], ..Default::default() });
    let mut last: Option<String> = None;
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut turn = poller;
    while got.len() < expected && Instant::now() < deadline {
        let gw = &gateways[turn % gateways.len()];
        turn += 1;
        let reply = gw.poll(&token, last.as_deref(), &["chat:room", "client:whatever"]).await;
        if let Some(m) = message(&reply) {
            got.push((reply["channel"].as_str().unwrap_or_default().to_owned(), m["title"].as_str().unwrap_or_default().to_owned()));
            last = message_id(&reply);
        }
    }
    // A few more polls must bring nothing new (no duplicates after the end).
    for _ in 0..2 {
        let reply = gateways[0].poll(&token, last.as_deref(), &["chat:room"]).await;
        if let Some(m) = message(&reply) {
            got.push((reply["channel"].as_str().unwrap_or_default().to_owned(), m["title"].as_str().unwrap_or_default().to_owned()));
            last = message_id(&reply);
        }
    }
    got
}

async fn every_poller_gets_everything_once_in_order(gateways: Vec<Gateway>) {
    let gateways = Arc::new(gateways);
    let total = PUBLISHERS * PER_PUBLISHER;
    let pollers: Vec<_> = (0..POLLERS).map(|p| tokio::spawn(receive(gateways.clone(), p, total))).collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let sent = publish_all(gateways.clone()).await;
    for (p, poller) in pollers.into_iter().enumerate() {
        let got = poller.await.expect("poller");
        let ids: Vec<&str> = got.iter().map(|(_, id)| id.as_str()).collect();
        let unique: HashSet<&str> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len(), "poller {p} got duplicates");
        assert_eq!(unique, sent.keys().map(String::as_str).collect::<HashSet<_>>(), "poller {p} missed messages");
        for channel in ["user:5", "chat:room"] {
            let sequences: Vec<u64> =
                got.iter().filter(|(c, _)| c == channel).map(|(_, id)| sent[id].sequence).collect();
            assert!(sent.values().filter(|s| s.channel == channel).count() == sequences.len());
            assert!(sequences.windows(2).all(|w| w[0] < w[1]), "poller {p}: {channel} out of order: {sequences:?}");
        }
    }
}

async fn one_gateway(store: Store) {
    let options = GatewayOptions { wait_secs: 1, ..GatewayOptions::new(store) };
    every_poller_gets_everything_once_in_order(vec![Gateway::start_with(options).await]).await;
}

on_both_stores!(one_gateway);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn separate_gateway_processes_sharing_dynamodb() {
    let table = fresh_table();
    let mut gateways = Vec::new();
    for _ in 0..3 {
        let options = GatewayOptions { wait_secs: 1, bus_table: Some(table.clone()), ..GatewayOptions::new(Store::Moto) };
        gateways.push(Gateway::start_with(options).await);
    }
    let pids: HashSet<Option<u32>> = gateways.iter().map(Gateway::pid).collect();
    assert_eq!(pids.len(), 3, "three separate processes");
    every_poller_gets_everything_once_in_order(gateways).await;
}

