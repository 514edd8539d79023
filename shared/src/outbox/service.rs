//! The outbox: takes a delivery key off the queue and delivers it once.
//!
//! queued → sending (conditional write, a lease, one attempt more) → send →
//! sent. A key seen again for a finished item is a no-op. A transient
//! failure puts the item back to queued (the queue retries it) until the
//! attempts run out (failed; the queue moves the message to its DLQ). An
//! email found `sending` after its lease ran out was interrupted between
//! the send and its record: it is marked failed, never sent again, because
//! the first send may have gone out ("no duplicate email, ever"), unless the
//! mailer's sends are idempotent (`Mailer::idempotent`: the local `.eml`
//! mailer), when it is redone.
use std::sync::Arc;
use std::time::Duration;

use super::live::live_message;
use super::mailer::{Email, MailError, Mailer};
use crate::bus::{Bus, ChannelKey};
use crate::domain::{Clock, EmailAddress, StoreError, WriteError};
use crate::inbox::{Inbox, InboxChange, InboxId, InboxItem};
use crate::notifications::{Channel, Delivery, DeliveryKey, DeliveryStatus, Notification, NotificationStatus, NotificationStore, Recipient};

/// How long one run owns a delivery it is sending; the queue hides a
/// received message as long (SQS's visibility timeout).
pub const DELIVERY_LEASE: Duration = Duration::from_secs(60);
/// The longest wait before retrying a failed send.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(15 * 60);
/// A delivery's `last_error` is cut to this: what went wrong, not a dump.
pub const MAX_ERROR_BYTES: usize = 256;

#[derive(Debug, Clone)]
pub struct OutboxSettings {
    pub sender: EmailAddress,
    /// Attempts before an item is failed; the queue's `maxReceiveCount`
    /// should be the same.
    pub max_attempts: u32,
    /// How long one run owns an item it is sending.
    pub lease: Duration,
    /// Finished items are kept this long (TTL).
    pub retention: Duration,
    /// The wait before the first retry of a failed send, doubled for each
    /// one after, up to [`MAX_RETRY_DELAY`]; zero retries at once.
    pub retry_base: Duration,
}

impl OutboxSettings {
    /// How long to wait after the `attempts`-th attempt failed.
    pub fn retry_delay(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(16);
        self.retry_base.saturating_mul(1 << doublings).min(MAX_RETRY_DELAY)
    }
}

/// What kind of failure `error` is ("mail refused: MessageRejected"), for
/// the log: the provider's message may quote the recipient's address, which
/// stays in the delivery's `last_error`, readable by the tenant's admins.
fn error_kind(error: &str) -> String {
    error.splitn(3, ':').take(2).collect::<Vec<_>>().join(":")
}

/// `error` cut to [`MAX_ERROR_BYTES`] on a character boundary.
fn short(error: String) -> String {
    if error.len() <= MAX_ERROR_BYTES {
        return error;
    }
    let mut end = MAX_ERROR_BYTES - 3;
    while !error.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &error[..end])
}

/// What to tell the queue about a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// Delete it: delivered, or nothing (more) to do.
    Done,
    /// Leave it for another attempt (and, after the last, the DLQ), when
    /// the queue shows it again (its visibility timeout, the lease).
    Retry,
    /// Leave it for another attempt this long from now: a failed send,
    /// retried with exponential backoff.
    RetryAfter(Duration),
}

impl Handled {
    /// Whether the message stays on the queue.
    pub fn retries(self) -> bool {
        !matches!(self, Self::Done)
    }
}

#[derive(Clone)]
pub struct Outbox {
    store: Arc<dyn NotificationStore>,
    inbox: Inbox,
    bus: Arc<Bus>,
    mailer: Arc<dyn Mailer>,
    clock: Arc<dyn Clock>,
    settings: OutboxSettings,
}

enum Attempt {
    Delivered { to: String, provider_id: Option<String> },
    NoAddress(String),
    Failed(String),
}

impl Outbox {
    pub fn new(
        store: Arc<dyn NotificationStore>,
        inbox: Inbox,
        bus: Arc<Bus>,
        mailer: Arc<dyn Mailer>,
        clock: Arc<dyn Clock>,
        settings: OutboxSettings,
    ) -> Self {
        Self { store, inbox, bus, mailer, clock, settings }
    }

    /// One queue message (its body is a delivery key in JSON).
    pub async fn handle_message(&self, body: &str) -> Handled {
        let key: DeliveryKey = match serde_json::from_str(body) {
            Ok(key) => key,
            Err(e) => {
                // Left to reach the DLQ, where someone can look at it.
                tracing::error!(error = %e, "outbox message is not a delivery key");
                return Handled::Retry;
            }
        };
        match self.deliver(&key).await {
            Ok(handled) => handled,
            Err(e) => {
                tracing::warn!(delivery = %key, error = %e, "outbox store failure; will retry");
                Handled::Retry
            }
        }
    }

