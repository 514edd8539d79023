//! Exactly once, on the embedded adapters and on DynamoDB + SQS (moto):
//! a redelivered queue message sends no second email, nor does one after a
//! crash between the send and its record; concurrent check runs publish
//! once; failures retry, then fail and dead-letter; refused addresses fall
//! through to the next contact.
use crate::common;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use herald::adapters::embedded::EmbeddedQueue;
use herald::config::Config;
use herald::directory::{Contact, ContactMethod, User};
use herald::domain::{Clock, EmailAddress, ManualClock, StoreError, TenantId, Timestamp, UserId, WriteError};
use herald::events;
use herald::inbox::InboxFilter;
use herald::notifications::{
    Channel, Context, Delivery, DeliveryKey, DeliveryStatus, Notification, NotificationId, NotificationStore, OutboxQueue, RecipientSpec, SendRequest, TypeKey,
};
use herald::outbox::{Email, MailError, Mailer};
use herald::services::Services;
use herald::wiring::{Adapters, Aws, Backend, Embedded, LocalGateway, Wiring};

const MAX_ATTEMPTS: u32 = 3;

/// How the mailer answers a send to an address, once its script is used up.
type MailRule = fn(&str) -> Result<(), MailError>;

/// Records every send; answers from a script first (then succeeds). When
/// `idempotent`, a second send of one key sends nothing, as the `.eml`
/// mailer does.
#[derive(Default)]
struct ScriptedMailer {
    sent: Mutex<Vec<String>>,
    script: Mutex<VecDeque<Result<(), MailError>>>,
    always: Mutex<Option<MailRule>>,
    idempotent: AtomicBool,
    keys: Mutex<std::collections::HashSet<String>>,
}

#[async_trait]
impl Mailer for ScriptedMailer {
    async fn send(&self, email: &Email) -> Result<String, MailError> {
        if self.idempotent() && self.keys.lock().unwrap().contains(&email.key) {
            return Ok(format!("msg-{}", email.key));
        }
        let scripted = self.script.lock().unwrap().pop_front();
        let rule = *self.always.lock().unwrap();
        let outcome = scripted.unwrap_or_else(|| rule.map_or(Ok(()), |f| f(email.to.as_str())));
        outcome?;
        self.keys.lock().unwrap().insert(email.key.clone());
        self.sent.lock().unwrap().push(email.to.to_string());
        Ok(format!("msg-{}", self.sent.lock().unwrap().len()))
    }

    fn idempotent(&self) -> bool {
        self.idempotent.load(Ordering::SeqCst)
    }
}

/// A store that "crashes" (fails) on the first write marking a delivery
/// sent: the email went out, its record did not.
struct CrashBeforeMarkSent {
    inner: Arc<dyn NotificationStore>,
    armed: AtomicBool,
}

#[async_trait]
impl NotificationStore for CrashBeforeMarkSent {
    async fn save(&self, n: &Notification, expected: Option<u64>) -> Result<(), WriteError> {
        self.inner.save(n, expected).await
    }
    async fn get(&self, t: &TenantId, id: &NotificationId) -> Result<Option<Notification>, StoreError> {
        self.inner.get(t, id).await
    }
    async fn due(&self, now: Timestamp, limit: usize) -> Result<Vec<(TenantId, NotificationId)>, StoreError> {
        self.inner.due(now, limit).await
    }
    async fn bind_context(&self, t: &TenantId, c: &Context, k: &TypeKey, id: &NotificationId) -> Result<NotificationId, StoreError> {
        self.inner.bind_context(t, c, k, id).await
    }
    async fn claim_idempotency_key(&self, t: &TenantId, k: &str, id: &NotificationId, now: Timestamp, exp: Timestamp) -> Result<Option<NotificationId>, StoreError> {
        self.inner.claim_idempotency_key(t, k, id, now, exp).await
    }
    async fn create_delivery(&self, d: &Delivery) -> Result<bool, StoreError> {
        self.inner.create_delivery(d).await
    }
    async fn get_delivery(&self, k: &DeliveryKey) -> Result<Option<Delivery>, StoreError> {
        self.inner.get_delivery(k).await
    }
    async fn update_delivery(&self, d: &Delivery, expected: u64) -> Result<(), WriteError> {
        if d.status == DeliveryStatus::Sent && self.armed.swap(false, Ordering::SeqCst) {
            return Err(WriteError::Store(StoreError::Unavailable("simulated crash".into())));
        }
        self.inner.update_delivery(d, expected).await
    }
    async fn deliveries(&self, t: &TenantId, id: &NotificationId) -> Result<Vec<Delivery>, StoreError> {
        self.inner.deliveries(t, id).await
    }
}

