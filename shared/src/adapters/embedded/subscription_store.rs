use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use crate::domain::{StoreError, SubscriptionId, TenantId, Timestamp, WriteError};
use crate::subscriptions::{Subscriber, Subscription, SubscriptionStore};

#[derive(Default)]
struct State {
    subscriptions: HashMap<(TenantId, SubscriptionId), Subscription>,
    due: BTreeSet<(Timestamp, TenantId, SubscriptionId)>,
}

/// Subscriptions in memory, with the DynamoDB store's conditions.
#[derive(Default)]
pub struct EmbeddedSubscriptionStore {
    state: Mutex<State>,
}

impl EmbeddedSubscriptionStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<MutexGuard<'_, State>, StoreError> {
        self.state.lock().map_err(|_| StoreError::Unavailable("subscription store lock poisoned".into()))
    }
}

fn due_key(s: &Subscription) -> Option<(Timestamp, TenantId, SubscriptionId)> {
    s.due_index_at().map(|at| (at, s.tenant.clone(), s.id.clone()))
}

#[async_trait]
impl SubscriptionStore for EmbeddedSubscriptionStore {
    async fn save(&self, subscription: &Subscription, expected: Option<u64>) -> Result<(), WriteError> {
        let mut state = self.lock()?;
        let key = (subscription.tenant.clone(), subscription.id.clone());
        let stored = state.subscriptions.get(&key).cloned();
        if stored.as_ref().map(|s| s.version) != expected {
            return Err(WriteError::Conflict);
        }
        if let Some(old) = stored.as_ref().and_then(due_key) {
            state.due.remove(&old);
        }
        if let Some(new) = due_key(subscription) {
            state.due.insert(new);
        }
        state.subscriptions.insert(key, subscription.clone());
        Ok(())
    }

    async fn get(&self, tenant: &TenantId, id: &SubscriptionId) -> Result<Option<Subscription>, StoreError> {
        Ok(self.lock()?.subscriptions.get(&(tenant.clone(), id.clone())).cloned())
    }

    async fn delete(&self, subscription: &Subscription, expected: u64) -> Result<(), WriteError> {
        let mut state = self.lock()?;
        let key = (subscription.tenant.clone(), subscription.id.clone());
        match state.subscriptions.get(&key) {
            Some(stored) if stored.version == expected => {
                if let Some(old) = due_key(stored) {
                    state.due.remove(&old);
                }
                state.subscriptions.remove(&key);
                Ok(())
            }
            _ => Err(WriteError::Conflict),
        }
    }

    async fn of_subscriber(&self, tenant: &TenantId, subscriber: &Subscriber, after: Option<&SubscriptionId>, limit: usize) -> Result<Vec<Subscription>, StoreError> {
        let state = self.lock()?;
        let mut found: Vec<&Subscription> = state
            .subscriptions
            .values()
            .filter(|s| &s.tenant == tenant && &s.subscriber == subscriber && after.is_none_or(|a| &s.id > a))
            .collect();
        found.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(found.into_iter().take(limit).cloned().collect())
    }

    async fn count_of_subscriber(&self, tenant: &TenantId, subscriber: &Subscriber, at_most: usize) -> Result<usize, StoreError> {
        let state = self.lock()?;
        Ok(state.subscriptions.values().filter(|s| &s.tenant == tenant && &s.subscriber == subscriber).take(at_most).count())
    }

    async fn due(&self, now: Timestamp, limit: usize) -> Result<Vec<(TenantId, SubscriptionId)>, StoreError> {
        let state = self.lock()?;
        Ok(state.due.iter().take_while(|(at, _, _)| *at <= now).take(limit).map(|(_, t, id)| (t.clone(), id.clone())).collect())
    }
}
