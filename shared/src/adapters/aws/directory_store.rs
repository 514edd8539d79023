//! The directory on DynamoDB's data table (`pk` S, `sk` S). A user or company
//! is one item (`sk` = `#`, its JSON in `doc`); each membership is an item in
//! its group's or company's partition, so members are read with a `Query`;
//! and every user (company) has an item in the tenant's `users`
//! (`companies`) partition, so quotas count them with a `Query`.
//! Writes keep them in step in one conditional transaction. See
//! `docs/data-model.md`.
use std::collections::BTreeSet;

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};
use serde::de::DeserializeOwned;

use super::items::{built, doc_text, json_text, s, unavailable, Item, DOC_SK};
use super::table::Table;
use crate::directory::{Company, DirectoryStore, User};
use crate::domain::{CompanyId, GroupName, StoreError, TenantId, UserId};

const MAX_ATTEMPTS: u32 = 16;

#[derive(Clone)]
pub struct DynamoDirectoryStore {
    table: Table,
}

fn user_pk(t: &TenantId, id: &UserId) -> String {
    format!("{t}#user#{id}")
}
fn company_pk(t: &TenantId, id: &CompanyId) -> String {
    format!("{t}#company#{id}")
}
fn group_members_pk(t: &TenantId, g: &GroupName) -> String {
    format!("{t}#group-members#{g}")
}
fn company_members_pk(t: &TenantId, c: &CompanyId) -> String {
    format!("{t}#company-members#{c}")
}

fn tenant_users_pk(t: &TenantId) -> String {
    format!("{t}#users")
}
fn tenant_companies_pk(t: &TenantId) -> String {
    format!("{t}#companies")
}

/// The index partitions a user has an item in: its groups', its
/// companies', and the tenant's list of users.
fn memberships(t: &TenantId, user: &User) -> BTreeSet<String> {
    user.groups
        .iter()
        .map(|g| group_members_pk(t, g))
        .chain(user.companies.iter().map(|c| company_members_pk(t, c)))
        .chain([tenant_users_pk(t)])
        .collect()
}

/// A transaction cancelled only because another one wrote the same item.
fn conflicted<R>(error: &aws_sdk_dynamodb::error::SdkError<TransactWriteItemsError, R>) -> bool {
    match error.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
            cancelled.cancellation_reasons().iter().any(|reason| reason.code() == Some("TransactionConflict"))
        }
        _ => false,
    }
}

impl DynamoDirectoryStore {
    pub fn new(table: Table) -> Self {
        Self { table }
    }

    /// The stored JSON document of an item, verbatim (for conditions) and parsed.
    async fn get_doc<T: DeserializeOwned>(&self, pk: String) -> Result<Option<(String, T)>, StoreError> {
        let Some(item) = self.table.get_item(pk, DOC_SK).await? else {
            return Ok(None);
        };
        let raw = doc_text(&item)?.to_owned();
        let parsed = serde_json::from_str(&raw).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Some((raw, parsed)))
    }

    /// A put or delete of a document, conditioned on it still being `old`.
    fn doc_write(&self, pk: String, old: Option<&str>, new: Option<String>) -> Result<TransactWriteItem, StoreError> {
        let condition = match old {
            Some(_) => "doc = :old",
            None => "attribute_not_exists(pk)",
        };
        let item = match new {
            Some(doc) => {
                let mut put = Put::builder()
                    .table_name(&self.table.name)
                    .item("pk", s(pk))
                    .item("sk", s(DOC_SK))
                    .item("doc", s(doc))
                    .condition_expression(condition);
                if let Some(old) = old {
                    put = put.expression_attribute_values(":old", s(old));
                }
                TransactWriteItem::builder().put(built(put.build())?).build()
            }
            None => {
                let mut delete = Delete::builder()
                    .table_name(&self.table.name)
                    .key("pk", s(pk))
                    .key("sk", s(DOC_SK))
                    .condition_expression(condition);
                if let Some(old) = old {
                    delete = delete.expression_attribute_values(":old", s(old));
                }
                TransactWriteItem::builder().delete(built(delete.build())?).build()
            }
        };
        Ok(item)
    }

    fn membership_put(&self, pk: &str, user: &UserId) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder().table_name(&self.table.name).item("pk", s(pk)).item("sk", s(user.as_str()));
        Ok(TransactWriteItem::builder().put(built(put.build())?).build())
    }

    fn membership_delete(&self, pk: &str, user: &UserId) -> Result<TransactWriteItem, StoreError> {
        let delete = Delete::builder().table_name(&self.table.name).key("pk", s(pk)).key("sk", s(user.as_str()));
        Ok(TransactWriteItem::builder().delete(built(delete.build())?).build())
    }

    /// Replaces (or deletes, with `new` = None) a user and its memberships,
    /// retrying when a concurrent write changed the user first.
    async fn write_user(&self, tenant: &TenantId, id: &UserId, new: Option<&User>) -> Result<bool, StoreError> {
        let new_doc = new.map(json_text).transpose()?;
        for _ in 0..MAX_ATTEMPTS {
            let old = self.get_doc::<User>(user_pk(tenant, id)).await?;
            if old.is_none() && new.is_none() {
                return Ok(false);
            }
            let before = old.as_ref().map(|(_, u)| memberships(tenant, u)).unwrap_or_default();
            let after = new.map(|u| memberships(tenant, u)).unwrap_or_default();
            let mut items = vec![self.doc_write(user_pk(tenant, id), old.as_ref().map(|(raw, _)| raw.as_str()), new_doc.clone())?];
            for pk in after.difference(&before) {
                items.push(self.membership_put(pk, id)?);
            }
            for pk in before.difference(&after) {
                items.push(self.membership_delete(pk, id)?);
            }
            self.table.requests.add(1);
            match self.table.client.transact_write_items().set_transact_items(Some(items)).send().await {
                Ok(_) => return Ok(true),
                Err(e) if e.as_service_error().is_some_and(|s| s.is_transaction_canceled_exception()) => continue,
                Err(e) => return Err(unavailable(e)),
            }
        }
        Err(StoreError::Contention)
    }

    async fn members(&self, pk: String) -> Result<Vec<UserId>, StoreError> {
        Self::member_ids(&self.table.query_partition(s(pk)).await?)
    }

    fn member_ids(items: &[Item]) -> Result<Vec<UserId>, StoreError> {
        items
            .iter()
            .filter_map(|item| item.get("sk").and_then(|v| v.as_s().ok()))
            .map(|id| UserId::parse(id.clone()).map_err(|e| StoreError::Corrupt(e.to_string())))
            .collect()
    }
}

