//! Inboxes on the data table: one partition per user
//! (`{tenant}#inbox#{user}`), items sorted by id (creation time first), read
//! newest first with a `Query`. A postponed item whose coming due is still
//! to be pushed carries the keys of the sparse `due` index (kind `inbox`,
//! `due_sk` = `{due ms}#{tenant}#{user}#{id}`). See docs/data-model.md.
use async_trait::async_trait;

use super::items::{due_keys, parse_doc, s, unavailable, Item};
use super::table::{Expect, Table};
use crate::domain::{StoreError, TenantId, Timestamp, UserId, WriteError};
use crate::inbox::{InboxId, InboxItem, InboxStore};

/// The `due` index kind of inbox items (its partitions: `inbox#0` to `inbox#7`).
const DUE_KIND: &str = "inbox";
/// `GetItem`s in flight at once while reading the due index's entries.
const READS_AT_ONCE: usize = 8;

#[derive(Clone)]
pub struct DynamoInboxStore {
    table: Table,
}

fn partition(tenant: &TenantId, user: &UserId) -> String {
    format!("{tenant}#inbox#{user}")
}

impl DynamoInboxStore {
    pub fn new(table: Table) -> Self {
        Self { table }
    }
}

/// The item as stored: its document, TTL and, while marked, due index keys.
fn document(item: &InboxItem) -> Result<Item, StoreError> {
    let mut doc = super::items::document(partition(&item.tenant, &item.user), item.id.to_string(), item, item.version, item.expires_at)?;
    if let Some(at) = item.due_index_at() {
        due_keys(&mut doc, DUE_KIND, at, &item.tenant, &format!("{}#{}", item.user, item.id));
    }
    Ok(doc)
}

/// The user and item of a `due` index entry's `{user}#{id}`.
fn due_entry(entry: &str) -> Result<(UserId, InboxId), StoreError> {
    let corrupt = || StoreError::Corrupt(format!("bad inbox due index entry {entry}"));
    let (user, id) = entry.split_once('#').ok_or_else(corrupt)?;
    Ok((UserId::parse(user).map_err(|_| corrupt())?, InboxId::parse(id).map_err(|_| corrupt())?))
}

#[async_trait]
impl InboxStore for DynamoInboxStore {
    async fn insert(&self, item: &InboxItem) -> Result<bool, StoreError> {
        let doc = document(item)?;
        match self.table.put(doc, Expect::Absent).await {
            Ok(_) => Ok(true),
            Err(WriteError::Conflict) => Ok(false),
            Err(WriteError::Store(e)) => Err(e),
        }
    }

    async fn get(&self, tenant: &TenantId, user: &UserId, id: &InboxId) -> Result<Option<InboxItem>, StoreError> {
        self.table.get_item(partition(tenant, user), id.as_str()).await?.map(|item| parse_doc(&item)).transpose()
    }

    async fn page(&self, tenant: &TenantId, user: &UserId, before: Option<&InboxId>, limit: usize) -> Result<Vec<InboxItem>, StoreError> {
        self.table.requests.add(1);
        let request = self
            .table
            .client
            .query()
            .table_name(&self.table.name)
            .expression_attribute_values(":pk", s(partition(tenant, user)))
            .scan_index_forward(false)
            .consistent_read(true)
            .limit(i32::try_from(limit).unwrap_or(100));
        let request = match before {
            Some(before) => request.key_condition_expression("pk = :pk AND sk < :before").expression_attribute_values(":before", s(before.as_str())),
            None => request.key_condition_expression("pk = :pk"),
        };
        let out = request.send().await.map_err(unavailable)?;
        out.items.unwrap_or_default().iter().map(parse_doc).collect()
    }

    /// The index's entries, each read again (strongly consistent: the index
    /// lags its table), kept if still marked and due.
    async fn due_items(&self, now: Timestamp, limit: usize) -> Result<Vec<InboxItem>, StoreError> {
        use futures::{StreamExt as _, TryStreamExt as _};
        let entries = self.table.query_due(DUE_KIND, now, limit).await?;
        let items: Vec<Option<InboxItem>> = futures::stream::iter(entries)
            .map(|(tenant, entry)| async move {
                let (user, id) = due_entry(&entry)?;
                self.get(&tenant, &user, &id).await
            })
            .buffered(READS_AT_ONCE)
            .try_collect()
            .await?;
        Ok(items.into_iter().flatten().filter(|item| item.due_index_at().is_some_and(|at| at <= now)).collect())
    }

    async fn replace(&self, item: &InboxItem, expected: u64) -> Result<(), WriteError> {
        self.table.put(document(item)?, Expect::Version(expected)).await
    }

    async fn delete(&self, tenant: &TenantId, user: &UserId, id: &InboxId) -> Result<bool, StoreError> {
        self.table.delete_item(partition(tenant, user), id.to_string()).await
    }
}
