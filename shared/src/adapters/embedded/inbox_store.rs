use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use crate::domain::{StoreError, TenantId, UserId, WriteError};
use crate::inbox::{InboxId, InboxItem, InboxStore};

type Partitions = HashMap<(TenantId, UserId), BTreeMap<InboxId, InboxItem>>;

/// Inboxes in memory: one ordered map per user.
#[derive(Default)]
pub struct EmbeddedInboxStore {
    users: Mutex<Partitions>,
}

impl EmbeddedInboxStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<MutexGuard<'_, Partitions>, StoreError> {
        self.users.lock().map_err(|_| StoreError::Unavailable("inbox store lock poisoned".into()))
    }
}

#[async_trait]
impl InboxStore for EmbeddedInboxStore {
    async fn insert(&self, item: &InboxItem) -> Result<bool, StoreError> {
        let mut users = self.lock()?;
        let inbox = users.entry((item.tenant.clone(), item.user.clone())).or_default();
        if inbox.contains_key(&item.id) {
            return Ok(false);
        }
        inbox.insert(item.id.clone(), item.clone());
        Ok(true)
    }

    async fn get(&self, tenant: &TenantId, user: &UserId, id: &InboxId) -> Result<Option<InboxItem>, StoreError> {
        Ok(self.lock()?.get(&(tenant.clone(), user.clone())).and_then(|inbox| inbox.get(id)).cloned())
    }

    async fn page(&self, tenant: &TenantId, user: &UserId, before: Option<&InboxId>, limit: usize) -> Result<Vec<InboxItem>, StoreError> {
        let users = self.lock()?;
        let Some(inbox) = users.get(&(tenant.clone(), user.clone())) else { return Ok(Vec::new()) };
        let older = match before {
            Some(before) => inbox.range(..before.clone()),
            None => inbox.range(..),
        };
        Ok(older.rev().take(limit).map(|(_, item)| item.clone()).collect())
    }

    async fn replace(&self, item: &InboxItem, expected: u64) -> Result<(), WriteError> {
        let mut users = self.lock()?;
        match users.get_mut(&(item.tenant.clone(), item.user.clone())).and_then(|inbox| inbox.get_mut(&item.id)) {
            Some(stored) if stored.version == expected => {
                *stored = item.clone();
                Ok(())
            }
            _ => Err(WriteError::Conflict),
        }
    }

    async fn delete(&self, tenant: &TenantId, user: &UserId, id: &InboxId) -> Result<bool, StoreError> {
        Ok(self.lock()?.get_mut(&(tenant.clone(), user.clone())).and_then(|inbox| inbox.remove(id)).is_some())
    }
}
