//! The notification and inbox store contracts, on the embedded stores and
//! DynamoDB (moto): conditional writes, the due index, context and
//! idempotency bindings, deliveries, inbox pages and the inbox's due index.
use crate::common;

use std::sync::Arc;

use herald::adapters::aws::{DynamoInboxStore, DynamoNotificationStore};
use herald::adapters::embedded::{EmbeddedInboxStore, EmbeddedNotificationStore};
use herald::domain::{Clock as _, ManualClock, TenantId, Timestamp, UserId, WriteError};
use herald::inbox::{DueReport, Inbox, InboxChange, InboxId, InboxItem, InboxStore, InboxWatch};
use herald::notifications::{
    Channel, Context, Delivery, DeliveryKey, DeliveryStatus, Notification, NotificationId, NotificationStatus, NotificationStore, Recipient, RecipientSpec, StatusType,
    TypeKey,
};

async fn dynamo() -> (Arc<dyn NotificationStore>, Arc<dyn InboxStore>) {
    let table = common::data_table("notifications-contract").await;
    (Arc::new(DynamoNotificationStore::new(table.clone())), Arc::new(DynamoInboxStore::new(table)))
}

fn embedded(db: Arc<herald::adapters::embedded::Database>) -> (Arc<dyn NotificationStore>, Arc<dyn InboxStore>) {
    (Arc::new(EmbeddedNotificationStore::new(db.clone())), Arc::new(EmbeddedInboxStore::new(db)))
}

fn tenant(t: &str) -> TenantId {
    TenantId::parse(t).unwrap()
}

fn notification(t: &str, due_ms: i64, status: NotificationStatus) -> Notification {
    Notification {
        id: NotificationId::random(),
        tenant: tenant(t),
        key: TypeKey::parse("message:internal").unwrap(),
        title: "T".into(),
        body: "B".into(),
        body_html: None,
        channel: Channel::Message,
        status_type: StatusType::Neutral,
        recipients: RecipientSpec { users: vec![UserId::parse("1").unwrap()], ..Default::default() },
        due_at: Timestamp::from_millis(due_ms),
        until: None,
        context: None,
        status,
        revision: 1,
        lease_until: None,
        created_at: Timestamp::from_millis(1),
        published_at: None,
        cancel_reason: None,
        version: 1,
    }
}

async fn notifications_are_conditional_and_indexed_by_due_time(store: Arc<dyn NotificationStore>) {
    let late = notification("a", 3_000, NotificationStatus::Scheduled);
    let early = notification("b", 1_000, NotificationStatus::Scheduled);
    let done = notification("a", 500, NotificationStatus::Published);
    for n in [&late, &early, &done] {
        store.save(n, None).await.unwrap();
    }
    assert!(matches!(store.save(&late, None).await, Err(WriteError::Conflict)), "create only once");
    assert_eq!(store.get(&late.tenant, &late.id).await.unwrap().as_ref(), Some(&late));
    assert_eq!(store.get(&tenant("b"), &late.id).await.unwrap(), None, "tenants are apart");

    let due = |ms| {
        let store = store.clone();
        async move { store.due(Timestamp::from_millis(ms), 10).await.unwrap() }
    };
    assert_eq!(due(999).await, vec![]);
    assert_eq!(due(1_000).await, vec![(early.tenant.clone(), early.id.clone())], "due at its time, not before");
    assert_eq!(due(5_000).await, vec![(early.tenant.clone(), early.id.clone()), (late.tenant.clone(), late.id.clone())]);

    // A replace needs the version read; publishing leaves the index.
    let published = Notification { status: NotificationStatus::Published, version: 2, ..early.clone() };
    assert!(matches!(store.save(&published, Some(7)).await, Err(WriteError::Conflict)));
    store.save(&published, Some(1)).await.unwrap();
    assert!(matches!(store.save(&published, Some(1)).await, Err(WriteError::Conflict)), "a stale writer loses");
    assert_eq!(due(5_000).await, vec![(late.tenant.clone(), late.id.clone())]);
    // Moving the due time moves the index entry.
    let moved = Notification { due_at: Timestamp::from_millis(9_000), version: 2, ..late.clone() };
    store.save(&moved, Some(1)).await.unwrap();
    assert_eq!(due(5_000).await, vec![]);
    assert_eq!(due(9_000).await.len(), 1);
    // A publisher's claim moves it to its lease's end: a run meets only
    // notifications it can claim, so leased ones never hide later ones.
    let claimed = Notification { status: NotificationStatus::Publishing, lease_until: Some(Timestamp::from_millis(20_000)), version: 3, ..moved.clone() };
    store.save(&claimed, Some(2)).await.unwrap();
    assert_eq!(due(19_999).await, vec![]);
    assert_eq!(due(20_000).await, vec![(claimed.tenant.clone(), claimed.id.clone())], "due again once the lease has run out");
}

