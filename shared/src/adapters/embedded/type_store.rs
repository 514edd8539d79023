use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::domain::{StoreError, TenantId};
use crate::notifications::{NotificationType, TypeKey, TypeStore};

/// Tenants' notification types in memory.
#[derive(Default)]
pub struct EmbeddedTypeStore {
    tenants: Mutex<HashMap<TenantId, BTreeMap<TypeKey, NotificationType>>>,
}

impl EmbeddedTypeStore {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl TypeStore for EmbeddedTypeStore {
    async fn put_type(&self, tenant: &TenantId, notification_type: &NotificationType) -> Result<(), StoreError> {
        let mut tenants = self.tenants.lock().map_err(|_| StoreError::Unavailable("type store lock poisoned".into()))?;
        tenants.entry(tenant.clone()).or_default().insert(notification_type.key.clone(), notification_type.clone());
        Ok(())
    }

    async fn tenant_types(&self, tenant: &TenantId) -> Result<Vec<NotificationType>, StoreError> {
        let tenants = self.tenants.lock().map_err(|_| StoreError::Unavailable("type store lock poisoned".into()))?;
        Ok(tenants.get(tenant).map(|types| types.values().cloned().collect()).unwrap_or_default())
    }
}
