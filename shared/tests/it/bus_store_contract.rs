//! The bus store contract, run against both adapter sets: the embedded store
//! and DynamoDB on moto server (`AWS_ENDPOINT_URL`, set by `scripts/test`).
use std::sync::Arc;

use crate::common;

use herald::adapters::aws::DynamoBusStore;
use herald::adapters::embedded::EmbeddedBusStore;
use herald::bus::store::NewMessage;
use herald::bus::{BusStore, ChannelKey, Look};
use herald::domain::{TenantId, Timestamp, UserId};
use serde_json::{json, Map, Value};

async fn dynamo() -> Arc<dyn BusStore> {
    Arc::new(DynamoBusStore::new(common::bus_table("bus-contract").await))
}

fn embedded(db: Arc<herald::adapters::embedded::Database>) -> Arc<dyn BusStore> {
    Arc::new(EmbeddedBusStore::new(db))
}

fn tenant(name: &str) -> TenantId {
    TenantId::parse(name).unwrap()
}

fn channel(user: &str) -> ChannelKey {
    ChannelKey::user(&UserId::parse(user).unwrap())
}

fn body(n: u64) -> Map<String, Value> {
    match json!({"type": "notification", "n": n, "text": "é ✓ \"quoted\"", "nested": {"list": [1, 2.5, null]}}) {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

fn message(body: &Map<String, Value>, published_ms: i64) -> NewMessage<'_> {
    NewMessage {
        body,
        published_at: Timestamp::from_millis(published_ms),
        expires_at: Timestamp::from_millis(published_ms + 300_000),
        first_seq: 1_000,
        publication_id: None,
    }
}

const T0: i64 = 1_700_000_000_000;

async fn appends_are_contiguous_and_readable(store: Arc<dyn BusStore>) {
    let t = tenant("demo");
    let c = channel("1");
    assert_eq!(store.heads(&t, std::slice::from_ref(&c)).await.unwrap(), vec![None]);
    assert_eq!(store.first_after(&t, &c, 0, Timestamp::from_millis(T0), None).await.unwrap(), None);
    let (b1, b2) = (body(1), body(2));
    assert_eq!(store.append(&t, &c, message(&b1, T0)).await.unwrap(), 1_000);
    assert_eq!(store.append(&t, &c, message(&b2, T0 + 1)).await.unwrap(), 1_001);
    assert_eq!(store.heads(&t, &[c.clone(), channel("2")]).await.unwrap(), vec![Some(1_001), None]);

    let first = store.first_after(&t, &c, 0, Timestamp::from_millis(T0), None).await.unwrap().unwrap();
    assert_eq!((first.seq, &first.body), (1_000, &b1));
    assert_eq!(first.published_at, Timestamp::from_millis(T0));
    let second = store.first_after(&t, &c, 1_000, Timestamp::from_millis(T0), None).await.unwrap().unwrap();
    assert_eq!((second.seq, &second.body), (1_001, &b2));
    assert_eq!(store.first_after(&t, &c, 1_001, Timestamp::from_millis(T0), None).await.unwrap(), None);
}

async fn expired_and_older_messages_are_skipped(store: Arc<dyn BusStore>) {
    let t = tenant("demo");
    let c = channel("1");
    let bodies: Vec<_> = (0..4).map(body).collect();
    for (i, b) in bodies.iter().enumerate() {
        store.append(&t, &c, message(b, T0 + i as i64 * 100_000)).await.unwrap();
    }
    // At T0 + 350 s the first message (expires T0 + 300 s) is gone.
    let now = Timestamp::from_millis(T0 + 350_000);
    let oldest = store.first_after(&t, &c, 0, now, None).await.unwrap().unwrap();
    assert_eq!(oldest.body, bodies[1]);
    let since = store.first_after(&t, &c, 0, now, Some(Timestamp::from_millis(T0 + 150_000))).await.unwrap().unwrap();
    assert_eq!(since.body, bodies[2]);
    let same_ms = store.first_after(&t, &c, 0, now, Some(Timestamp::from_millis(T0 + 200_000))).await.unwrap().unwrap();
    assert_eq!(same_ms.body, bodies[2], "a message of the same millisecond is included");
    let late = Timestamp::from_millis(T0 + 10_000_000);
    assert_eq!(store.first_after(&t, &c, 0, late, None).await.unwrap(), None);
    assert_eq!(store.heads(&t, &[c]).await.unwrap(), vec![Some(1_003)], "heads outlive messages");
}

async fn tenants_and_channels_are_isolated(store: Arc<dyn BusStore>) {
    let (a, b) = (tenant("a"), tenant("b"));
    let c = channel("1");
    let b1 = body(1);
    store.append(&a, &c, message(&b1, T0)).await.unwrap();
    assert_eq!(store.heads(&b, std::slice::from_ref(&c)).await.unwrap(), vec![None]);
    assert_eq!(store.first_after(&b, &c, 0, Timestamp::from_millis(T0), None).await.unwrap(), None);
    let client = ChannelKey::client("x");
    assert_eq!(store.heads(&a, &[client, c]).await.unwrap(), vec![None, Some(1_000)]);
}

async fn concurrent_appends_never_share_a_number(store: Arc<dyn BusStore>) {
    let t = tenant("demo");
    let c = channel("1");
    let writers = 6u64;
    let each = 10u64;
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (store, t, c) = (store.clone(), t.clone(), c.clone());
        tasks.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for i in 0..each {
                let b = body(w * 1000 + i);
                seqs.push(store.append(&t, &c, message(&b, T0)).await.unwrap());
            }
            seqs
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    all.sort_unstable();
    let expected: Vec<u64> = (1_000..1_000 + writers * each).collect();
    assert_eq!(all, expected, "every append got its own contiguous number");
    // Every number holds exactly one message, read back in order.
    let mut after = 0;
    let mut seen = std::collections::HashSet::new();
    while let Some(m) = store.first_after(&t, &c, after, Timestamp::from_millis(T0), None).await.unwrap() {
        assert_eq!(m.seq, if after == 0 { 1_000 } else { after + 1 });
        assert!(seen.insert(m.body["n"].as_u64().unwrap()));
        after = m.seq;
    }
    assert_eq!(seen.len() as u64, writers * each);
}


/// A poll's look: heads everywhere, the next message only where the head
/// is past the position, and for a channel the cursor does not know the
/// first one published since the cursor's last message.
async fn a_look_finds_heads_and_next_messages(store: Arc<dyn BusStore>) {
    let t = tenant("demo");
    let (a, b, c, quiet) = (channel("1"), channel("2"), channel("3"), channel("4"));
    let bodies: Vec<_> = (0..3).map(body).collect();
    store.append(&t, &a, message(&bodies[0], T0)).await.unwrap();
    store.append(&t, &a, message(&bodies[1], T0 + 10)).await.unwrap();
    store.append(&t, &b, message(&bodies[0], T0)).await.unwrap();
    store.append(&t, &c, message(&bodies[1], T0)).await.unwrap();
    store.append(&t, &c, message(&bodies[2], T0 + 20)).await.unwrap();
    let looks = [
        Look { channel: &a, after: Some(1_000) },
        Look { channel: &b, after: Some(1_000) },
        Look { channel: &c, after: None },
        Look { channel: &quiet, after: Some(7) },
    ];
    let seen = store.look(&t, &looks, Timestamp::from_millis(T0 + 30), Some(Timestamp::from_millis(T0 + 5))).await.unwrap();
    let found: Vec<(Option<u64>, Option<u64>)> = seen.iter().map(|s| (s.head, s.next.as_ref().map(|m| m.seq))).collect();
    assert_eq!(found, vec![(Some(1_001), Some(1_001)), (Some(1_000), None), (Some(1_001), Some(1_001)), (None, None)]);
    assert_eq!(seen[0].next.as_ref().unwrap().body, bodies[1]);
    assert_eq!(seen[2].next.as_ref().unwrap().body, bodies[2], "published since the cursor's last message");
    let other = store.look(&tenant("other"), &looks, Timestamp::from_millis(T0 + 30), None).await.unwrap();
    assert!(other.iter().all(|s| s.head.is_none() && s.next.is_none()), "another tenant sees nothing: {other:?}");
}

/// A client id is bound once: the first bind wins, later ones (and
/// concurrent ones) see it, until it expires; each tenant apart.
async fn a_client_id_is_bound_once_until_it_expires(store: Arc<dyn BusStore>) {
    let (t, other) = (tenant("a"), tenant("b"));
    let (ann, bob) = (UserId::parse("5").unwrap(), UserId::parse("6").unwrap());
    let (now, until) = (Timestamp::from_millis(T0), Timestamp::from_millis(T0 + 60_000));
    let first = store.bind_client(&t, "c-1", &ann, now, until).await.unwrap();
    assert_eq!((first.user.clone(), first.expires_at), (ann.clone(), until));
    let later = Timestamp::from_millis(T0 + 1_000);
    assert_eq!(store.bind_client(&t, "c-1", &bob, later, Timestamp::from_millis(T0 + 90_000)).await.unwrap(), first, "bound already");
    assert_eq!(store.bind_client(&other, "c-1", &bob, later, until).await.unwrap().user, bob, "another tenant's id is another id");
    // Expired: the next bind takes it.
    let after = Timestamp::from_millis(T0 + 60_000);
    let rebound = store.bind_client(&t, "c-1", &bob, after, Timestamp::from_millis(T0 + 120_000)).await.unwrap();
    assert_eq!(rebound.user, bob);
    // Many first binds at once: one owner, seen by all.
    let binds: Vec<_> = (0..8)
        .map(|i| {
            let (store, t) = (store.clone(), t.clone());
            tokio::spawn(async move { store.bind_client(&t, "c-2", &UserId::parse(format!("{i}")).unwrap(), now, until).await.unwrap().user })
        })
        .collect();
    let owners: std::collections::BTreeSet<UserId> = futures::future::join_all(binds).await.into_iter().map(|o| o.unwrap()).collect();
    assert_eq!(owners.len(), 1, "{owners:?}");
}

/// A publisher's id is taken once per channel: sent again (a retry, or
/// two senders at once) it adds nothing and answers the first message.
async fn a_publication_id_is_taken_once_per_channel(store: Arc<dyn BusStore>) {
    let t = tenant("demo");
    let (c, other) = (channel("1"), channel("2"));
    let (b1, b2, b3) = (body(1), body(2), body(3));
    let with_id = |b, id| NewMessage { publication_id: Some(id), ..message(b, T0) };
    assert_eq!(store.append(&t, &c, with_id(&b1, "m-1")).await.unwrap(), 1_000);
    assert_eq!(store.append(&t, &c, with_id(&b2, "m-1")).await.unwrap(), 1_000, "the first message's sequence");
    assert_eq!(store.heads(&t, std::slice::from_ref(&c)).await.unwrap(), vec![Some(1_000)], "nothing added");
    assert_eq!(store.append(&t, &c, with_id(&b2, "m-2")).await.unwrap(), 1_001);
    assert_eq!(store.append(&t, &c, message(&b3, T0)).await.unwrap(), 1_002, "no id: always published");
    assert_eq!(store.append(&t, &other, with_id(&b1, "m-1")).await.unwrap(), 1_000, "another channel has its own ids");
    assert_eq!(store.append(&tenant("other"), &c, with_id(&b1, "m-1")).await.unwrap(), 1_000, "another tenant too");
    let first = store.first_after(&t, &c, 0, Timestamp::from_millis(T0), None).await.unwrap().unwrap();
    assert_eq!(first.body, b1, "the first body stays");

    // Senders racing with one id: one message, every answer its sequence.
    let racers: Vec<_> = (0..4)
        .map(|i| {
            let (store, t, c) = (store.clone(), t.clone(), c.clone());
            tokio::spawn(async move {
                let b = body(100 + i);
                store.append(&t, &c, NewMessage { publication_id: Some("m-race"), ..message(&b, T0) }).await.unwrap()
            })
        })
        .collect();
    let mut seqs = Vec::new();
    for racer in racers {
        seqs.push(racer.await.unwrap());
    }
    assert!(seqs.iter().all(|&seq| seq == 1_003), "{seqs:?}");
    assert_eq!(store.heads(&t, std::slice::from_ref(&c)).await.unwrap(), vec![Some(1_003)]);
}

/// A process's watcher learns what moved without reading every head: a
/// store other processes append to too keeps a feed of its appends (each
/// channel, tenant and sequence, from the publication's time); a cancelled
/// append leaves nothing in it. The embedded store, which one process
/// holds, keeps none: its bus wakes its polls itself.
async fn the_feed_tells_what_moved_since_a_time(store: Arc<dyn BusStore>) {
    let (t, other) = (tenant("demo"), tenant("other"));
    let (c1, c2) = (channel("1"), channel("2"));
    let watched = vec![(t.clone(), c1.clone()), (t.clone(), c2.clone()), (other.clone(), c1.clone())];
    if store.appends_are_local() {
        assert_eq!(store.moved_since(&watched, Timestamp::from_millis(T0)).await.unwrap(), None);
        return;
    }
    let (b1, b2) = (body(1), body(2));
    store.append(&t, &c1, message(&b1, T0)).await.unwrap();
    store.append(&t, &c2, message(&b1, T0 + 10)).await.unwrap();
    store.append(&t, &c1, message(&b2, T0 + 20)).await.unwrap();
    store.append(&other, &c1, message(&b1, T0 + 30)).await.unwrap();
    let with_id = |b, ms| NewMessage { publication_id: Some("once"), ..message(b, ms) };
    store.append(&t, &c2, with_id(&b2, T0 + 40)).await.unwrap();
    store.append(&t, &c2, with_id(&b1, T0 + 50)).await.unwrap();

    let moved = |since: i64| {
        let (store, watched) = (store.clone(), watched.clone());
        async move {
            let moved = store.moved_since(&watched, Timestamp::from_millis(since)).await.unwrap().expect("a feed");
            assert!(moved.complete);
            let mut seen: Vec<(String, String, u64)> = moved
                .channels
                .into_iter()
                .filter(|(tenant, key, _)| watched.contains(&(tenant.clone(), key.clone())))
                .map(|(tenant, key, seq)| (tenant.to_string(), key.as_str().to_owned(), seq))
                .collect();
            seen.sort();
            seen
        }
    };
    let entry = |tenant: &str, key: &ChannelKey, seq: u64| (tenant.to_owned(), key.as_str().to_owned(), seq);
    assert_eq!(
        moved(T0).await,
        vec![entry("demo", &c1, 1_000), entry("demo", &c1, 1_001), entry("demo", &c2, 1_000), entry("demo", &c2, 1_001), entry("other", &c1, 1_000)],
        "every append once, the cancelled one not"
    );
    assert_eq!(moved(T0 + 15).await, vec![entry("demo", &c1, 1_001), entry("demo", &c2, 1_001), entry("other", &c1, 1_000)], "from the time on");
    assert_eq!(moved(T0 + 60).await, vec![]);
}

contract_on_both_stores!(
    the_feed_tells_what_moved_since_a_time,
    a_client_id_is_bound_once_until_it_expires,
    a_publication_id_is_taken_once_per_channel,
    a_look_finds_heads_and_next_messages,
    appends_are_contiguous_and_readable,
    expired_and_older_messages_are_skipped,
    tenants_and_channels_are_isolated,
    concurrent_appends_never_share_a_number,
);