/// Finding 1 of issue 11: the index's sort key had 13 digits, so a time
/// after 2286 (14 digits) sorted below today; a page of them hid every
/// tenant's due notifications from the check.
async fn far_future_notifications_never_hide_due_ones(store: Arc<dyn NotificationStore>) {
    let year_2300 = 10_413_792_000_000;
    for (n, ms) in (0..30).map(|n| (n, if n % 2 == 0 { year_2300 } else { Timestamp::MAX_MILLIS })) {
        store.save(&notification(&format!("evil{}", n % 3), ms, NotificationStatus::Scheduled), None).await.unwrap();
    }
    let due_now = notification("demo", 5_000, NotificationStatus::Scheduled);
    store.save(&due_now, None).await.unwrap();
    assert_eq!(store.due(Timestamp::from_millis(5_000), 10).await.unwrap(), vec![(due_now.tenant.clone(), due_now.id.clone())]);
    assert_eq!(store.due(Timestamp::from_millis(year_2300), 100).await.unwrap().len(), 16, "the due one and the 15 of 2300");
    assert_eq!(store.due(Timestamp::from_millis(Timestamp::MAX_MILLIS), 100).await.unwrap().len(), 31);
}

async fn bindings_keep_the_first_claim(store: Arc<dyn NotificationStore>) {
    let t = tenant("a");
    let key = TypeKey::parse("task:due").unwrap();
    let context = Context { table: "task".into(), id: "7".into() };
    let (first, second) = (NotificationId::random(), NotificationId::random());
    assert_eq!(store.bind_context(&t, &context, &key, &first).await.unwrap(), first);
    assert_eq!(store.bind_context(&t, &context, &key, &second).await.unwrap(), first);
    let other_key = TypeKey::parse("task:done").unwrap();
    assert_eq!(store.bind_context(&t, &context, &other_key, &second).await.unwrap(), second);

    let at = Timestamp::from_millis;
    assert_eq!(store.claim_idempotency_key(&t, "k", &first, at(0), at(100)).await.unwrap(), None);
    assert_eq!(store.claim_idempotency_key(&t, "k", &second, at(99), at(199)).await.unwrap(), Some(first.clone()));
    assert_eq!(store.claim_idempotency_key(&tenant("b"), "k", &second, at(99), at(199)).await.unwrap(), None);
    assert_eq!(store.claim_idempotency_key(&t, "k", &second, at(100), at(200)).await.unwrap(), None, "expired: taken anew");
    assert_eq!(store.claim_idempotency_key(&t, "k", &first, at(150), at(250)).await.unwrap(), Some(second));
}

fn delivery(n: &Notification, recipient: &str, revision: u32) -> Delivery {
    Delivery {
        key: DeliveryKey {
            tenant: n.tenant.clone(),
            notification: n.id.clone(),
            revision,
            recipient: Recipient::User(UserId::parse(recipient).unwrap()),
        },
        channel: Channel::Email,
        status: DeliveryStatus::Queued,
        addresses: vec![],
        attempts: 0,
        lease_until: None,
        last_error: None,
        delivered_to: None,
        provider_id: None,
        created_at: Timestamp::from_millis(1),
        updated_at: Timestamp::from_millis(1),
        expires_at: None,
        version: 1,
    }
}

