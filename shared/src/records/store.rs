//! The record store port: resources, records, and each resource's change
//! log (every saved version by modification time), which the subscription
//! check reads by time window instead of scanning records.
use async_trait::async_trait;

use super::model::{Record, Resource};
use crate::domain::{RecordId, ResourceName, StoreError, TenantId, Timestamp, WriteError};

/// Change-log entries are kept this long: past the longest digest period
/// (a week) with room for a check that failed for a while. Both adapters
/// expire them then (DynamoDB's TTL, the embedded sweeper).
pub const CHANGE_LOG_RETENTION: std::time::Duration = std::time::Duration::from_secs(35 * 86_400);

#[async_trait]
pub trait RecordStore: Send + Sync {
    async fn put_resource(&self, tenant: &TenantId, resource: &Resource) -> Result<(), StoreError>;
    async fn get_resource(&self, tenant: &TenantId, name: &ResourceName) -> Result<Option<Resource>, StoreError>;
    async fn resources(&self, tenant: &TenantId) -> Result<Vec<Resource>, StoreError>;
    async fn get_record(&self, tenant: &TenantId, resource: &ResourceName, id: &RecordId) -> Result<Option<Record>, StoreError>;
    /// Writes the record if the stored version is `expected` (`None`: absent)
    /// and, atomically with it, its entry in the change log.
    async fn save_record(&self, tenant: &TenantId, record: &Record, expected: Option<u64>) -> Result<(), WriteError>;
    /// The versions saved with `from <= modified_on < to`, oldest first.
    async fn changes(&self, tenant: &TenantId, resource: &ResourceName, from: Timestamp, to: Timestamp) -> Result<Vec<Record>, StoreError>;
}
