//! Sending typed notifications: now or at a due time, replaced through their
//! context, made idempotent by a caller's key; and publishing them, which
//! resolves recipients into deliveries and hands those to the outbox queue.
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use futures::{stream, TryStreamExt};

use super::delivery::{Delivery, DeliveryKey, DeliveryStatus, OutboxQueue, Recipient};
use super::model::{
    Channel, Context, Notification, NotificationId, NotificationStatus, RecipientSpec, StatusType, TypeKey, MAX_BODY_BYTES, MAX_IDEMPOTENCY_KEY_BYTES,
    MAX_RECIPIENT_ENTRIES, MAX_TITLE_BYTES,
};
use super::recipients::resolve;
use super::store::{NotificationStore, Publication};
use super::types::Types;
use crate::directory::{DirectoryStore, User};
use crate::domain::{Clock, EmailAddress, StoreError, TenantId, Timestamp, WriteError};

/// Deliveries written at once while publishing.
const WRITE_CONCURRENCY: usize = 16;
/// Due notifications taken per store query by a check run.
const DUE_BATCH: usize = 100;

#[derive(Debug, Clone)]
pub struct NotifierSettings {
    /// How long a publisher owns a notification before another may take over.
    pub publish_lease: Duration,
    /// How long an idempotency key makes a repeated send a no-op.
    pub idempotency_window: Duration,
    /// Most deliveries a publication writes in one transaction (where the
    /// store offers one); a larger one goes step by step, so one digest to
    /// a large group never holds the embedded writer for long.
    pub max_atomic_deliveries: usize,
}

impl Default for NotifierSettings {
    fn default() -> Self {
        Self { publish_lease: Duration::from_secs(120), idempotency_window: Duration::from_secs(24 * 3600), max_atomic_deliveries: 1000 }
    }
}

/// A send request, as the HTTP route parsed it.
#[derive(Debug, Clone)]
pub struct SendRequest {
    pub key: TypeKey,
    pub title: String,
    pub body: String,
    pub body_html: Option<String>,
    pub recipients: RecipientSpec,
    pub due_at: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub force_channel: Option<Channel>,
    pub context: Option<Context>,
    pub idempotency_key: Option<String>,
}

impl SendRequest {
    pub fn validate(&self) -> Result<(), NotifyError> {
        let invalid = |m: String| Err(NotifyError::Invalid(m));
        if self.title.trim().is_empty() || self.title.len() > MAX_TITLE_BYTES {
            return invalid(format!("title must be 1 to {MAX_TITLE_BYTES} bytes"));
        }
        if self.body.len() > MAX_BODY_BYTES || self.body_html.as_ref().is_some_and(|h| h.len() > MAX_BODY_BYTES) {
            return invalid(format!("body and body_html are at most {MAX_BODY_BYTES} bytes"));
        }
        if self.recipients.is_empty() {
            return invalid("recipients: name at least one user, group, company or followers_of".into());
        }
        if self.recipients.entries() > MAX_RECIPIENT_ENTRIES {
            return invalid(format!("recipients: at most {MAX_RECIPIENT_ENTRIES} entries"));
        }
        if self.recipients.account_type.as_ref().is_some_and(|a| a.is_empty() || a.len() > 64) {
            return invalid("recipients.account_type must be 1 to 64 bytes".into());
        }
        if let Some(context) = &self.context {
            context.validate().map_err(NotifyError::Invalid)?;
        }
        if let Some(k) = &self.idempotency_key {
            if k.is_empty() || k.len() > MAX_IDEMPOTENCY_KEY_BYTES || k.contains('#') {
                return invalid(format!("idempotency_key must be 1 to {MAX_IDEMPOTENCY_KEY_BYTES} bytes without '#'"));
            }
        }
        if let (Some(due), Some(until)) = (self.due_at, self.until) {
            if until <= due {
                return invalid("until must be after due_at".into());
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SendOutcome {
    Published,
    Scheduled,
    /// A scheduled notification with the same context and key was replaced.
    Rescheduled,
    /// A published one with the same context and key was published anew.
    Republished,
    /// `until` had already passed: stored, never sent.
    Cancelled,
    /// The idempotency key was used within its window: nothing new was sent.
    Duplicate,
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("{0}")]
    Invalid(String),
    #[error("no such notification")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<WriteError> for NotifyError {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Conflict => Self::Store(StoreError::Contention),
            WriteError::Store(e) => Self::Store(e),
        }
    }
}

/// What one check run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CheckReport {
    pub published: usize,
    pub cancelled: usize,
    pub deliveries: usize,
}