async fn deliveries_are_created_once_and_updated_conditionally(store: Arc<dyn NotificationStore>) {
    let n = notification("a", 1, NotificationStatus::Publishing);
    store.save(&n, None).await.unwrap();
    let d = delivery(&n, "1", 1);
    assert!(store.create_delivery(&d).await.unwrap());
    let sending = Delivery { status: DeliveryStatus::Sending, attempts: 1, version: 2, ..d.clone() };
    store.update_delivery(&sending, 1).await.unwrap();
    assert!(!store.create_delivery(&d).await.unwrap(), "a second create changes nothing");
    assert_eq!(store.get_delivery(&d.key).await.unwrap(), Some(sending.clone()));
    assert!(matches!(store.update_delivery(&Delivery { version: 3, ..sending.clone() }, 1).await, Err(WriteError::Conflict)));
    assert!(store.create_delivery(&delivery(&n, "2", 1)).await.unwrap());
    assert!(store.create_delivery(&delivery(&n, "1", 2)).await.unwrap(), "a new revision is a new delivery");
    assert_eq!(store.deliveries(&n.tenant, &n.id).await.unwrap().len(), 3);
    assert_eq!(store.get(&n.tenant, &n.id).await.unwrap(), Some(n), "deliveries share the partition, not the item");
}

fn item(user: &str, ms: i64) -> InboxItem {
    let n = NotificationId::random();
    InboxItem {
        id: InboxId::new(Timestamp::from_millis(ms), &n, 1),
        tenant: tenant("a"),
        user: UserId::parse(user).unwrap(),
        notification: n,
        key: TypeKey::parse("message:internal").unwrap(),
        channel: Channel::Message,
        status_type: StatusType::Neutral,
        title: format!("at {ms}"),
        body: String::new(),
        body_html: None,
        context: None,
        created_at: Timestamp::from_millis(ms),
        due_at: Timestamp::from_millis(ms),
        read_at: None,
        expires_at: None,
        push_when_due: false,
        version: 1,
    }
}

async fn inbox_pages_newest_first_per_user(inbox: Arc<dyn InboxStore>) {
    let (t, ann, bob) = (tenant("a"), UserId::parse("ann").unwrap(), UserId::parse("bob").unwrap());
    let items: Vec<InboxItem> = [1_000, 3_000, 2_000].into_iter().map(|ms| item("ann", ms)).collect();
    for i in &items {
        assert!(inbox.insert(i).await.unwrap());
    }
    assert!(!inbox.insert(&items[0]).await.unwrap(), "created once");
    inbox.insert(&item("bob", 5_000)).await.unwrap();
    let titles = |page: Vec<InboxItem>| page.into_iter().map(|i| i.title).collect::<Vec<_>>();
    assert_eq!(titles(inbox.page(&t, &ann, None, 10).await.unwrap()), ["at 3000", "at 2000", "at 1000"]);
    let first = inbox.page(&t, &ann, None, 2).await.unwrap();
    assert_eq!(titles(inbox.page(&t, &ann, Some(&first[1].id), 2).await.unwrap()), ["at 1000"]);
    assert_eq!(inbox.get(&t, &bob, &items[0].id).await.unwrap(), None, "one user's item is not another's");

    let read = InboxItem { read_at: Some(Timestamp::from_millis(9)), version: 2, ..items[0].clone() };
    inbox.replace(&read, 1).await.unwrap();
    assert!(matches!(inbox.replace(&read, 1).await, Err(WriteError::Conflict)));
    assert_eq!(inbox.get(&t, &ann, &items[0].id).await.unwrap(), Some(read));
    assert!(inbox.delete(&t, &ann, &items[0].id).await.unwrap());
    assert!(!inbox.delete(&t, &ann, &items[0].id).await.unwrap());
    assert_eq!(inbox.page(&t, &ann, None, 10).await.unwrap().len(), 2);
}