    pub async fn deliver(&self, key: &DeliveryKey) -> Result<Handled, StoreError> {
        let now = self.clock.now();
        let Some(delivery) = self.store.get_delivery(key).await? else {
            tracing::warn!(delivery = %key, "no such delivery; dropped");
            return Ok(Handled::Done);
        };
        match delivery.status {
            DeliveryStatus::Sent | DeliveryStatus::Invalid | DeliveryStatus::Suppressed => return Ok(Handled::Done),
            DeliveryStatus::Failed => return Ok(Handled::Retry),
            // Someone holds it (or held it before a crash): look again when
            // the lease ends, not at once.
            DeliveryStatus::Sending if delivery.lease_until.is_some_and(|l| l > now) => {
                let left = delivery.lease_until.map_or(0, |l| l.as_millis() - now.as_millis());
                return Ok(Handled::RetryAfter(Duration::from_millis(u64::try_from(left).unwrap_or(0))));
            }
            DeliveryStatus::Sending if delivery.channel == Channel::Email && !self.mailer.idempotent() => {
                let error = "interrupted while sending: not sent again, as the first send may have gone out";
                self.finish(&delivery, DeliveryStatus::Failed, Some(error.into()), None, None).await?;
                return Ok(Handled::Retry);
            }
            // In-app items are idempotent, and so are emails of a mailer that
            // sends one per key: an interrupted one is redone.
            DeliveryStatus::Sending | DeliveryStatus::Queued => {}
        }
        let notification = self.store.get(&key.tenant, &key.notification).await?;
        let current = notification.filter(|n| n.revision == key.revision && n.status != NotificationStatus::Cancelled);
        let Some(notification) = current else {
            self.finish(&delivery, DeliveryStatus::Suppressed, Some("the notification was cancelled or superseded".into()), None, None)
                .await?;
            return Ok(Handled::Done);
        };
        let claimed = Delivery {
            status: DeliveryStatus::Sending,
            attempts: delivery.attempts + 1,
            lease_until: Some(now.plus(self.settings.lease)),
            updated_at: now,
            version: delivery.version + 1,
            ..delivery.clone()
        };
        match self.store.update_delivery(&claimed, delivery.version).await {
            Ok(()) => {}
            Err(WriteError::Conflict) => return Ok(Handled::Retry),
            Err(WriteError::Store(e)) => return Err(e),
        }
        let attempt = match claimed.channel {
            Channel::Email => self.send_email(&claimed, &notification).await,
            _ => self.deliver_in_app(&claimed, &notification).await?,
        };
        match attempt {
            Attempt::Delivered { to, provider_id } => {
                self.finish(&claimed, DeliveryStatus::Sent, None, Some(to), provider_id).await?;
                Ok(Handled::Done)
            }
            Attempt::NoAddress(error) => {
                self.finish(&claimed, DeliveryStatus::Invalid, Some(short(error)), None, None).await?;
                Ok(Handled::Done)
            }
            Attempt::Failed(error) if claimed.attempts >= self.settings.max_attempts => {
                let error = short(error);
                tracing::warn!(delivery = %key, attempt = claimed.attempts, error = error_kind(&error), "delivery failed; no attempt left");
                self.finish(&claimed, DeliveryStatus::Failed, Some(error), None, None).await?;
                Ok(Handled::Retry)
            }
            Attempt::Failed(error) => {
                let error = short(error);
                let delay = self.settings.retry_delay(claimed.attempts);
                tracing::warn!(delivery = %key, attempt = claimed.attempts, max_attempts = self.settings.max_attempts, retry_in_secs = delay.as_secs(), error = error_kind(&error), "delivery attempt failed; will retry");
                let later = self.clock.now();
                let queued = Delivery {
                    status: DeliveryStatus::Queued,
                    lease_until: None,
                    last_error: Some(error),
                    updated_at: later,
                    version: claimed.version + 1,
                    ..claimed.clone()
                };
                match self.store.update_delivery(&queued, claimed.version).await {
                    Ok(()) | Err(WriteError::Conflict) => Ok(Handled::RetryAfter(delay)),
                    Err(WriteError::Store(e)) => Err(e),
                }
            }
        }
    }

