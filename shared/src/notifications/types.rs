//! Notification types: a key (`message:internal`, `task:status:valid`, ...)
//! naming a label, a default channel and a status type (the models are in
//! `model.rs`). Herald ships defaults; a tenant's own entries override them.
//! `Types` owns their rules.
use std::sync::Arc;

use serde::Deserialize;

use super::model::{effective_types, Channel, NotificationType, StatusType, TypeKey};
use super::type_store::TypeStore;
use crate::domain::paging::{self, Page};
use crate::domain::{StoreError, TenantId};

/// Longest label of a type.
pub const MAX_LABEL_BYTES: usize = 256;

/// A type as a tenant defines it (`PUT /{db}/types/{key}`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TypeRequest {
    pub label: String,
    pub default_channel: Channel,
    pub status_type: StatusType,
}

#[derive(Debug, thiserror::Error)]
pub enum TypeError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    QuotaExceeded(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The notification types of each tenant: its own over the defaults.
#[derive(Clone)]
pub struct Types {
    store: Arc<dyn TypeStore>,
    /// How many types of its own a tenant may have
    /// (`HERALD_MAX_TYPES_PER_TENANT`).
    max_per_tenant: usize,
}

impl Types {
    pub fn new(store: Arc<dyn TypeStore>, max_per_tenant: usize) -> Self {
        Self { store, max_per_tenant }
    }

    /// Creates or replaces the tenant's type `key`.
    pub async fn put(&self, tenant: &TenantId, key: TypeKey, request: TypeRequest) -> Result<NotificationType, TypeError> {
        if request.label.trim().is_empty() || request.label.len() > MAX_LABEL_BYTES {
            return Err(TypeError::Invalid(format!("label must be 1 to {MAX_LABEL_BYTES} bytes")));
        }
        let own = self.store.tenant_types(tenant).await?;
        if own.len() >= self.max_per_tenant && !own.iter().any(|t| t.key == key) {
            return Err(TypeError::QuotaExceeded(format!("the tenant has {} types of its own, the most it may have", self.max_per_tenant)));
        }
        let notification_type = NotificationType { key, label: request.label, default_channel: request.default_channel, status_type: request.status_type };
        self.store.put_type(tenant, &notification_type).await?;
        Ok(notification_type)
    }

    /// Every type the tenant has: the defaults overridden by its own, by key.
    pub async fn list(&self, tenant: &TenantId) -> Result<Vec<NotificationType>, StoreError> {
        Ok(effective_types(self.store.tenant_types(tenant).await?))
    }

    /// A page of them, by key.
    pub async fn page(&self, tenant: &TenantId, after: Option<&str>, limit: usize) -> Result<Page<NotificationType>, StoreError> {
        Ok(paging::page(self.list(tenant).await?, |t| t.key.to_string(), after, limit))
    }

    /// The tenant's type `key` (its own, else a default), if there is one.
    pub async fn find(&self, tenant: &TenantId, key: &TypeKey) -> Result<Option<NotificationType>, StoreError> {
        Ok(self.list(tenant).await?.into_iter().find(|t| &t.key == key))
    }
}
