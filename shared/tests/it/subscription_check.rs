//! The subscription check, exactly once, on the embedded adapters and on
//! DynamoDB (moto): concurrent checks send one digest; a check that crashed
//! after sending is taken over when its lease runs out and sends nothing
//! twice; an edit still being written while a check reads is in the next
//! digest, not lost.
use crate::common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use herald::config::Config;
use herald::directory::UserRequest;
use herald::domain::{Clock, ManualClock, RecordId, ResourceName, StoreError, SubscriptionId, TenantId, Timestamp, UserId, WriteError};
use herald::events;
use herald::outbox::{Email, MailError, Mailer};
use herald::records::{Acl, Record, RecordReport, RecordStore, Resource, ResourceRequest};
use herald::services::Services;
use herald::subscriptions::{Caller, Subscriber, Subscription, SubscriptionRequest, SubscriptionStore};
use herald::wiring::{Adapters, Aws, Backend, Embedded, LocalGateway, Wiring};
use serde_json::json;

#[derive(Default)]
struct RecordingMailer(Mutex<Vec<String>>);

#[async_trait]
impl Mailer for RecordingMailer {
    async fn send(&self, email: &Email) -> Result<String, MailError> {
        let mut sent = self.0.lock().unwrap();
        sent.push(email.text.clone().unwrap_or_default());
        Ok(sent.len().to_string())
    }
}

/// Fails the first save that ends a check (lease cleared): the process
/// "dies" after the digest went out, before the subscription was updated.
struct CrashBeforeFinish {
    inner: Arc<dyn SubscriptionStore>,
    armed: AtomicBool,
    /// Saves that reached the store.
    saves: AtomicUsize,
}

#[async_trait]
impl SubscriptionStore for CrashBeforeFinish {
    async fn save(&self, s: &Subscription, expected: Option<u64>) -> Result<(), WriteError> {
        if s.pending_window_end.is_none() && expected.is_some() && self.armed.swap(false, Ordering::SeqCst) {
            return Err(WriteError::Store(StoreError::Unavailable("simulated crash".into())));
        }
        self.saves.fetch_add(1, Ordering::SeqCst);
        self.inner.save(s, expected).await
    }
    async fn get(&self, t: &TenantId, id: &SubscriptionId) -> Result<Option<Subscription>, StoreError> {
        self.inner.get(t, id).await
    }
    async fn delete(&self, s: &Subscription, expected: u64) -> Result<(), WriteError> {
        self.inner.delete(s, expected).await
    }
    async fn of_subscriber(&self, t: &TenantId, s: &Subscriber, after: Option<&SubscriptionId>, limit: usize) -> Result<Vec<Subscription>, StoreError> {
        self.inner.of_subscriber(t, s, after, limit).await
    }
    async fn count_of_subscriber(&self, t: &TenantId, s: &Subscriber, at_most: usize) -> Result<usize, StoreError> {
        self.inner.count_of_subscriber(t, s, at_most).await
    }
    async fn due(&self, now: Timestamp, limit: usize) -> Result<Vec<(TenantId, SubscriptionId)>, StoreError> {
        self.inner.due(now, limit).await
    }
}

/// While the first check reads the change log, an edit stamped 10 s
/// earlier is committed (a slow writer).
struct SlowWriterDuringRead {
    inner: Arc<dyn RecordStore>,
    clock: Arc<ManualClock>,
    armed: AtomicBool,
    /// Change-log reads that reached the store.
    change_reads: AtomicUsize,
    /// A resource whose change log cannot be read.
    failing: Mutex<Option<ResourceName>>,
}

