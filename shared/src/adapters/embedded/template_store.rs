use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::domain::{StoreError, TenantId};
use crate::subscriptions::TemplateStore;

/// Tenants' templates in memory.
#[derive(Default)]
pub struct EmbeddedTemplateStore {
    templates: Mutex<HashMap<(TenantId, String), String>>,
}

impl EmbeddedTemplateStore {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl TemplateStore for EmbeddedTemplateStore {
    async fn put_template(&self, tenant: &TenantId, name: &str, source: &str) -> Result<(), StoreError> {
        let mut templates = self.templates.lock().map_err(|_| StoreError::Unavailable("template store lock poisoned".into()))?;
        templates.insert((tenant.clone(), name.to_owned()), source.to_owned());
        Ok(())
    }

    async fn get_template(&self, tenant: &TenantId, name: &str) -> Result<Option<String>, StoreError> {
        let templates = self.templates.lock().map_err(|_| StoreError::Unavailable("template store lock poisoned".into()))?;
        Ok(templates.get(&(tenant.clone(), name.to_owned())).cloned())
    }

    async fn count_templates(&self, tenant: &TenantId, at_most: usize) -> Result<usize, StoreError> {
        let templates = self.templates.lock().map_err(|_| StoreError::Unavailable("template store lock poisoned".into()))?;
        Ok(templates.keys().filter(|(t, _)| t == tenant).take(at_most).count())
    }
}
