//! The directory's storage port. Both adapters pass the same contract suite
//! (`shared/tests/it/directory_store_contract.rs`).
use async_trait::async_trait;

use super::model::{Company, User};
use crate::domain::{CompanyId, GroupName, StoreError, TenantId, UserId};

#[async_trait]
pub trait DirectoryStore: Send + Sync {
    /// Creates or replaces a user, keeping the group and company membership
    /// indexes in step atomically.
    async fn put_user(&self, tenant: &TenantId, user: &User) -> Result<(), StoreError>;
    async fn get_user(&self, tenant: &TenantId, id: &UserId) -> Result<Option<User>, StoreError>;
    /// Removes a user and its memberships; `false` if there was none.
    async fn delete_user(&self, tenant: &TenantId, id: &UserId) -> Result<bool, StoreError>;
    /// Members of a group, by id (read from the membership index, no scan).
    async fn group_members(&self, tenant: &TenantId, group: &GroupName) -> Result<Vec<UserId>, StoreError>;
    /// A page of them: at most `limit`, by id, those after `after`.
    async fn group_members_page(&self, tenant: &TenantId, group: &GroupName, after: Option<&UserId>, limit: usize) -> Result<Vec<UserId>, StoreError>;
    /// Employees of a company, by id.
    async fn company_members(&self, tenant: &TenantId, company: &CompanyId) -> Result<Vec<UserId>, StoreError>;
    async fn put_company(&self, tenant: &TenantId, company: &Company) -> Result<(), StoreError>;
    /// How many users the tenant has, counting no further than `at_most`.
    async fn count_users(&self, tenant: &TenantId, at_most: usize) -> Result<usize, StoreError>;
    /// How many companies the tenant has, counting no further than `at_most`.
    async fn count_companies(&self, tenant: &TenantId, at_most: usize) -> Result<usize, StoreError>;
    async fn get_company(&self, tenant: &TenantId, id: &CompanyId) -> Result<Option<Company>, StoreError>;
}
