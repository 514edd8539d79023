//! The type store port: a tenant's own notification types.
use async_trait::async_trait;

use super::model::NotificationType;
use crate::domain::{StoreError, TenantId};

/// A tenant's own types (overrides and additions to the defaults).
#[async_trait]
pub trait TypeStore: Send + Sync {
    async fn put_type(&self, tenant: &TenantId, notification_type: &NotificationType) -> Result<(), StoreError>;
    /// The tenant's own types, by key.
    async fn tenant_types(&self, tenant: &TenantId) -> Result<Vec<NotificationType>, StoreError>;
}