#[derive(Clone)]
pub struct Notifier {
    store: Arc<dyn NotificationStore>,
    directory: Arc<dyn DirectoryStore>,
    types: Types,
    queue: Arc<dyn OutboxQueue>,
    /// Where a new notification's publication is one write (the embedded
    /// store); else it goes step by step.
    publication: Option<Arc<dyn Publication>>,
    clock: Arc<dyn Clock>,
    settings: NotifierSettings,
}

impl Notifier {
    pub fn new(
        store: Arc<dyn NotificationStore>,
        directory: Arc<dyn DirectoryStore>,
        types: Types,
        queue: Arc<dyn OutboxQueue>,
        publication: Option<Arc<dyn Publication>>,
        clock: Arc<dyn Clock>,
        settings: NotifierSettings,
    ) -> Self {
        Self { store, directory, types, queue, publication, clock, settings }
    }

    /// The notification and every delivery it has had (all revisions).
    pub async fn status(&self, tenant: &TenantId, id: &NotificationId) -> Result<(Notification, Vec<Delivery>), NotifyError> {
        let notification = self.store.get(tenant, id).await?.ok_or(NotifyError::NotFound)?;
        let deliveries = self.store.deliveries(tenant, id).await?;
        Ok((notification, deliveries))
    }

    pub async fn send(&self, tenant: &TenantId, request: SendRequest) -> Result<(Notification, SendOutcome), NotifyError> {
        request.validate()?;
        let now = self.clock.now();
        let mut id = NotificationId::random();
        if let Some(key) = &request.idempotency_key {
            let expires = now.plus(self.settings.idempotency_window);
            if let Some(existing) = self.store.claim_idempotency_key(tenant, key, &id, now, expires).await? {
                match self.store.get(tenant, &existing).await? {
                    Some(n) => return Ok((n, SendOutcome::Duplicate)),
                    // The first attempt recorded the key and failed before
                    // saving: this retry completes it under the same id.
                    None => id = existing,
                }
            }
        }
        let found = self.types.find(tenant, &request.key).await?;
        let channel = request.force_channel.or(found.as_ref().map(|t| t.default_channel)).unwrap_or(Channel::Message);
        let status_type = found.as_ref().map(|t| t.status_type).unwrap_or(StatusType::Neutral);
        if let Some(context) = &request.context {
            id = self.store.bind_context(tenant, context, &request.key, &id).await?;
        }
        let due_at = request.due_at.unwrap_or(now).max(now);
        let expired = request.until.is_some_and(|until| until <= now);
        for _ in 0..16 {
            let existing = self.store.get(tenant, &id).await?;
            let (revision, created_at, replaced) = match &existing {
                None => (1, now, None),
                Some(n) if n.status == NotificationStatus::Scheduled => (n.revision, n.created_at, Some(SendOutcome::Rescheduled)),
                Some(n) => (n.revision + 1, n.created_at, Some(SendOutcome::Republished)),
            };
            let publish_now = due_at <= now && !expired;
            let notification = Notification {
                id: id.clone(),
                tenant: tenant.clone(),
                key: request.key.clone(),
                title: request.title.clone(),
                body: request.body.clone(),
                body_html: request.body_html.clone(),
                channel,
                status_type,
                recipients: request.recipients.clone(),
                due_at,
                until: request.until,
                context: request.context.clone(),
                status: match (expired, publish_now) {
                    (true, _) => NotificationStatus::Cancelled,
                    (false, true) => NotificationStatus::Publishing,
                    (false, false) => NotificationStatus::Scheduled,
                },
                revision,
                lease_until: publish_now.then(|| now.plus(self.settings.publish_lease)),
                created_at,
                published_at: None,
                cancel_reason: expired.then(|| "until passed before it was due".to_owned()),
                version: existing.as_ref().map_or(1, |n| n.version + 1),
            };
            match self.store.save(&notification, existing.as_ref().map(|n| n.version)).await {
                Ok(()) => {}
                Err(WriteError::Conflict) => continue,
                Err(WriteError::Store(e)) => return Err(e.into()),
            }
            let outcome = match (expired, publish_now, replaced) {
                (true, _, _) => SendOutcome::Cancelled,
                (false, true, Some(SendOutcome::Republished)) => SendOutcome::Republished,
                (false, true, _) => SendOutcome::Published,
                (false, false, Some(replaced)) => replaced,
                (false, false, None) => SendOutcome::Scheduled,
            };
            if !publish_now {
                return Ok((notification, outcome));
            }
            let (published, _) = self.publish(notification).await?;
            return Ok((published, outcome));
        }
        Err(StoreError::Contention.into())
    }

