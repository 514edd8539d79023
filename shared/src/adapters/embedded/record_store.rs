use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use crate::domain::{RecordId, ResourceName, StoreError, TenantId, Timestamp, WriteError};
use crate::records::{Record, RecordStore, Resource};

type ResourceKey = (TenantId, ResourceName);

#[derive(Default)]
struct State {
    resources: HashMap<TenantId, BTreeMap<ResourceName, Resource>>,
    records: HashMap<(TenantId, ResourceName, RecordId), Record>,
    /// Per resource, every saved version by (modified_on, write order).
    changes: HashMap<ResourceKey, BTreeMap<(Timestamp, u64), Record>>,
    writes: u64,
}

/// Resources, records and change logs in memory.
#[derive(Default)]
pub struct EmbeddedRecordStore {
    state: Mutex<State>,
}

impl EmbeddedRecordStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<MutexGuard<'_, State>, StoreError> {
        self.state.lock().map_err(|_| StoreError::Unavailable("record store lock poisoned".into()))
    }
}

#[async_trait]
impl RecordStore for EmbeddedRecordStore {
    async fn put_resource(&self, tenant: &TenantId, resource: &Resource) -> Result<(), StoreError> {
        self.lock()?.resources.entry(tenant.clone()).or_default().insert(resource.name.clone(), resource.clone());
        Ok(())
    }

    async fn get_resource(&self, tenant: &TenantId, name: &ResourceName) -> Result<Option<Resource>, StoreError> {
        Ok(self.lock()?.resources.get(tenant).and_then(|r| r.get(name)).cloned())
    }

    async fn resources(&self, tenant: &TenantId) -> Result<Vec<Resource>, StoreError> {
        Ok(self.lock()?.resources.get(tenant).map(|r| r.values().cloned().collect()).unwrap_or_default())
    }

    async fn get_record(&self, tenant: &TenantId, resource: &ResourceName, id: &RecordId) -> Result<Option<Record>, StoreError> {
        Ok(self.lock()?.records.get(&(tenant.clone(), resource.clone(), id.clone())).cloned())
    }

    async fn save_record(&self, tenant: &TenantId, record: &Record, expected: Option<u64>) -> Result<(), WriteError> {
        let mut state = self.lock()?;
        let key = (tenant.clone(), record.resource.clone(), record.id.clone());
        if state.records.get(&key).map(|r| r.version) != expected {
            return Err(WriteError::Conflict);
        }
        state.records.insert(key, record.clone());
        state.writes += 1;
        let order = state.writes;
        state.changes.entry((tenant.clone(), record.resource.clone())).or_default().insert((record.modified_on, order), record.clone());
        Ok(())
    }

    async fn changes(&self, tenant: &TenantId, resource: &ResourceName, from: Timestamp, to: Timestamp) -> Result<Vec<Record>, StoreError> {
        let state = self.lock()?;
        let Some(log) = state.changes.get(&(tenant.clone(), resource.clone())) else { return Ok(Vec::new()) };
        if to <= from {
            return Ok(Vec::new());
        }
        Ok(log.range((from, 0)..(to, 0)).map(|(_, r)| r.clone()).collect())
    }
}