struct Harness {
    tenant: TenantId,
    clock: Arc<ManualClock>,
    store: Arc<CrashBeforeMarkSent>,
    services: Services,
    queue: Arc<dyn OutboxQueue>,
    mailer: Arc<ScriptedMailer>,
    dead_letters: DeadLetters,
}

enum DeadLetters {
    Embedded(Arc<EmbeddedQueue>),
    Sqs(aws_sdk_sqs::Client, String),
}

impl DeadLetters {
    async fn count(&self) -> usize {
        match self {
            Self::Embedded(q) => q.dead_letters().await.unwrap().len(),
            Self::Sqs(client, url) => {
                let mut n = 0;
                loop {
                    let out = client.receive_message().queue_url(url).max_number_of_messages(10).send().await.unwrap();
                    let got = out.messages.unwrap_or_default().len();
                    if got == 0 {
                        return n;
                    }
                    n += got;
                }
            }
        }
    }
}

fn config(tables: Option<&str>) -> Config {
    let tables = tables.map(str::to_owned);
    Config::from_lookup(move |name| match name {
        "HERALD_JWT_SECRET" => Some("outbox-test-secret-0123456789".into()),
        "HERALD_OUTBOX_MAX_ATTEMPTS" => Some(MAX_ATTEMPTS.to_string()),
        // Retried at once: these tests are about how often, not when.
        "HERALD_OUTBOX_RETRY_SECS" => Some("0".into()),
        "HERALD_DATA_TABLE" => tables.clone(),
        "HERALD_BUS_TABLE" => tables.as_ref().map(|t| format!("{t}-bus")),
        _ => None,
    })
    .unwrap()
}

async fn embedded() -> Harness {
    let clock = Arc::new(ManualClock::new());
    let embedded = Embedded::memory();
    let wiring = Wiring::new(config(None), embedded.clone(), LocalGateway).with_clock(clock.clone());
    let mut adapters = wiring.adapters().await.unwrap();
    // The test's own queue, to count its dead letters.
    let queue = Arc::new(EmbeddedQueue::new(embedded.database().clone(), clock.clone(), MAX_ATTEMPTS));
    (adapters.queue, adapters.consumer) = (queue.clone(), queue.clone());
    harness(&wiring, clock, adapters, DeadLetters::Embedded(queue)).await
}

async fn moto() -> Harness {
    let table = common::fresh_name("outbox");
    let clock = Arc::new(ManualClock::new());
    let wiring = Wiring::new(config(Some(&table)), Aws, LocalGateway).with_clock(clock.clone());
    // Creates the tables, and the `{table}-outbox` queue with its DLQ.
    let adapters = wiring.adapters().await.unwrap();
    let sqs = aws_sdk_sqs::Client::new(&herald::adapters::aws::load_config().await);
    let dlq_url = sqs.get_queue_url().queue_name(format!("{table}-outbox-dlq")).send().await.unwrap().queue_url.unwrap();
    harness(&wiring, clock, adapters, DeadLetters::Sqs(sqs, dlq_url)).await
}