    /// Publishes a notification made elsewhere (a subscription digest) under
    /// its own, derived id: created once, so a second attempt with the same
    /// id sends nothing (if a crashed attempt created it and stopped, the
    /// due check publishes it when its lease runs out).
    pub async fn publish_new(&self, mut notification: Notification) -> Result<(), StoreError> {
        let now = self.clock.now();
        if let Some(publication) = &self.publication {
            // All or nothing: a second attempt finds it and writes nothing.
            let published = Notification {
                status: NotificationStatus::Published,
                lease_until: None,
                due_at: now,
                created_at: now,
                published_at: Some(now),
                revision: 1,
                version: 1,
                ..notification.clone()
            };
            let deliveries = self.deliveries(&published, now).await?;
            if deliveries.len() <= self.settings.max_atomic_deliveries {
                publication.create_published(&published, &deliveries).await?;
                return Ok(());
            }
        }
        notification.status = NotificationStatus::Publishing;
        notification.lease_until = Some(now.plus(self.settings.publish_lease));
        notification.due_at = now;
        notification.created_at = now;
        notification.revision = 1;
        notification.version = 1;
        match self.store.save(&notification, None).await {
            Ok(()) => self.publish(notification).await.map(|_| ()),
            Err(WriteError::Conflict) => Ok(()),
            Err(WriteError::Store(e)) => Err(e),
        }
    }

    /// Cancels a notification not yet published.
    pub async fn cancel(&self, tenant: &TenantId, id: &NotificationId) -> Result<Notification, NotifyError> {
        for _ in 0..16 {
            let current = self.store.get(tenant, id).await?.ok_or(NotifyError::NotFound)?;
            match current.status {
                NotificationStatus::Cancelled => return Ok(current),
                NotificationStatus::Published | NotificationStatus::Publishing => {
                    return Err(NotifyError::Conflict("the notification is already published".into()))
                }
                NotificationStatus::Scheduled => {}
            }
            let cancelled = Notification {
                status: NotificationStatus::Cancelled,
                cancel_reason: Some("cancelled".into()),
                version: current.version + 1,
                ..current.clone()
            };
            match self.store.save(&cancelled, Some(current.version)).await {
                Ok(()) => return Ok(cancelled),
                Err(WriteError::Conflict) => continue,
                Err(WriteError::Store(e)) => return Err(e.into()),
            }
        }
        Err(StoreError::Contention.into())
    }

