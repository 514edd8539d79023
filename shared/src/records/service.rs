//! Resources and reported record changes. Every rule a resource must meet
//! is checked here. Herald stamps `created_on` the first time it sees a
//! record and `modified_on` on every change; a report that changes nothing
//! is not a change (so it never notifies anyone).
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::model::{
    Acl, NotifyField, Record, Resource, MAX_ACL_ENTRIES, MAX_FIELDS_BYTES, MAX_NOTIFY_FIELDS, MAX_NOTIFY_FIELD_LABEL_BYTES, MAX_NOTIFY_FIELD_NAME_BYTES,
    MAX_NOTIFY_TEMPLATE_BYTES, MAX_RESOURCE_TEXT_BYTES,
};
use super::store::RecordStore;
use crate::domain::paging::{self, Page};
use crate::domain::{Clock, RecordId, ResourceName, StoreError, TenantId, Timestamp, WriteError};

pub const MAX_BATCH: usize = 100;

/// A record as an application reports it.
#[derive(Debug, Clone)]
pub struct RecordReport {
    pub id: RecordId,
    pub fields: Map<String, Value>,
    pub acl: Acl,
    pub deleted: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
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
    #[error("{0}")]
    QuotaExceeded(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A resource as an application describes it (`PUT /{db}/resources/{name}`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceRequest {
    pub title: String,
    #[serde(default)]
    pub notify_fields: Vec<NotifyField>,
    #[serde(default)]
    pub notify_template: Option<String>,
    #[serde(default)]
    pub notify_subject: Option<String>,
    #[serde(default)]
    pub page_url: Option<String>,
    #[serde(default)]
    pub item_url: Option<String>,
}

/// A subject template may use `{system}` and `{resource}`, nothing else.
fn check_subject(template: &str) -> Result<(), String> {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or("notify_subject has an unclosed '{'")?;
        match &after[..close] {
            "system" | "resource" => rest = &after[close + 1..],
            other => return Err(format!("notify_subject may use {{system}} and {{resource}}, not {{{other}}}")),
        }
    }
    Ok(())
}

fn text_ok(name: &str, value: &str) -> Result<(), RecordError> {
    if value.len() > MAX_RESOURCE_TEXT_BYTES {
        return Err(RecordError::Invalid(format!("{name} is over {MAX_RESOURCE_TEXT_BYTES} bytes")));
    }
    Ok(())
}

impl ResourceRequest {
    /// The resource `name` this describes, if it meets every rule.
    fn into_resource(self, name: ResourceName) -> Result<Resource, RecordError> {
        let invalid = |m: &str| Err(RecordError::Invalid(m.to_owned()));
        if self.title.trim().is_empty() {
            return invalid("title must not be empty");
        }
        text_ok("title", &self.title)?;
        if self.notify_fields.len() > MAX_NOTIFY_FIELDS {
            return Err(RecordError::Invalid(format!("at most {MAX_NOTIFY_FIELDS} notify_fields")));
        }
        for field in &self.notify_fields {
            if field.name.is_empty() || field.name.len() > MAX_NOTIFY_FIELD_NAME_BYTES || field.label.len() > MAX_NOTIFY_FIELD_LABEL_BYTES {
                return invalid("a notify field has a name of 1 to 64 bytes and a label of at most 256");
            }
        }
        let prefix = self.notify_template.unwrap_or_else(|| "notify".to_owned());
        if prefix.is_empty() || prefix.len() > MAX_NOTIFY_TEMPLATE_BYTES || !prefix.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
            return invalid("notify_template is 1 to 64 characters of a-z, 0-9 and '_'");
        }
        if let Some(subject) = &self.notify_subject {
            text_ok("notify_subject", subject)?;
            check_subject(subject).map_err(RecordError::Invalid)?;
        }
        for (field, value) in [("page_url", &self.page_url), ("item_url", &self.item_url)] {
            if let Some(value) = value {
                text_ok(field, value)?;
            }
        }
        Ok(Resource {
            name,
            title: self.title,
            notify_fields: self.notify_fields,
            notify_template: prefix,
            notify_subject: self.notify_subject,
            page_url: self.page_url,
            item_url: self.item_url,
        })
    }
}

#[derive(Clone)]
pub struct Records {
    store: Arc<dyn RecordStore>,
    clock: Arc<dyn Clock>,
    /// How many resources a tenant may register
    /// (`HERALD_MAX_RESOURCES_PER_TENANT`).
    max_resources: usize,
}

impl Records {
    pub fn new(store: Arc<dyn RecordStore>, clock: Arc<dyn Clock>, max_resources: usize) -> Self {
        Self { store, clock, max_resources }
    }

    /// Creates or replaces resource `name`.
    pub async fn put_resource(&self, tenant: &TenantId, name: ResourceName, request: ResourceRequest) -> Result<Resource, RecordError> {
        let resource = request.into_resource(name)?;
        let registered = self.store.resources(tenant).await?;
        if registered.len() >= self.max_resources && !registered.iter().any(|r| r.name == resource.name) {
            return Err(RecordError::QuotaExceeded(format!("the tenant has {} resources, the most it may register", self.max_resources)));
        }
        self.store.put_resource(tenant, &resource).await?;
        Ok(resource)
    }

    /// A page of the tenant's resources (as many as its quota), by name.
    pub async fn resources(&self, tenant: &TenantId, after: Option<&str>, limit: usize) -> Result<Page<Resource>, StoreError> {
        Ok(paging::page(self.store.resources(tenant).await?, |r| r.name.to_string(), after, limit))
    }

    /// The record as last reported (a deleted one too).
    pub async fn record(&self, tenant: &TenantId, resource: &ResourceName, id: &RecordId) -> Result<Record, RecordError> {
        self.store.get_record(tenant, resource, id).await?.ok_or_else(|| RecordError::NotFound(id.clone()))
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

    /// Up to 100 reports of one resource; all are checked before any is
    /// saved, the deletion of a record never reported included (records are
    /// never removed, so one found here is still there when it is saved). A
    /// store failing mid-batch may leave a prefix saved: the same batch sent
    /// again saves the rest, the saved ones being unchanged.
    pub async fn report_batch(&self, tenant: &TenantId, resource: &ResourceName, reports: Vec<RecordReport>) -> Result<Vec<(Record, Change)>, RecordError> {
        if reports.len() > MAX_BATCH {
            return Err(RecordError::Invalid(format!("at most {MAX_BATCH} records per request")));
        }
        let mut ids = std::collections::HashSet::with_capacity(reports.len());
        for report in &reports {
            Self::validate(report)?;
            if !ids.insert(&report.id) {
                return Err(RecordError::Invalid(format!("record {} appears twice in the batch", report.id)));
            }
        }
        self.resource(tenant, resource).await?;
        for report in reports.iter().filter(|r| r.deleted) {
            if self.store.get_record(tenant, resource, &report.id).await?.is_none() {
                return Err(RecordError::NotFound(report.id.clone()));
            }
        }
        let mut saved = Vec::with_capacity(reports.len());
        for report in &reports {
            saved.push(self.save(tenant, resource, report).await?);
        }
        Ok(saved)
    }
}