/// An item's HTML body is kept as given; items written without it (or
/// without a due mark) still read.
async fn inbox_items_keep_their_html_body(inbox: Arc<dyn InboxStore>) {
    let html = InboxItem { body_html: Some("<p>Hi <b>there</b><script>x()</script></p>".into()), ..item("ann", 1_000) };
    let plain = item("ann", 2_000);
    for i in [&html, &plain] {
        inbox.insert(i).await.unwrap();
    }
    assert_eq!(inbox.get(&html.tenant, &html.user, &html.id).await.unwrap().as_ref(), Some(&html));
    assert_eq!(inbox.get(&plain.tenant, &plain.user, &plain.id).await.unwrap().as_ref(), Some(&plain));
    let older: InboxItem = serde_json::from_value(serde_json::json!({
        "id": plain.id, "tenant": "a", "user": "ann", "notification": plain.notification, "key": "message:internal", "channel": "message",
        "status_type": "neutral", "title": "old", "body": "", "created_at": 1, "due_at": 1, "version": 1
    }))
    .unwrap();
    assert_eq!((older.body_html, older.push_when_due), (None, false));
}

/// Postponed unread items marked to push are listed once due, earliest
/// first, across tenants and users; never before, nor once read, deleted
/// or cleared.
async fn inbox_due_index_lists_postponed_items_once_due(inbox: Arc<dyn InboxStore>) {
    let at = Timestamp::from_millis;
    let postponed = |user: &str, created: i64, due: i64| InboxItem { due_at: at(due), push_when_due: true, ..item(user, created) };
    let ann = postponed("ann", 1_000, 10_000);
    let bob = InboxItem { tenant: tenant("b"), ..postponed("bob", 2_000, 8_000) };
    let read = InboxItem { read_at: Some(at(3_000)), ..postponed("ann", 3_000, 9_000) };
    let gone = postponed("ann", 4_000, 9_500);
    let plain = item("ann", 5_000);
    for i in [&ann, &bob, &read, &gone, &plain] {
        assert!(inbox.insert(i).await.unwrap());
    }
    assert!(inbox.delete(&gone.tenant, &gone.user, &gone.id).await.unwrap());
    let due = |ms| {
        let inbox = inbox.clone();
        async move { inbox.due_items(at(ms), 10).await.unwrap().into_iter().map(|i| i.id).collect::<Vec<_>>() }
    };
    assert_eq!(due(7_999).await, vec![], "not before its due time");
    assert_eq!(due(8_000).await, vec![bob.id.clone()]);
    assert_eq!(due(20_000).await, vec![bob.id.clone(), ann.id.clone()], "earliest first; never the read, deleted or unmarked");
    assert_eq!(inbox.due_items(at(20_000), 1).await.unwrap(), vec![bob.clone()], "whole items, at most the limit");

    // A replace moves the entry, or takes it out.
    let later = InboxItem { due_at: at(30_000), version: 2, ..ann.clone() };
    inbox.replace(&later, 1).await.unwrap();
    assert_eq!(due(20_000).await, vec![bob.id.clone()]);
    assert_eq!(due(30_000).await, vec![bob.id.clone(), ann.id.clone()]);
    let read_now = InboxItem { read_at: Some(at(12_000)), version: 3, ..later.clone() };
    inbox.replace(&read_now, 2).await.unwrap();
    let cleared = InboxItem { push_when_due: false, version: 2, ..bob.clone() };
    inbox.replace(&cleared, 1).await.unwrap();
    assert_eq!(due(i64::MAX / 4).await, vec![]);
    // Postponed again: back in.
    let again = InboxItem { due_at: at(40_000), push_when_due: true, read_at: None, version: 3, ..cleared.clone() };
    inbox.replace(&again, 2).await.unwrap();
    assert_eq!(due(40_000).await, vec![bob.id.clone()]);
}

/// Records what the inbox pushes.
#[derive(Default)]
struct Pushed(std::sync::Mutex<Vec<(UserId, usize, InboxChange)>>);

#[async_trait::async_trait]
impl InboxWatch for Pushed {
    async fn changed(&self, _: &TenantId, user: &UserId, unread: usize, change: &InboxChange) -> Result<(), herald::domain::StoreError> {
        self.0.lock().unwrap().push((user.clone(), unread, change.clone()));
        Ok(())
    }
}

/// A store whose due listing, when it has a barrier, waits until both
/// runners have theirs (both meet the same items before either clears
/// them), and which answers at most `at_most` items a page (as DynamoDB's
/// page does once it left out what its lagging index still lists).
struct Listing {
    store: Arc<dyn InboxStore>,
    barrier: Option<tokio::sync::Barrier>,
    at_most: usize,
}