#[async_trait]
impl RecordStore for SlowWriterDuringRead {
    async fn put_resource(&self, t: &TenantId, r: &Resource) -> Result<(), StoreError> {
        self.inner.put_resource(t, r).await
    }
    async fn get_resource(&self, t: &TenantId, n: &ResourceName) -> Result<Option<Resource>, StoreError> {
        self.inner.get_resource(t, n).await
    }
    async fn resources(&self, t: &TenantId) -> Result<Vec<Resource>, StoreError> {
        self.inner.resources(t).await
    }
    async fn get_record(&self, t: &TenantId, r: &ResourceName, id: &RecordId) -> Result<Option<Record>, StoreError> {
        self.inner.get_record(t, r, id).await
    }
    async fn save_record(&self, t: &TenantId, r: &Record, expected: Option<u64>) -> Result<(), WriteError> {
        self.inner.save_record(t, r, expected).await
    }
    async fn changes(&self, t: &TenantId, r: &ResourceName, from: Timestamp, to: Timestamp) -> Result<Vec<Record>, StoreError> {
        self.change_reads.fetch_add(1, Ordering::SeqCst);
        if self.failing.lock().unwrap().as_ref() == Some(r) {
            return Err(StoreError::Unavailable("simulated unreadable change log".into()));
        }
        let read = self.inner.changes(t, r, from, to).await?;
        if self.armed.swap(false, Ordering::SeqCst) {
            let stamped = Timestamp::from_millis(self.clock.now().as_millis() - 10_000);
            let late = Record {
                resource: r.clone(),
                id: RecordId::parse("LATE-EDIT").unwrap(),
                fields: json!({"status": "open"}).as_object().unwrap().clone(),
                acl: Acl { public: true, ..Default::default() },
                created_on: stamped,
                modified_on: stamped,
                deleted: false,
                version: 1,
            };
            self.inner.save_record(t, &late, None).await.unwrap();
        }
        Ok(read)
    }
}

struct Harness {
    tenant: TenantId,
    clock: Arc<ManualClock>,
    services: Services,
    mailer: Arc<RecordingMailer>,
    crash: Arc<CrashBeforeFinish>,
    slow_writer: Arc<SlowWriterDuringRead>,
}

fn config(data_table: Option<&str>) -> Config {
    let data_table = data_table.map(str::to_owned);
    Config::from_lookup(move |name| match name {
        "HERALD_JWT_SECRET" => Some("check-test-secret-0123456789".into()),
        "HERALD_EMAIL_FORMAT" => Some("text".into()),
        "HERALD_DATA_TABLE" => data_table.clone(),
        "HERALD_BUS_TABLE" => data_table.as_ref().map(|t| format!("{t}-bus")),
        _ => None,
    })
    .unwrap()
}

async fn harness(moto: bool) -> Harness {
    let clock = Arc::new(ManualClock::new());
    if moto {
        let table = common::fresh_name("check");
        let wiring = Wiring::new(config(Some(&table)), Aws, LocalGateway).with_clock(clock.clone());
        let adapters = wiring.adapters().await.unwrap();
        with_adapters(&wiring, clock, adapters).await
    } else {
        let wiring = Wiring::new(config(None), Embedded::memory(), LocalGateway).with_clock(clock.clone());
        let adapters = wiring.adapters().await.unwrap();
        with_adapters(&wiring, clock, adapters).await
    }
}

async fn with_adapters<B: Backend>(wiring: &Wiring<B, LocalGateway>, clock: Arc<ManualClock>, mut adapters: Adapters) -> Harness {
    let mailer = Arc::new(RecordingMailer::default());
    let crash = Arc::new(CrashBeforeFinish { inner: adapters.subscriptions.clone(), armed: AtomicBool::new(false), saves: AtomicUsize::new(0) });
    let slow_writer = Arc::new(SlowWriterDuringRead { inner: adapters.records.clone(), clock: clock.clone(), armed: AtomicBool::new(false), change_reads: AtomicUsize::new(0), failing: Mutex::new(None) });
    adapters.mailer = mailer.clone();
    adapters.subscriptions = crash.clone();
    adapters.records = slow_writer.clone();
    let services = wiring.services(adapters).unwrap();
    let tenant = TenantId::parse("demo").unwrap();
    let ann = UserId::parse("1").unwrap();
    let user: UserRequest = serde_json::from_value(json!({"login": "ann", "email": "ann@example.org", "active": true, "groups": [],
        "companies": [], "follower": null, "account_type": null, "locale": null, "timezone": null, "contacts": []}))
    .unwrap();
    services.directory.put_user(&tenant, ann.clone(), user).await.unwrap();
    let resource: ResourceRequest = serde_json::from_value(json!({"title": "Requests", "notify_fields": [], "notify_template": "notify"})).unwrap();
    services.records.put_resource(&tenant, ResourceName::parse("req").unwrap(), resource).await.unwrap();
    let request: SubscriptionRequest = serde_json::from_value(json!({"resources": ["req"], "frequency": "immediately"})).unwrap();
    services.subscriptions.create(&tenant, &Caller { user: &ann, admin: false }, request).await.unwrap();
    Harness { tenant, clock, services, mailer, crash, slow_writer }
}

