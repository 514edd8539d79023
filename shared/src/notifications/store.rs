//! The notification store port: notifications, their context and idempotency
//! bindings, and their deliveries (outbox items), which live with them (one
//! partition on DynamoDB). Every write that changes a state is conditioned on
//! the version read, so two writers never both win.
use async_trait::async_trait;

use super::delivery::{Delivery, DeliveryKey};
use super::model::{Context, Notification, NotificationId, TypeKey};
use crate::domain::{StoreError, TenantId, Timestamp, WriteError};

#[async_trait]
pub trait NotificationStore: Send + Sync {
    /// Creates the notification (`expected` = `None`: only if absent) or
    /// replaces the one stored at version `expected`.
    async fn save(&self, notification: &Notification, expected: Option<u64>) -> Result<(), WriteError>;
    async fn get(&self, tenant: &TenantId, id: &NotificationId) -> Result<Option<Notification>, StoreError>;
    /// Notifications awaiting publication whose `due_index_at` (due time, or
    /// the end of a publisher's lease) is at or before `now`, across tenants,
    /// oldest first: from an index, never a scan.
    async fn due(&self, now: Timestamp, limit: usize) -> Result<Vec<(TenantId, NotificationId)>, StoreError>;
    /// The notification bound to `context` and `key`, binding `id` if none is.
    async fn bind_context(&self, tenant: &TenantId, context: &Context, key: &TypeKey, id: &NotificationId) -> Result<NotificationId, StoreError>;
    /// Records `key` for `id` until `expires`, unless it is recorded and
    /// unexpired at `now`: then the notification it names.
    async fn claim_idempotency_key(&self, tenant: &TenantId, key: &str, id: &NotificationId, now: Timestamp, expires: Timestamp) -> Result<Option<NotificationId>, StoreError>;
    /// Creates the delivery unless it exists; `false` if it did.
    async fn create_delivery(&self, delivery: &Delivery) -> Result<bool, StoreError>;
    async fn get_delivery(&self, key: &DeliveryKey) -> Result<Option<Delivery>, StoreError>;
    /// Replaces the delivery stored at version `expected`.
    async fn update_delivery(&self, delivery: &Delivery, expected: u64) -> Result<(), WriteError>;
    /// Every delivery of a notification (all revisions).
    async fn deliveries(&self, tenant: &TenantId, id: &NotificationId) -> Result<Vec<Delivery>, StoreError>;
}

/// A new notification's whole publication in one write, where the
/// notification store and the outbox queue share transactions (the
/// embedded store: one database; the "transactional outbox"). Elsewhere
/// (DynamoDB and SQS) the notifier takes the step-by-step path, in which
/// every step can be retried: created while publishing, deliveries created,
/// keys queued, marked published.
#[async_trait]
pub trait Publication: Send + Sync {
    /// Creates `notification` (already published) unless one with its id
    /// exists, with its `deliveries`, and queues their keys: all or nothing.
    /// False if it existed: then nothing is written.
    async fn create_published(&self, notification: &Notification, deliveries: &[Delivery]) -> Result<bool, StoreError>;
}
