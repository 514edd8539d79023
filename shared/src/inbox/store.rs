//! The inbox store port: one partition per user, items newest first.
use async_trait::async_trait;

use super::model::{InboxId, InboxItem};
use crate::domain::{StoreError, TenantId, Timestamp, UserId, WriteError};

#[async_trait]
pub trait InboxStore: Send + Sync {
    /// Creates the item unless one with its id exists; `false` if it did.
    async fn insert(&self, item: &InboxItem) -> Result<bool, StoreError>;
    async fn get(&self, tenant: &TenantId, user: &UserId, id: &InboxId) -> Result<Option<InboxItem>, StoreError>;
    /// Up to `limit` items older than `before` (all if `None`), newest first.
    async fn page(&self, tenant: &TenantId, user: &UserId, before: Option<&InboxId>, limit: usize) -> Result<Vec<InboxItem>, StoreError>;
    /// Up to `limit` items whose [`InboxItem::due_index_at`] is at or before
    /// `now`, earliest first, across every tenant (the due index). An index
    /// that lags may list fewer: fewer than `limit` is not the end.
    async fn due_items(&self, now: Timestamp, limit: usize) -> Result<Vec<InboxItem>, StoreError>;
    /// Replaces the item stored at version `expected` (and its entry in the
    /// due index with it).
    async fn replace(&self, item: &InboxItem, expected: u64) -> Result<(), WriteError>;
    /// `false` if there was nothing to delete.
    async fn delete(&self, tenant: &TenantId, user: &UserId, id: &InboxId) -> Result<bool, StoreError>;
}