fn address(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

async fn harness<B: Backend>(wiring: &Wiring<B, LocalGateway>, clock: Arc<ManualClock>, mut adapters: Adapters, dead_letters: DeadLetters) -> Harness {
    let tenant = TenantId::parse("demo").unwrap();
    for (id, contacts) in [("1", vec!["one@a.example", "one@b.example"]), ("2", vec!["two@a.example"]), ("3", vec![])] {
        let user = User {
            id: UserId::parse(id).unwrap(),
            login: format!("user{id}"),
            email: None,
            active: true,
            groups: vec![herald::domain::GroupName::parse("team").unwrap()],
            companies: vec![],
            follower: None,
            account_type: None,
            locale: None,
            timezone: None,
            contacts: contacts
                .iter()
                .enumerate()
                .map(|(i, a)| Contact { method: ContactMethod::Email, address: address(a), priority: i as u32 })
                .collect(),
        };
        adapters.directory.put_user(&tenant, &user).await.unwrap();
    }
    let store = Arc::new(CrashBeforeMarkSent { inner: adapters.notifications.clone(), armed: AtomicBool::new(false) });
    let mailer = Arc::new(ScriptedMailer::default());
    adapters.notifications = store.clone();
    adapters.mailer = mailer.clone();
    let queue = adapters.queue.clone();
    let services = wiring.services(adapters).unwrap();
    Harness { tenant, clock, store, services, queue, mailer, dead_letters }
}

fn request(users: &[&str], channel: Channel, due_at: Option<Timestamp>) -> SendRequest {
    SendRequest {
        key: TypeKey::parse("message:internal").unwrap(),
        title: "Hello".into(),
        body: "Body".into(),
        body_html: None,
        recipients: RecipientSpec { users: users.iter().map(|u| UserId::parse(*u).unwrap()).collect(), ..Default::default() },
        due_at,
        until: None,
        force_channel: Some(channel),
        context: None,
        idempotency_key: None,
    }
}

impl Harness {
    fn sent(&self) -> Vec<String> {
        self.mailer.sent.lock().unwrap().clone()
    }

    async fn deliveries(&self, n: &Notification) -> Vec<Delivery> {
        self.store.deliveries(&self.tenant, &n.id).await.unwrap()
    }

    /// Takes every queued message, answering the queue as Lambda would.
    async fn drain(&self) -> usize {
        events::drain_outbox(&self.services).await.unwrap().handled
    }
}

async fn redelivered_message_sends_no_second_email(h: Harness) {
    let (n, _) = h.services.notifier.send(&h.tenant, request(&["2"], Channel::Email, None)).await.unwrap();
    assert_eq!(h.drain().await, 1);
    assert_eq!(h.sent(), ["two@a.example"]);
    // SQS delivers at least once: the same key again, twice.
    let key = h.deliveries(&n).await[0].key.clone();
    h.queue.enqueue(&[key.clone(), key]).await.unwrap();
    assert_eq!(h.drain().await, 2);
    assert_eq!(h.sent(), ["two@a.example"], "no second email");
    let d = &h.deliveries(&n).await[0];
    assert_eq!((d.status, d.attempts, d.delivered_to.as_deref()), (DeliveryStatus::Sent, 1, Some("two@a.example")));
}

async fn crash_between_send_and_mark_sent_sends_no_second_email(h: Harness) {
    let (n, _) = h.services.notifier.send(&h.tenant, request(&["2"], Channel::Email, None)).await.unwrap();
    let key = h.deliveries(&n).await[0].key.clone();
    let body = serde_json::to_string(&key).unwrap();
    h.store.armed.store(true, Ordering::SeqCst);
    assert_eq!(h.services.outbox.handle_message(&body).await, herald::outbox::Handled::Retry, "the crash leaves it to retry");
    assert_eq!(h.sent(), ["two@a.example"]);
    // Redelivered while the lease holds (looked at again when it ends),
    // then after it ran out.
    let handled = h.services.outbox.handle_message(&body).await;
    assert!(matches!(handled, herald::outbox::Handled::RetryAfter(d) if d > Duration::from_secs(50) && d <= Duration::from_secs(60)), "{handled:?}");
    h.clock.advance(Duration::from_secs(61));
    h.services.outbox.handle_message(&body).await;
    h.services.outbox.handle_message(&body).await;
    assert_eq!(h.sent(), ["two@a.example"], "no second email, ever");
    let d = &h.deliveries(&n).await[0];
    assert_eq!(d.status, DeliveryStatus::Failed);
    assert!(d.last_error.as_deref().unwrap_or_default().contains("interrupted"), "{d:?}");
}

/// The same crash with a mailer whose sends are idempotent (the local
/// `.eml` mailer): once the lease ran out the send is redone, and the
/// recipient has the one email, marked sent.
async fn crash_between_send_and_mark_sent_is_redone_once_by_an_idempotent_mailer(h: Harness) {
    h.mailer.idempotent.store(true, Ordering::SeqCst);
    let (n, _) = h.services.notifier.send(&h.tenant, request(&["2"], Channel::Email, None)).await.unwrap();
    let key = h.deliveries(&n).await[0].key.clone();
    let body = serde_json::to_string(&key).unwrap();
    h.store.armed.store(true, Ordering::SeqCst);
    assert_eq!(h.services.outbox.handle_message(&body).await, herald::outbox::Handled::Retry, "the crash leaves it to retry");
    h.clock.advance(Duration::from_secs(61));
    assert_eq!(h.services.outbox.handle_message(&body).await, herald::outbox::Handled::Done);
    h.services.outbox.handle_message(&body).await;
    assert_eq!(h.sent(), ["two@a.example"], "one email");
    let d = &h.deliveries(&n).await[0];
    assert_eq!((d.status, d.delivered_to.as_deref()), (DeliveryStatus::Sent, Some("two@a.example")), "{d:?}");
}

async fn concurrent_ticks_publish_once(h: Harness) {
    let due = h.clock.now().plus(Duration::from_secs(3600));
    let (n, _) = h.services.notifier.send(&h.tenant, request(&["1", "2", "3"], Channel::Message, Some(due))).await.unwrap();
    let (a, b) = tokio::join!(h.services.notifier.run_due(), h.services.notifier.run_due());
    assert_eq!(a.unwrap().published + b.unwrap().published, 0, "not due yet");
    h.clock.advance(Duration::from_secs(3601));
    let runs = futures::future::join_all((0..4).map(|_| h.services.notifier.run_due())).await;
    let published: usize = runs.into_iter().map(|r| r.unwrap().published).sum();
    assert_eq!(published, 1);
    assert_eq!(h.deliveries(&n).await.len(), 3);
    assert_eq!(h.drain().await, 3, "each delivery queued once");
    for user in ["1", "2", "3"] {
        let items = h.services.inbox.list(&h.tenant, &UserId::parse(user).unwrap(), &InboxFilter::default(), None, 10).await.unwrap().items;
        assert_eq!(items.len(), 1, "user {user}");
    }
    // Redelivering an in-app delivery creates no second item.
    let key = h.deliveries(&n).await[0].key.clone();
    h.queue.enqueue(std::slice::from_ref(&key)).await.unwrap();
    h.drain().await;
    let herald::notifications::Recipient::User(user) = &key.recipient else { panic!() };
    assert_eq!(h.services.inbox.list(&h.tenant, user, &InboxFilter::default(), None, 10).await.unwrap().items.len(), 1);
}

async fn permanent_failure_fails_after_max_attempts_and_dead_letters(h: Harness) {
    *h.mailer.always.lock().unwrap() = Some(|_| Err(MailError::Permanent("sender not verified".into())));
    let (n, _) = h.services.notifier.send(&h.tenant, request(&["2"], Channel::Email, None)).await.unwrap();
    h.drain().await;
    let d = &h.deliveries(&n).await[0];
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Failed, MAX_ATTEMPTS), "{d:?}");
    assert!(h.sent().is_empty());
    assert_eq!(h.dead_letters.count().await, 1, "the message is in the DLQ");
}

