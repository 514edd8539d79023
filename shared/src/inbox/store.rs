//! The inbox store port: one partition per user, items newest first.
use async_trait::async_trait;

use super::model::{InboxId, InboxItem};
use crate::domain::{StoreError, TenantId, UserId, WriteError};

#[async_trait]
pub trait InboxStore: Send + Sync {
    /// Creates the item unless one with its id exists; `false` if it did.
    async fn insert(&self, item: &InboxItem) -> Result<bool, StoreError>;
    async fn get(&self, tenant: &TenantId, user: &UserId, id: &InboxId) -> Result<Option<InboxItem>, StoreError>;
    /// Up to `limit` items older than `before` (all if `None`), newest first.
    async fn page(&self, tenant: &TenantId, user: &UserId, before: Option<&InboxId>, limit: usize) -> Result<Vec<InboxItem>, StoreError>;
    /// Replaces the item stored at version `expected`.
    async fn replace(&self, item: &InboxItem, expected: u64) -> Result<(), WriteError>;
    /// `false` if there was nothing to delete.
    async fn delete(&self, tenant: &TenantId, user: &UserId, id: &InboxId) -> Result<bool, StoreError>;
}