impl Harness {
    async fn report(&self, id: &str) {
        self.report_with_status(id, "open").await;
    }

    async fn report_with_status(&self, id: &str, status: &str) {
        let report = RecordReport {
            id: RecordId::parse(id).unwrap(),
            fields: json!({"status": status}).as_object().unwrap().clone(),
            acl: Acl { public: true, ..Default::default() },
            deleted: false,
        };
        self.services.records.report(&self.tenant, &ResourceName::parse("req").unwrap(), report).await.unwrap();
    }

    /// Digest texts sent so far (after draining the outbox).
    async fn digests(&self) -> Vec<String> {
        events::drain_outbox(&self.services).await.unwrap();
        self.mailer.0.lock().unwrap().clone()
    }

    fn advance(&self, secs: u64) {
        self.clock.advance(Duration::from_secs(secs));
    }
}

async fn concurrent_checks_send_one_digest(h: Harness) {
    h.advance(5);
    h.report("REQ-1").await;
    h.advance(360);
    let runs = futures::future::join_all((0..4).map(|_| h.services.checker.run())).await;
    let digests: usize = runs.into_iter().map(|r| r.unwrap().digests).sum();
    assert_eq!(digests, 1);
    let sent = h.digests().await;
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains("REQ-1"));
}

async fn a_crashed_check_is_taken_over_and_sends_nothing_twice(h: Harness) {
    h.advance(5);
    h.report("REQ-1").await;
    h.advance(360);
    h.crash.armed.store(true, Ordering::SeqCst);
    assert!(h.services.checker.run().await.is_err(), "the check dies after sending");
    assert_eq!(h.digests().await.len(), 1);
    // Its lease holds for 5 minutes: nobody takes over before, and the
    // index holds it at the lease's end, so no run even reads it.
    assert_eq!(h.services.checker.run().await.unwrap().checked, 0);
    assert_eq!(h.crash.due(h.clock.now(), 10).await.unwrap(), vec![]);
    h.advance(301);
    assert_eq!(h.crash.due(h.clock.now(), 10).await.unwrap().len(), 1, "due again once the lease has run out");
    let report = h.services.checker.run().await.unwrap();
    assert_eq!(report.checked, 1, "taken over once the lease ran out");
    assert_eq!(h.digests().await.len(), 1, "the same window, the same digest id: nothing sent twice");
    // And the window moved on: a later change is reported next time.
    h.report("REQ-2").await;
    h.advance(360);
    h.services.checker.run().await.unwrap();
    let sent = h.digests().await;
    assert_eq!(sent.len(), 2);
    assert!(sent[1].contains("REQ-2") && !sent[1].contains("REQ-1"), "{}", sent[1]);
}

async fn a_large_digest_lists_the_newest_rows_and_counts_the_rest(h: Harness) {
    h.advance(5);
    for n in 0..60 {
        h.report(&format!("REQ-{n:02}")).await;
        h.advance(1);
    }
    h.advance(360);
    h.services.checker.run().await.unwrap();
    let sent = h.digests().await;
    assert_eq!(sent.len(), 1);
    let rows: Vec<&str> = sent[0].lines().filter(|l| l.starts_with("- REQ-")).collect();
    assert_eq!(rows.len(), herald::subscriptions::render::MAX_DIGEST_ROWS, "{}", sent[0]);
    assert!(rows[0].starts_with("- REQ-10") && rows[49].starts_with("- REQ-59"), "the newest, by id: {rows:?}");
    assert!(sent[0].contains("New Requests (60):") && sent[0].contains("- and 10 more"), "{}", sent[0]);
}