#[async_trait::async_trait]
impl InboxStore for Listing {
    async fn insert(&self, item: &InboxItem) -> Result<bool, herald::domain::StoreError> {
        self.store.insert(item).await
    }
    async fn get(&self, tenant: &TenantId, user: &UserId, id: &InboxId) -> Result<Option<InboxItem>, herald::domain::StoreError> {
        self.store.get(tenant, user, id).await
    }
    async fn page(&self, tenant: &TenantId, user: &UserId, before: Option<&InboxId>, limit: usize) -> Result<Vec<InboxItem>, herald::domain::StoreError> {
        self.store.page(tenant, user, before, limit).await
    }
    async fn due_items(&self, now: Timestamp, limit: usize) -> Result<Vec<InboxItem>, herald::domain::StoreError> {
        let mut items = self.store.due_items(now, limit).await?;
        if let Some(barrier) = self.barrier.as_ref().filter(|_| !items.is_empty()) {
            barrier.wait().await;
        }
        items.truncate(self.at_most);
        Ok(items)
    }
    async fn replace(&self, item: &InboxItem, expected: u64) -> Result<(), WriteError> {
        self.store.replace(item, expected).await
    }
    async fn delete(&self, tenant: &TenantId, user: &UserId, id: &InboxId) -> Result<bool, herald::domain::StoreError> {
        self.store.delete(tenant, user, id).await
    }
}

/// A postponed item coming due is pushed once, with the count it makes,
/// even when two runs race for it; a read or deleted one is not pushed.
async fn items_come_due_are_pushed_once(store: Arc<dyn InboxStore>) {
    use std::time::Duration;
    let clock = Arc::new(ManualClock::new());
    let store: Arc<dyn InboxStore> = Arc::new(Listing { store, barrier: Some(tokio::sync::Barrier::new(2)), at_most: usize::MAX });
    let pushed = Arc::new(Pushed::default());
    let inbox = Inbox::new(store.clone(), clock.clone(), Duration::from_secs(86_400)).watched_by(pushed.clone());
    let (t, ann) = (tenant("a"), UserId::parse("ann").unwrap());
    let now = clock.now().as_millis();
    let items: Vec<InboxItem> = (0..4).map(|n| item("ann", now - 10_000 + n)).collect();
    for i in &items {
        inbox.add(i).await.unwrap();
    }
    for i in &items[..3] {
        inbox.postpone(&t, &ann, &i.id, Some(1)).await.unwrap();
    }
    inbox.mark_read(&t, &ann, &items[1].id).await.unwrap();
    inbox.delete(&t, &ann, &items[2].id).await.unwrap();
    pushed.0.lock().unwrap().clear();

    assert_eq!(inbox.push_due().await.unwrap(), DueReport::default(), "nothing due yet");
    clock.advance(Duration::from_secs(86_400 + 60));
    let (first, second) = tokio::join!(inbox.push_due(), inbox.push_due());
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(first.pushed + second.pushed, 1, "{first:?} {second:?}");
    let told = pushed.0.lock().unwrap().clone();
    assert_eq!(told.len(), 1, "{told:?}");
    let (user, unread, change) = &told[0];
    let InboxChange::Due(due) = change else { panic!("{change:?}") };
    assert_eq!((user, *unread, due.iter().map(|i| &i.id).collect::<Vec<_>>()), (&ann, 2, vec![&items[0].id]), "the item and the one never postponed");
    assert!(!due[0].push_when_due && due[0].read_at.is_none());
    assert_eq!(store.get(&t, &ann, &items[0].id).await.unwrap().as_ref(), Some(&due[0]));
    assert_eq!(inbox.push_due().await.unwrap(), DueReport::default(), "pushed once");
}