    async fn finish(
        &self,
        from: &Delivery,
        status: DeliveryStatus,
        error: Option<String>,
        delivered_to: Option<String>,
        provider_id: Option<String>,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        let done = Delivery {
            status,
            lease_until: None,
            last_error: error.or_else(|| from.last_error.clone()),
            delivered_to,
            provider_id,
            updated_at: now,
            expires_at: Some(now.plus(self.settings.retention)),
            version: from.version + 1,
            ..from.clone()
        };
        match self.store.update_delivery(&done, from.version).await {
            // Someone else moved it on (a lease taken over): theirs stands.
            Ok(()) | Err(WriteError::Conflict) => Ok(()),
            Err(WriteError::Store(e)) => Err(e),
        }
    }

    async fn send_email(&self, delivery: &Delivery, notification: &Notification) -> Attempt {
        if delivery.addresses.is_empty() {
            return Attempt::NoAddress("the recipient has no email address".into());
        }
        let mut refusals = Vec::new();
        for address in &delivery.addresses {
            let email = Email {
                key: format!("{}/{address}", delivery.key),
                from: self.settings.sender.clone(),
                to: address.clone(),
                subject: notification.title.clone(),
                text: Some(notification.body.clone()).filter(|b| !b.is_empty() || notification.body_html.is_none()),
                html: notification.body_html.clone(),
            };
            match self.mailer.send(&email).await {
                Ok(provider_id) => return Attempt::Delivered { to: address.to_string(), provider_id: Some(provider_id) },
                Err(MailError::AddressRefused(why)) => refusals.push(format!("{address}: {why}")),
                Err(e) => return Attempt::Failed(e.to_string()),
            }
        }
        Attempt::NoAddress(format!("every address was refused: {}", refusals.join("; ")))
    }

    /// The inbox item (created once: its id is the delivery's) and a live
    /// `user-notification` message on the user's `notification:<uid>`.
    async fn deliver_in_app(&self, delivery: &Delivery, notification: &Notification) -> Result<Attempt, StoreError> {
        let Recipient::User(user) = &delivery.key.recipient else {
            return Ok(Attempt::NoAddress("in-app deliveries go to users".into()));
        };
        let created_at = notification.published_at.unwrap_or(delivery.created_at);
        let item = InboxItem {
            id: InboxId::new(created_at, &notification.id, notification.revision),
            tenant: notification.tenant.clone(),
            user: user.clone(),
            notification: notification.id.clone(),
            key: notification.key.clone(),
            channel: notification.channel,
            status_type: notification.status_type,
            title: notification.title.clone(),
            body: notification.body.clone(),
            body_html: notification.body_html.clone(),
            context: notification.context.clone(),
            created_at,
            due_at: created_at,
            read_at: None,
            expires_at: None,
            push_when_due: false,
            version: 1,
        };
        self.inbox.add(&item).await?;
        // A republication replaces the item of the revision it supersedes.
        let replaced = if notification.revision > 1 { self.inbox.remove_superseded(&notification.tenant, user, &item).await? } else { Vec::new() };
        let count = self.inbox.unread_count(&notification.tenant, user).await?;
        let change = (!replaced.is_empty()).then_some(InboxChange::Deleted(replaced));
        let message = live_message(count, std::slice::from_ref(&item), change.as_ref());
        self.bus.publish(&notification.tenant, &ChannelKey::notification(user), &message).await?;
        Ok(Attempt::Delivered { to: item.id.to_string(), provider_id: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_the_cap() {
        let settings = OutboxSettings {
            sender: EmailAddress::parse("herald@example.com").unwrap(),
            max_attempts: 30,
            lease: DELIVERY_LEASE,
            retention: Duration::from_secs(60),
            retry_base: Duration::from_secs(30),
        };
        let delays: Vec<u64> = (1..=7).map(|n| settings.retry_delay(n).as_secs()).collect();
        assert_eq!(delays, [30, 60, 120, 240, 480, 900, 900]);
        assert_eq!(settings.retry_delay(u32::MAX), MAX_RETRY_DELAY);
        assert_eq!(OutboxSettings { retry_base: Duration::ZERO, ..settings }.retry_delay(3), Duration::ZERO);
    }

    #[test]
    fn the_log_keeps_the_kind_of_error_not_its_message() {
        assert_eq!(error_kind("mail refused: MessageRejected: Email address is not verified: a@b.example"), "mail refused: MessageRejected");
        assert_eq!(error_kind("temporary mail failure"), "temporary mail failure");
    }

    #[test]
    fn errors_are_cut_on_a_character_boundary() {
        assert_eq!(short("short".into()), "short");
        let long = short("é".repeat(400));
        assert!(long.len() <= MAX_ERROR_BYTES && long.ends_with("..."), "{}", long.len());
    }
}