async fn an_edit_written_during_a_check_is_in_the_next_digest(h: Harness) {
    h.advance(5);
    h.report("REQ-1").await;
    h.advance(360);
    h.slow_writer.armed.store(true, Ordering::SeqCst);
    h.services.checker.run().await.unwrap();
    let sent = h.digests().await;
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains("REQ-1") && !sent[0].contains("LATE-EDIT"), "{}", sent[0]);
    h.advance(360);
    h.services.checker.run().await.unwrap();
    let sent = h.digests().await;
    assert_eq!(sent.len(), 2, "not lost");
    assert!(sent[1].contains("LATE-EDIT") && !sent[1].contains("REQ-1"), "{}", sent[1]);
}

/// One run checks many subscriptions against one change list (and keeps
/// each filter's results for the others that share it): each digest still
/// lists what its own filter passes.
async fn each_subscription_is_filtered_by_its_own_filter(h: Harness) {
    let ann = UserId::parse("1").unwrap();
    for status in ["open", "closed", "open"] {
        let request: SubscriptionRequest =
            serde_json::from_value(json!({"resources": ["req"], "frequency": "immediately", "filter": [["status", status]]})).unwrap();
        h.services.subscriptions.create(&h.tenant, &Caller { user: &ann, admin: false }, request).await.unwrap();
    }
    h.advance(5);
    h.report_with_status("OPEN-1", "open").await;
    h.report_with_status("CLOSED-1", "closed").await;
    h.advance(360);
    assert_eq!(h.services.checker.run().await.unwrap().digests, 4);
    let sent = h.digests().await;
    let with = |open: bool, closed: bool| sent.iter().filter(|d| d.contains("OPEN-1") == open && d.contains("CLOSED-1") == closed).count();
    assert_eq!((with(true, true), with(true, false), with(false, true)), (1, 2, 1), "{sent:#?}");
}

/// A subscription with nothing to send is not claimed: one conditional
/// write moves it to its next window, and what changes after is in the
/// next digest.
async fn a_subscription_with_nothing_to_send_moves_on_in_one_write(h: Harness) {
    h.advance(360);
    let before = h.crash.saves.load(Ordering::SeqCst);
    let report = h.services.checker.run().await.unwrap();
    assert_eq!((report.checked, report.digests), (1, 0));
    assert_eq!(h.crash.saves.load(Ordering::SeqCst) - before, 1, "one write, no claim");
    let due = h.crash.due(h.clock.now(), 10).await.unwrap();
    assert!(due.is_empty(), "moved to its next window: {due:?}");
    h.report("REQ-1").await;
    h.advance(360);
    let before = h.crash.saves.load(Ordering::SeqCst);
    assert_eq!(h.services.checker.run().await.unwrap().digests, 1);
    assert_eq!(h.crash.saves.load(Ordering::SeqCst) - before, 2, "a digest to send: the claim and the finish");
    let sent = h.digests().await;
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains("REQ-1"), "{}", sent[0]);
}

