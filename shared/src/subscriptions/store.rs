//! The subscription store port.
use async_trait::async_trait;

use super::model::{Subscriber, Subscription};
use crate::domain::{StoreError, SubscriptionId, TenantId, Timestamp, WriteError};

#[async_trait]
pub trait SubscriptionStore: Send + Sync {
    /// Creates (`expected` = `None`) or replaces the subscription stored at
    /// version `expected`; keeps the subscriber's list and the due index.
    async fn save(&self, subscription: &Subscription, expected: Option<u64>) -> Result<(), WriteError>;
    async fn get(&self, tenant: &TenantId, id: &SubscriptionId) -> Result<Option<Subscription>, StoreError>;
    /// Deletes the subscription stored at version `expected`.
    async fn delete(&self, subscription: &Subscription, expected: u64) -> Result<(), WriteError>;
    /// A subscriber's subscriptions.
    async fn of_subscriber(&self, tenant: &TenantId, subscriber: &Subscriber) -> Result<Vec<Subscription>, StoreError>;
    /// Scheduled subscriptions whose `due_index_at` (next check, or the end
    /// of a check's lease) is at or before `now`, oldest first, across
    /// tenants (an index, never a scan).
    async fn due(&self, now: Timestamp, limit: usize) -> Result<Vec<(TenantId, SubscriptionId)>, StoreError>;
}
