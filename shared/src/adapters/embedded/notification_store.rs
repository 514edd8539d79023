use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use crate::domain::{StoreError, TenantId, Timestamp, WriteError};
use crate::notifications::{Context, Delivery, DeliveryKey, Notification, NotificationId, NotificationStore, TypeKey};

type Key = (TenantId, NotificationId);

#[derive(Default)]
struct State {
    notifications: HashMap<Key, Notification>,
    /// (due time, tenant, id) of every notification awaiting publication.
    due: BTreeSet<(Timestamp, TenantId, NotificationId)>,
    contexts: HashMap<(TenantId, String, String, TypeKey), NotificationId>,
    idempotency: HashMap<(TenantId, String), (NotificationId, Timestamp)>,
    deliveries: BTreeMap<DeliveryKey, Delivery>,
}

/// Notifications and deliveries in memory, with the same conditional
/// semantics as the DynamoDB store.
#[derive(Default)]
pub struct EmbeddedNotificationStore {
    state: Mutex<State>,
}

impl EmbeddedNotificationStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<MutexGuard<'_, State>, StoreError> {
        self.state.lock().map_err(|_| StoreError::Unavailable("notification store lock poisoned".into()))
    }
}

#[async_trait]
impl NotificationStore for EmbeddedNotificationStore {
    async fn save(&self, notification: &Notification, expected: Option<u64>) -> Result<(), WriteError> {
        let mut state = self.lock()?;
        let key = (notification.tenant.clone(), notification.id.clone());
        let stored = state.notifications.get(&key).map(|n| (n.version, n.due_index_at()));
        if stored.map(|(v, _)| v) != expected {
            return Err(WriteError::Conflict);
        }
        if let Some((_, Some(at))) = stored {
            state.due.remove(&(at, key.0.clone(), key.1.clone()));
        }
        if let Some(at) = notification.due_index_at() {
            state.due.insert((at, key.0.clone(), key.1.clone()));
        }
        state.notifications.insert(key, notification.clone());
        Ok(())
    }

    async fn get(&self, tenant: &TenantId, id: &NotificationId) -> Result<Option<Notification>, StoreError> {
        Ok(self.lock()?.notifications.get(&(tenant.clone(), id.clone())).cloned())
    }

    async fn due(&self, now: Timestamp, limit: usize) -> Result<Vec<(TenantId, NotificationId)>, StoreError> {
        let state = self.lock()?;
        Ok(state.due.iter().take_while(|(at, _, _)| *at <= now).take(limit).map(|(_, t, id)| (t.clone(), id.clone())).collect())
    }

    async fn bind_context(&self, tenant: &TenantId, context: &Context, key: &TypeKey, id: &NotificationId) -> Result<NotificationId, StoreError> {
        let mut state = self.lock()?;
        let bound = state
            .contexts
            .entry((tenant.clone(), context.table.clone(), context.id.clone(), key.clone()))
            .or_insert_with(|| id.clone());
        Ok(bound.clone())
    }

    async fn claim_idempotency_key(&self, tenant: &TenantId, key: &str, id: &NotificationId, now: Timestamp, expires: Timestamp) -> Result<Option<NotificationId>, StoreError> {
        let mut state = self.lock()?;
        let entry = (tenant.clone(), key.to_owned());
        match state.idempotency.get(&entry) {
            Some((existing, until)) if *until > now => Ok(Some(existing.clone())),
            _ => {
                state.idempotency.insert(entry, (id.clone(), expires));
                Ok(None)
            }
        }
    }

    async fn create_delivery(&self, delivery: &Delivery) -> Result<bool, StoreError> {
        let mut state = self.lock()?;
        if state.deliveries.contains_key(&delivery.key) {
            return Ok(false);
        }
        state.deliveries.insert(delivery.key.clone(), delivery.clone());
        Ok(true)
    }

    async fn get_delivery(&self, key: &DeliveryKey) -> Result<Option<Delivery>, StoreError> {
        Ok(self.lock()?.deliveries.get(key).cloned())
    }

    async fn update_delivery(&self, delivery: &Delivery, expected: u64) -> Result<(), WriteError> {
        let mut state = self.lock()?;
        match state.deliveries.get_mut(&delivery.key) {
            Some(stored) if stored.version == expected => {
                *stored = delivery.clone();
                Ok(())
            }
            _ => Err(WriteError::Conflict),
        }
    }

    async fn deliveries(&self, tenant: &TenantId, id: &NotificationId) -> Result<Vec<Delivery>, StoreError> {
        let state = self.lock()?;
        Ok(state.deliveries.values().filter(|d| &d.key.tenant == tenant && &d.key.notification == id).cloned().collect())
    }
}