    /// Publishes the due notifications: the scheduled function's work.
    /// Each is claimed with a conditional write first, so concurrent runs
    /// publish it once.
    pub async fn run_due(&self) -> Result<CheckReport, StoreError> {
        let mut report = CheckReport::default();
        let mut seen = BTreeSet::new();
        loop {
            let now = self.clock.now();
            let due = self.store.due(now, DUE_BATCH).await?;
            let fresh: Vec<_> = due.into_iter().filter(|d| seen.insert(d.clone())).collect();
            if fresh.is_empty() {
                return Ok(report);
            }
            for (tenant, id) in fresh {
                let Some(current) = self.store.get(&tenant, &id).await? else { continue };
                let leased = current.status == NotificationStatus::Publishing && current.lease_until.is_some_and(|l| l > now);
                if !current.awaits_publication() || leased || current.due_at > now {
                    continue;
                }
                let mut next = current.clone();
                next.version = current.version + 1;
                if current.until.is_some_and(|until| until <= now) {
                    next.status = NotificationStatus::Cancelled;
                    next.lease_until = None;
                    next.cancel_reason = Some("until passed before it was published".into());
                    if self.store.save(&next, Some(current.version)).await.is_ok() {
                        report.cancelled += 1;
                    }
                    continue;
                }
                next.status = NotificationStatus::Publishing;
                next.lease_until = Some(now.plus(self.settings.publish_lease));
                match self.store.save(&next, Some(current.version)).await {
                    Ok(()) => {}
                    Err(WriteError::Conflict) => continue,
                    Err(WriteError::Store(e)) => return Err(e),
                }
                let (_, deliveries) = self.publish(next).await?;
                report.published += 1;
                report.deliveries += deliveries;
            }
        }
    }

    /// Resolves the recipients of a notification this caller has claimed
    /// (status `Publishing`), creates its deliveries once each, queues them,
    /// and marks it published.
    async fn publish(&self, notification: Notification) -> Result<(Notification, usize), StoreError> {
        let now = self.clock.now();
        let deliveries = self.deliveries(&notification, now).await?;
        let store = &self.store;
        stream::iter(deliveries.iter().map(Ok::<_, StoreError>))
            .try_for_each_concurrent(WRITE_CONCURRENCY, |d| async move { store.create_delivery(d).await.map(|_| ()) })
            .await?;
        // Queue every key, also those a crashed publisher created: the
        // outbox treats a key it already handled as done.
        let keys: Vec<DeliveryKey> = deliveries.iter().map(|d| d.key.clone()).collect();
        for chunk in keys.chunks(100) {
            self.queue.enqueue(chunk).await?;
        }
        let published = Notification {
            status: NotificationStatus::Published,
            lease_until: None,
            published_at: Some(now),
            version: notification.version + 1,
            ..notification.clone()
        };
        match self.store.save(&published, Some(notification.version)).await {
            Ok(()) => Ok((published, deliveries.len())),
            // Replaced meanwhile (a new revision): that one publishes itself.
            Err(WriteError::Conflict) => Ok((notification, deliveries.len())),
            Err(WriteError::Store(e)) => Err(e),
        }
    }

    /// The deliveries of a notification's revision, one per resolved
    /// recipient, queued.
    async fn deliveries(&self, notification: &Notification, now: Timestamp) -> Result<Vec<Delivery>, StoreError> {
        let tenant = &notification.tenant;
        let resolved = resolve(self.directory.as_ref(), tenant, &notification.recipients, notification.channel).await?;
        let mut planned: Vec<(Recipient, Vec<EmailAddress>)> = Vec::new();
        for (user_id, user) in &resolved.users {
            let addresses = if notification.channel == Channel::Email { email_addresses(user) } else { Vec::new() };
            planned.push((Recipient::User(user_id.clone()), addresses));
        }
        for (company, address) in &resolved.company_addresses {
            planned.push((Recipient::Company(company.clone()), vec![address.clone()]));
        }
        let deliveries: Vec<Delivery> = planned
            .into_iter()
            .map(|(recipient, addresses)| Delivery {
                key: DeliveryKey {
                    tenant: tenant.clone(),
                    notification: notification.id.clone(),
                    revision: notification.revision,
                    recipient,
                },
                channel: notification.channel,
                status: DeliveryStatus::Queued,
                addresses,
                attempts: 0,
                lease_until: None,
                last_error: None,
                delivered_to: None,
                provider_id: None,
                created_at: now,
                updated_at: now,
                expires_at: None,
                version: 1,
            })
            .collect();
        Ok(deliveries)
    }
}