/// A run reads each resource's change log once, from the earliest window
/// start of the subscriptions due, whatever order their checks run in (the
/// daily subscription's window starts first, and it is one of nine checked
/// at once): what a run reads follows what is due and what changed, and
/// each digest still lists its own window.
async fn a_run_reads_each_change_log_once_from_the_earliest_window(h: Harness) {
    let ann = UserId::parse("1").unwrap();
    let create = |frequency: &str| {
        let request: SubscriptionRequest = serde_json::from_value(json!({"resources": ["req"], "frequency": frequency})).unwrap();
        let (services, tenant, ann) = (&h.services, &h.tenant, &ann);
        async move { services.subscriptions.create(tenant, &Caller { user: ann, admin: false }, request).await.unwrap() }
    };
    create("daily").await;
    h.advance(1);
    for _ in 0..7 {
        create("immediately").await;
    }
    h.advance(4);
    h.report("REQ-A").await;
    h.advance(360);
    // The eight immediate subscriptions' first windows: REQ-A each.
    assert_eq!(h.services.checker.run().await.unwrap().digests, 8);
    assert_eq!(h.digests().await.len(), 8);
    h.report("REQ-B").await;
    h.advance(86_400);
    let before = h.slow_writer.change_reads.load(Ordering::SeqCst);
    let report = h.services.checker.run().await.unwrap();
    assert_eq!((report.checked, report.digests), (9, 9));
    assert_eq!(h.slow_writer.change_reads.load(Ordering::SeqCst) - before, 1, "one change-log read for the resource");
    let sent = h.digests().await;
    assert_eq!(sent.len(), 17, "{sent:#?}");
    let with = |a: bool, b: bool| sent[8..].iter().filter(|d| d.contains("REQ-A") == a && d.contains("REQ-B") == b).count();
    assert_eq!((with(true, true), with(false, true)), (1, 8), "the daily one lists both, the immediate ones their own window: {sent:#?}");
}

/// A resource whose change log cannot be read fails the subscriptions that
/// read it (each backs off), not the run: the others' digests go out.
async fn an_unreadable_change_log_fails_its_subscriptions_not_the_run(h: Harness) {
    let ann = UserId::parse("1").unwrap();
    let other: ResourceRequest = serde_json::from_value(json!({"title": "Others", "notify_fields": [], "notify_template": "notify"})).unwrap();
    h.services.records.put_resource(&h.tenant, ResourceName::parse("other").unwrap(), other).await.unwrap();
    let request: SubscriptionRequest = serde_json::from_value(json!({"resources": ["other"], "frequency": "immediately"})).unwrap();
    h.services.subscriptions.create(&h.tenant, &Caller { user: &ann, admin: false }, request).await.unwrap();
    h.advance(5);
    h.report("REQ-1").await;
    let report = RecordReport { id: RecordId::parse("OTHER-1").unwrap(), fields: json!({"status": "open"}).as_object().unwrap().clone(), acl: Acl { public: true, ..Default::default() }, deleted: false };
    h.services.records.report(&h.tenant, &ResourceName::parse("other").unwrap(), report).await.unwrap();
    h.advance(360);
    *h.slow_writer.failing.lock().unwrap() = Some(ResourceName::parse("req").unwrap());
    let report = h.services.checker.run().await.expect("the run goes on");
    assert_eq!((report.checked, report.digests, report.failed), (2, 1, 1));
    let sent = h.digests().await;
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains("OTHER-1"), "{}", sent[0]);
    // Readable again: the failed one is retried after its backoff, with its window.
    *h.slow_writer.failing.lock().unwrap() = None;
    h.advance(400);
    h.services.checker.run().await.unwrap();
    let sent = h.digests().await;
    assert_eq!(sent.len(), 2, "{sent:#?}");
    assert!(sent[1].contains("REQ-1"), "{}", sent[1]);
}

macro_rules! on_both {
    ($($case:ident),* $(,)?) => {
        mod embedded_adapters {
            $(#[tokio::test] async fn $case() { super::$case(super::harness(false).await).await; })*
        }
        mod dynamodb_on_moto {
            $(#[tokio::test] async fn $case() { super::$case(super::harness(true).await).await; })*
        }
    };
}

on_both!(
    concurrent_checks_send_one_digest,
    a_crashed_check_is_taken_over_and_sends_nothing_twice,
    an_edit_written_during_a_check_is_in_the_next_digest,
    a_large_digest_lists_the_newest_rows_and_counts_the_rest,
    each_subscription_is_filtered_by_its_own_filter,
    a_subscription_with_nothing_to_send_moves_on_in_one_write,
    a_run_reads_each_change_log_once_from_the_earliest_window,
    an_unreadable_change_log_fails_its_subscriptions_not_the_run,
);