#[async_trait]
impl DirectoryStore for DynamoDirectoryStore {
    async fn put_user(&self, tenant: &TenantId, user: &User) -> Result<(), StoreError> {
        self.write_user(tenant, &user.id, Some(user)).await.map(|_| ())
    }

    async fn get_user(&self, tenant: &TenantId, id: &UserId) -> Result<Option<User>, StoreError> {
        Ok(self.get_doc(user_pk(tenant, id)).await?.map(|(_, u)| u))
    }

    async fn delete_user(&self, tenant: &TenantId, id: &UserId) -> Result<bool, StoreError> {
        self.write_user(tenant, id, None).await
    }

    async fn group_members(&self, tenant: &TenantId, group: &GroupName) -> Result<Vec<UserId>, StoreError> {
        self.members(group_members_pk(tenant, group)).await
    }

    async fn group_members_page(&self, tenant: &TenantId, group: &GroupName, after: Option<&UserId>, limit: usize) -> Result<Vec<UserId>, StoreError> {
        Self::member_ids(&self.table.query_page(s(group_members_pk(tenant, group)), after.map(|a| a.as_str().to_owned()), limit).await?)
    }

    async fn company_members(&self, tenant: &TenantId, company: &CompanyId) -> Result<Vec<UserId>, StoreError> {
        self.members(company_members_pk(tenant, company)).await
    }

    async fn put_company(&self, tenant: &TenantId, company: &Company) -> Result<(), StoreError> {
        let doc = Put::builder().table_name(&self.table.name).set_item(Some(Item::from([
            ("pk".into(), s(company_pk(tenant, &company.id))),
            ("sk".into(), s(DOC_SK)),
            ("doc".into(), s(json_text(company)?)),
        ])));
        let listed = Put::builder().table_name(&self.table.name).item("pk", s(tenant_companies_pk(tenant))).item("sk", s(company.id.as_str()));
        let items = vec![
            TransactWriteItem::builder().put(built(doc.build())?).build(),
            TransactWriteItem::builder().put(built(listed.build())?).build(),
        ];
        // Two puts of the same company at once cancel one transaction
        // (`TransactionConflict`); both are whole replacements, so the
        // retry may simply win. Any other cancellation is an error.
        for _ in 0..MAX_ATTEMPTS {
            self.table.requests.add(1);
            match self.table.client.transact_write_items().set_transact_items(Some(items.clone())).send().await {
                Ok(_) => return Ok(()),
                Err(e) if conflicted(&e) => continue,
                Err(e) => return Err(unavailable(e)),
            }
        }
        Err(StoreError::Contention)
    }

    async fn get_company(&self, tenant: &TenantId, id: &CompanyId) -> Result<Option<Company>, StoreError> {
        Ok(self.get_doc(company_pk(tenant, id)).await?.map(|(_, c)| c))
    }

    async fn count_users(&self, tenant: &TenantId, at_most: usize) -> Result<usize, StoreError> {
        self.table.count_partition(s(tenant_users_pk(tenant)), at_most).await
    }

    async fn count_companies(&self, tenant: &TenantId, at_most: usize) -> Result<usize, StoreError> {
        self.table.count_partition(s(tenant_companies_pk(tenant)), at_most).await
    }
}
