//! Reporting record changes: Herald stamps `created_on` the first time it
//! sees a record and `modified_on` on every change; a report that changes
//! nothing is not a change (so it never notifies anyone).
use std::sync::Arc;

use serde_json::{Map, Value};

use super::model::{Acl, Record, Resource, MAX_ACL_ENTRIES, MAX_FIELDS_BYTES};
use super::store::RecordStore;
use crate::domain::{Clock, RecordId, ResourceName, TenantId, Timestamp};
use crate::ports::{StoreError, WriteError};

pub const MAX_BATCH: usize = 100;

/// A record as an application reports it.
#[derive(Debug, Clone)]
pub struct RecordReport {
    pub id: RecordId,
    pub fields: Map<String, Value>,
    pub acl: Acl,
    pub deleted: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Created,
    Updated,
    Deleted,
    Unchanged,
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("no resource '{0}': register it with PUT /{{db}}/resources/{{name}} first")]
    UnknownResource(ResourceName),
    #[error("no record '{0}'")]
    NotFound(RecordId),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone)]
pub struct Records {
    store: Arc<dyn RecordStore>,
    clock: Arc<dyn Clock>,
}

impl Records {
    pub fn new(store: Arc<dyn RecordStore>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    pub fn store(&self) -> &Arc<dyn RecordStore> {
        &self.store
    }

    pub async fn resource(&self, tenant: &TenantId, name: &ResourceName) -> Result<Resource, RecordError> {
        self.store.get_resource(tenant, name).await?.ok_or_else(|| RecordError::UnknownResource(name.clone()))
    }

    fn validate(report: &RecordReport) -> Result<(), RecordError> {
        let size = serde_json::to_vec(&report.fields).map(|v| v.len()).unwrap_or(usize::MAX);
        if size > MAX_FIELDS_BYTES {
            return Err(RecordError::Invalid(format!("record {}: fields are over {MAX_FIELDS_BYTES} bytes", report.id)));
        }
        if report.acl.entries() > MAX_ACL_ENTRIES {
            return Err(RecordError::Invalid(format!("record {}: at most {MAX_ACL_ENTRIES} acl entries", report.id)));
        }
        Ok(())
    }

    /// Saves one report of a resource already checked to exist.
    async fn save(&self, tenant: &TenantId, resource: &ResourceName, report: &RecordReport) -> Result<(Record, Change), RecordError> {
        for _ in 0..16 {
            let existing = self.store.get_record(tenant, resource, &report.id).await?;
            let now = self.clock.now();
            let change = match &existing {
                None if report.deleted => return Err(RecordError::NotFound(report.id.clone())),
                None => Change::Created,
                Some(r) if r.deleted == report.deleted && r.fields == report.fields && r.acl == report.acl => {
                    return Ok((r.clone(), Change::Unchanged))
                }
                Some(r) if report.deleted && r.deleted => return Ok((r.clone(), Change::Unchanged)),
                Some(_) if report.deleted => Change::Deleted,
                Some(_) => Change::Updated,
            };
            let (fields, acl) = match (&existing, report.deleted) {
                // A deletion keeps the last fields and access.
                (Some(r), true) => (r.fields.clone(), r.acl.clone()),
                _ => (report.fields.clone(), report.acl.clone()),
            };
            let record = Record {
                resource: resource.clone(),
                id: report.id.clone(),
                fields,
                acl,
                created_on: existing.as_ref().map_or(now, |r| r.created_on),
                // Strictly after the previous change, whatever the clocks do.
                modified_on: existing.as_ref().map_or(now, |r| now.max(Timestamp::from_millis(r.modified_on.as_millis() + 1))),
                deleted: report.deleted,
                version: existing.as_ref().map_or(1, |r| r.version + 1),
            };
            match self.store.save_record(tenant, &record, existing.as_ref().map(|r| r.version)).await {
                Ok(()) => return Ok((record, change)),
                Err(WriteError::Conflict) => continue,
                Err(WriteError::Store(e)) => return Err(e.into()),
            }
        }
        Err(StoreError::Contention.into())
    }

    pub async fn report(&self, tenant: &TenantId, resource: &ResourceName, report: RecordReport) -> Result<(Record, Change), RecordError> {
        Self::validate(&report)?;
        self.resource(tenant, resource).await?;
        self.save(tenant, resource, &report).await
    }

    /// Up to 100 reports of one resource; all are checked before any is saved.
    pub async fn report_batch(&self, tenant: &TenantId, resource: &ResourceName, reports: Vec<RecordReport>) -> Result<Vec<(Record, Change)>, RecordError> {
        if reports.len() > MAX_BATCH {
            return Err(RecordError::Invalid(format!("at most {MAX_BATCH} records per request")));
        }
        for report in &reports {
            Self::validate(report)?;
        }
        self.resource(tenant, resource).await?;
        let mut saved = Vec::with_capacity(reports.len());
        for report in &reports {
            saved.push(self.save(tenant, resource, report).await?);
        }
        Ok(saved)
    }
}