/// A user's email addresses in the order to try: contacts by priority, then
/// the user's own address if no contact has it.
fn email_addresses(user: &User) -> Vec<EmailAddress> {
    let mut contacts = user.contacts.clone();
    contacts.sort_by_key(|c| c.priority);
    let mut addresses: Vec<EmailAddress> = Vec::new();
    for address in contacts.into_iter().map(|c| c.address).chain(user.email.clone()) {
        if !addresses.contains(&address) {
            addresses.push(address);
        }
    }
    addresses
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::embedded::{Database, EmbeddedDirectoryStore, EmbeddedNotificationStore, EmbeddedPublication, EmbeddedQueue, EmbeddedTypeStore};
    use crate::domain::{GroupName, ManualClock, UserId};

    /// A new notification is published in one write where the store offers
    /// it (stored once: version 1), and step by step (created, then marked
    /// published: version 2) past `max_atomic_deliveries`; either way with
    /// every delivery queued once.
    #[tokio::test]
    async fn a_publication_is_one_write_up_to_its_limit() {
        let db = Database::in_memory();
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new());
        let store: Arc<dyn NotificationStore> = Arc::new(EmbeddedNotificationStore::new(db.clone()));
        let directory: Arc<dyn DirectoryStore> = Arc::new(EmbeddedDirectoryStore::new(db.clone()));
        let queue = Arc::new(EmbeddedQueue::new(db.clone(), clock.clone(), 5));
        let publication: Arc<dyn Publication> = Arc::new(EmbeddedPublication::new(db.clone(), queue.clone()));
        let settings = NotifierSettings { max_atomic_deliveries: 2, ..NotifierSettings::default() };
        let types = Types::new(Arc::new(EmbeddedTypeStore::new(db.clone())), 100);
        let notifier = Notifier::new(store.clone(), directory.clone(), types, queue.clone(), Some(publication), clock, settings);
        let tenant = TenantId::parse("demo").unwrap();
        for (id, group) in [("1", "small"), ("2", "small"), ("3", "large"), ("4", "large"), ("5", "large")] {
            let user = User {
                id: UserId::parse(id).unwrap(),
                login: format!("u{id}"),
                email: None,
                active: true,
                groups: vec![GroupName::parse(group).unwrap()],
                companies: vec![],
                follower: None,
                account_type: None,
                locale: None,
                timezone: None,
                contacts: vec![],
            };
            directory.put_user(&tenant, &user).await.unwrap();
        }
        let digest = |group: &str| Notification {
            id: NotificationId::derived(group),
            tenant: tenant.clone(),
            key: TypeKey::parse("subscription:digest").unwrap(),
            title: "Digest".into(),
            body: "Rows".into(),
            body_html: None,
            channel: Channel::Message,
            status_type: StatusType::Neutral,
            recipients: RecipientSpec { groups: vec![GroupName::parse(group).unwrap()], ..Default::default() },
            due_at: Timestamp::from_millis(0),
            until: None,
            context: None,
            status: NotificationStatus::Publishing,
            revision: 1,
            lease_until: None,
            created_at: Timestamp::from_millis(0),
            published_at: None,
            cancel_reason: None,
            version: 1,
        };
        for (group, recipients, version) in [("small", 2, 1), ("large", 3, 2)] {
            let n = digest(group);
            notifier.publish_new(n.clone()).await.unwrap();
            notifier.publish_new(n.clone()).await.unwrap();
            let stored = store.get(&tenant, &n.id).await.unwrap().expect("stored");
            assert_eq!((stored.status, stored.version), (NotificationStatus::Published, version), "{group}");
            assert_eq!(store.deliveries(&tenant, &n.id).await.unwrap().len(), recipients, "{group}");
        }
        assert_eq!(queue.ready_len().await.unwrap(), 5, "each delivery queued once");
    }
}