async fn transient_failures_retry_then_send(h: Harness) {
    h.mailer.script.lock().unwrap().extend([Err(MailError::Transient("throttled".into())), Err(MailError::Transient("timeout".into()))]);
    let (n, _) = h.services.notifier.send(&h.tenant, request(&["2"], Channel::Email, None)).await.unwrap();
    h.drain().await;
    let d = &h.deliveries(&n).await[0];
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Sent, 3), "{d:?}");
    assert_eq!(h.sent(), ["two@a.example"]);
    assert_eq!(h.dead_letters.count().await, 0);
}

async fn refused_addresses_fall_through(h: Harness) {
    *h.mailer.always.lock().unwrap() = Some(|to| if to.starts_with("one@a") || to.starts_with("two") { Err(MailError::AddressRefused("suppressed".into())) } else { Ok(()) });
    let (n, _) = h.services.notifier.send(&h.tenant, request(&["1", "2", "3"], Channel::Email, None)).await.unwrap();
    h.drain().await;
    let mut outcome: Vec<(String, DeliveryStatus, Option<String>)> =
        h.deliveries(&n).await.into_iter().map(|d| (d.key.recipient.to_string(), d.status, d.delivered_to)).collect();
    outcome.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        outcome,
        [
            ("user:1".into(), DeliveryStatus::Sent, Some("one@b.example".into())),
            ("user:2".into(), DeliveryStatus::Invalid, None),
            ("user:3".into(), DeliveryStatus::Invalid, None),
        ]
    );
    assert_eq!(h.sent(), ["one@b.example"]);
}

macro_rules! on_both {
    ($($case:ident),* $(,)?) => {
        mod embedded_adapters {
            $(#[tokio::test] async fn $case() { super::$case(super::embedded().await).await; })*
        }
        mod aws_adapters_on_moto {
            $(#[tokio::test] async fn $case() { super::$case(super::moto().await).await; })*
        }
    };
}

on_both!(
    redelivered_message_sends_no_second_email,
    crash_between_send_and_mark_sent_sends_no_second_email,
    crash_between_send_and_mark_sent_is_redone_once_by_an_idempotent_mailer,
    concurrent_ticks_publish_once,
    permanent_failure_fails_after_max_attempts_and_dead_letters,
    transient_failures_retry_then_send,
    refused_addresses_fall_through,
);
