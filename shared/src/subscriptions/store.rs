//! The subscription store port.
use async_trait::async_trait;

use super::model::{Subscriber, Subscription};
use crate::domain::{StoreError, SubscriptionId, TenantId, Timestamp, WriteError};

/// Gets of [`SubscriptionStore::get_many`]'s default in flight at once.
const GETS_AT_ONCE: usize = 64;

#[async_trait]
pub trait SubscriptionStore: Send + Sync {
    /// Creates (`expected` = `None`) or replaces the subscription stored at
    /// version `expected`; keeps the subscriber's list and the due index.
    async fn save(&self, subscription: &Subscription, expected: Option<u64>) -> Result<(), WriteError>;
    async fn get(&self, tenant: &TenantId, id: &SubscriptionId) -> Result<Option<Subscription>, StoreError>;
    /// The subscriptions of `ids` that exist (a check's due batch, bounded
    /// by its caller), in no particular order. The default gets each, some
    /// at a time; the embedded store reads them all in one read.
    async fn get_many(&self, ids: &[(TenantId, SubscriptionId)]) -> Result<Vec<Subscription>, StoreError> {
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(GETS_AT_ONCE) {
            let gets: Vec<_> = chunk.iter().map(|(tenant, id)| self.get(tenant, id)).collect();
            found.extend(futures::future::try_join_all(gets).await?.into_iter().flatten());
        }
        Ok(found)
    }
    /// Deletes the subscription stored at version `expected`.
    async fn delete(&self, subscription: &Subscription, expected: u64) -> Result<(), WriteError>;
    /// A page of a subscriber's subscriptions: at most `limit`, by id, those
    /// after `after`.
    async fn of_subscriber(&self, tenant: &TenantId, subscriber: &Subscriber, after: Option<&SubscriptionId>, limit: usize) -> Result<Vec<Subscription>, StoreError>;
    /// How many subscriptions the subscriber has, counted up to `at_most`.
    async fn count_of_subscriber(&self, tenant: &TenantId, subscriber: &Subscriber, at_most: usize) -> Result<usize, StoreError>;
    /// Scheduled subscriptions whose `due_index_at` (next check, or the end
    /// of a check's lease) is at or before `now`, oldest first, across
    /// tenants (an index, never a scan).
    async fn due(&self, now: Timestamp, limit: usize) -> Result<Vec<(TenantId, SubscriptionId)>, StoreError>;
}