/// Short pages are not the end: a run goes on while pages clear items, up
/// to its bound, and tells each user once per run.
async fn a_run_pushes_past_short_pages(store: Arc<dyn InboxStore>) {
    use std::time::Duration;
    let clock = Arc::new(ManualClock::new());
    let store: Arc<dyn InboxStore> = Arc::new(Listing { store, barrier: None, at_most: 30 });
    let pushed = Arc::new(Pushed::default());
    let inbox = Inbox::new(store, clock.clone(), Duration::from_secs(86_400)).watched_by(pushed.clone());
    let (t, bea) = (tenant("a"), UserId::parse("bea").unwrap());
    let now = clock.now().as_millis();
    for n in 0..75 {
        let i = item("bea", now - 10_000 + n);
        inbox.add(&i).await.unwrap();
        inbox.postpone(&t, &bea, &i.id, Some(1)).await.unwrap();
    }
    pushed.0.lock().unwrap().clear();
    clock.advance(Duration::from_secs(86_400 + 60));
    assert_eq!(inbox.push_due().await.unwrap(), DueReport { pushed: 75, users: 1 }, "three short pages, then an empty one");
    let told = pushed.0.lock().unwrap().clone();
    assert_eq!(told.len(), 1, "one message for the user's 75 small items");
    let (_, unread, InboxChange::Due(due)) = &told[0] else { panic!("{told:?}") };
    assert_eq!((*unread, due.len()), (75, 75));
}

contract_on_both_stores!(
    notifications_are_conditional_and_indexed_by_due_time: 0,
    bindings_keep_the_first_claim: 0,
    far_future_notifications_never_hide_due_ones: 0,
    deliveries_are_created_once_and_updated_conditionally: 0,
    inbox_pages_newest_first_per_user: 1,
    inbox_items_keep_their_html_body: 1,
    inbox_due_index_lists_postponed_items_once_due: 1,
    items_come_due_are_pushed_once: 1,
    a_run_pushes_past_short_pages: 1,
);

/// The embedded store publishes a new notification in one transaction:
/// the notification, its deliveries and their queue messages, or nothing.
async fn a_publication_is_written_whole_and_once(db: Arc<herald::adapters::embedded::Database>) {
    use herald::adapters::embedded::{EmbeddedPublication, EmbeddedQueue};
    use herald::notifications::Publication;
    let clock: Arc<dyn herald::domain::Clock> = Arc::new(herald::domain::ManualClock::new());
    let queue = Arc::new(EmbeddedQueue::new(db.clone(), clock, 5));
    let publication = EmbeddedPublication::new(db.clone(), queue.clone());
    let (store, _) = embedded(db.clone());

    let n = Notification { published_at: Some(Timestamp::from_millis(2)), ..notification("a", 1_000, NotificationStatus::Published) };
    let deliveries = [delivery(&n, "1", 1), delivery(&n, "2", 1)];
    assert!(publication.create_published(&n, &deliveries).await.unwrap());
    assert_eq!(store.get(&n.tenant, &n.id).await.unwrap(), Some(n.clone()));
    assert_eq!(store.deliveries(&n.tenant, &n.id).await.unwrap(), deliveries.to_vec());
    assert_eq!(queue.ready_len().await.unwrap(), 2);
    // herald-local's drainer waits on this: the publication's write wakes it.
    tokio::time::timeout(std::time::Duration::from_secs(5), db.queued()).await.expect("a publication wakes the drainer");
    assert!(!publication.create_published(&n, &deliveries).await.unwrap(), "created once");
    assert_eq!(queue.ready_len().await.unwrap(), 2, "and queued once");

    // A write that fails part way (its queue is gone) leaves nothing.
    db.write(|conn| conn.execute_batch("ALTER TABLE queue RENAME TO queue_gone")).await.unwrap();
    let other = notification("a", 1_000, NotificationStatus::Published);
    assert!(publication.create_published(&other, &[delivery(&other, "1", 1)]).await.is_err());
    db.write(|conn| conn.execute_batch("ALTER TABLE queue_gone RENAME TO queue")).await.unwrap();
    assert_eq!(store.get(&other.tenant, &other.id).await.unwrap(), None);
    assert_eq!(store.deliveries(&other.tenant, &other.id).await.unwrap(), vec![]);
    assert_eq!(queue.ready_len().await.unwrap(), 2);
}

mod embedded_publication {
    #[tokio::test]
    async fn in_memory() {
        super::a_publication_is_written_whole_and_once(crate::common::memory_db()).await;
    }

    #[tokio::test]
    async fn in_a_data_directory() {
        super::a_publication_is_written_whole_and_once(crate::common::durable_db()).await;
    }
}
