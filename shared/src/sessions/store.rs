//! The mirrored sessions' port.
use async_trait::async_trait;

use super::model::{KeyHash, MirroredSession};
use crate::domain::{StoreError, TenantId, Timestamp, UserId};

#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores the session, replacing one with the same tenant, user and hash.
    async fn put(&self, session: &MirroredSession) -> Result<(), StoreError>;
    async fn get(&self, tenant: &TenantId, user: &UserId, key_hash: &KeyHash) -> Result<Option<MirroredSession>, StoreError>;
    /// Removes one; false if it was not there.
    async fn delete(&self, tenant: &TenantId, user: &UserId, key_hash: &KeyHash) -> Result<bool, StoreError>;
    /// A page of the tenant's sessions, by user then hash, after `after`.
    async fn page(&self, tenant: &TenantId, after: Option<(&UserId, &KeyHash)>, limit: usize) -> Result<Vec<MirroredSession>, StoreError>;
    /// A page of one user's sessions (at most `limit`).
    async fn of_user(&self, tenant: &TenantId, user: &UserId, limit: usize) -> Result<Vec<MirroredSession>, StoreError>;
}

/// Whether a stored session is live at `now`.
pub fn live(session: &MirroredSession, now: Timestamp) -> bool {
    session.expires_at > now
}
