//! Resources, records and change logs on the data table. A record and its
//! change-log entry are written in one conditional transaction, so the log
//! holds exactly the saved versions. See docs/data-model.md.
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};

use super::items::{built, document, parse_doc, s, unavailable, DOC_SK};
use super::table::{Expect, Table};
use crate::domain::{RecordId, ResourceName, StoreError, TenantId, Timestamp, WriteError};
use crate::records::{Record, RecordStore, Resource};


#[derive(Clone)]
pub struct DynamoRecordStore {
    table: Table,
}

fn resources_pk(tenant: &TenantId) -> String {
    format!("{tenant}#resources")
}

fn record_pk(tenant: &TenantId, resource: &ResourceName, id: &RecordId) -> String {
    format!("{tenant}#record#{resource}#{id}")
}

fn changes_pk(tenant: &TenantId, resource: &ResourceName) -> String {
    format!("{tenant}#changes#{resource}")
}

fn ms(at: Timestamp) -> String {
    format!("{:013}", at.as_millis().max(0))
}

impl DynamoRecordStore {
    pub fn new(table: Table) -> Self {
        Self { table }
    }
}

#[async_trait]
impl RecordStore for DynamoRecordStore {
    async fn put_resource(&self, tenant: &TenantId, resource: &Resource) -> Result<(), StoreError> {
        self.table.put_any(document(resources_pk(tenant), resource.name.to_string(), resource, 1, None)?).await
    }

    async fn get_resource(&self, tenant: &TenantId, name: &ResourceName) -> Result<Option<Resource>, StoreError> {
        self.table.get_item(resources_pk(tenant), name.as_str()).await?.map(|i| parse_doc(&i)).transpose()
    }

    async fn resources(&self, tenant: &TenantId) -> Result<Vec<Resource>, StoreError> {
        self.table.query_partition(s(resources_pk(tenant))).await?.iter().map(parse_doc).collect()
    }

    async fn get_record(&self, tenant: &TenantId, resource: &ResourceName, id: &RecordId) -> Result<Option<Record>, StoreError> {
        self.table.get_item(record_pk(tenant, resource, id), DOC_SK).await?.map(|i| parse_doc(&i)).transpose()
    }

    async fn save_record(&self, tenant: &TenantId, record: &Record, expected: Option<u64>) -> Result<(), WriteError> {
        let main = document(record_pk(tenant, &record.resource, &record.id), DOC_SK.into(), record, record.version, None)?;
        let expires = record.modified_on.plus(crate::records::CHANGE_LOG_RETENTION);
        let sk = format!("{}#{}#{:020}", ms(record.modified_on), record.id, record.version);
        let entry = document(changes_pk(tenant, &record.resource), sk, record, record.version, Some(expires))?;
        let expect = Expect::absent_or(expected);
        let record_put = Put::builder().set_item(Some(main)).table_name(&self.table.name).condition_expression(expect.condition());
        let record_put = built(record_put.set_expression_attribute_values(expect.values()).build())?;
        let entry_put = built(Put::builder().set_item(Some(entry)).table_name(&self.table.name).build())?;
        self.table.requests.add(1);
        let written = self
            .table
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(record_put).build())
            .transact_items(TransactWriteItem::builder().put(entry_put).build())
            .send()
            .await;
        match written {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_transaction_canceled_exception()) => Err(WriteError::Conflict),
            Err(e) => Err(WriteError::Store(unavailable(e))),
        }
    }

    async fn changes(&self, tenant: &TenantId, resource: &ResourceName, from: Timestamp, to: Timestamp) -> Result<Vec<Record>, StoreError> {
        if to <= from {
            return Ok(Vec::new());
        }
        let mut records = Vec::new();
        let mut start = None;
        loop {
            self.table.requests.add(1);
            // Entries are `{ms}#{id}#{version}`: from `{from}` up to, not
            // including, `{to}`.
            let out = self
                .table
                .client
                .query()
                .table_name(&self.table.name)
                .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
                .expression_attribute_values(":pk", s(changes_pk(tenant, resource)))
                .expression_attribute_values(":from", s(ms(from)))
                .expression_attribute_values(":to", s(format!("{}#", ms(Timestamp::from_millis(to.as_millis() - 1))) + "~"))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(unavailable)?;
            for item in out.items.unwrap_or_default() {
                records.push(parse_doc(&item)?);
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(records),
            }
        }
    }
}
