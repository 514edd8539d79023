//! The template store port: tenants' own message templates.
use async_trait::async_trait;

use crate::domain::{StoreError, TenantId};

/// Tenants' own templates, by name.
#[async_trait]
pub trait TemplateStore: Send + Sync {
    async fn put_template(&self, tenant: &TenantId, name: &str, source: &str) -> Result<(), StoreError>;
    async fn get_template(&self, tenant: &TenantId, name: &str) -> Result<Option<String>, StoreError>;
    /// How many templates the tenant has, counted up to `at_most`.
    async fn count_templates(&self, tenant: &TenantId, at_most: usize) -> Result<usize, StoreError>;
}
