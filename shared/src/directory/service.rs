//! Managing the directory: every rule a user or a company must meet is
//! checked here, before the store sees it.
use std::sync::Arc;

use serde::Deserialize;

use super::model::{Company, Contact, User, MAX_COMPANIES_PER_USER, MAX_CONTACTS_PER_USER, MAX_DIRECTORY_TEXT_BYTES, MAX_GROUPS_PER_USER};
use super::store::DirectoryStore;
use crate::domain::{CompanyId, EmailAddress, GroupName, StoreError, TenantId, UserId};

fn default_true() -> bool {
    true
}

/// The most members one page of a group lists; 100 when the caller does not say.
pub const MAX_MEMBERS_PAGE: usize = 1000;
pub const DEFAULT_MEMBERS_PAGE: usize = 100;

/// A user as an application describes it (`PUT /{db}/users/{id}`): the
/// whole user, replacing any earlier one.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserRequest {
    pub login: String,
    #[serde(default)]
    pub email: Option<EmailAddress>,
    #[serde(default = "default_true")]
    pub active: bool,
    #[serde(default)]
    pub groups: Vec<GroupName>,
    #[serde(default)]
    pub companies: Vec<CompanyId>,
    /// The user's follower (référent): a user id, string or integer.
    #[serde(default)]
    #[schema(schema_with = crate::domain::schema::optional_user_ref)]
    pub follower: Option<UserId>,
    #[serde(default)]
    pub account_type: Option<String>,
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub contacts: Vec<Contact>,
}

/// A company as an application describes it (`PUT /{db}/companies/{id}`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompanyRequest {
    pub name: String,
    #[serde(default)]
    pub email: Option<EmailAddress>,
    #[serde(default = "default_true")]
    pub active: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("{0}")]
    Invalid(String),
    #[error("no user '{0}'")]
    UnknownUser(UserId),
    #[error("no company '{0}'")]
    UnknownCompany(CompanyId),
    #[error("the signed-in user is not an active user of this tenant's directory")]
    NotActive,
    #[error("{0}")]
    QuotaExceeded(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn text(name: &str, value: &str) -> Result<(), DirectoryError> {
    if value.trim().is_empty() {
        return Err(DirectoryError::Invalid(format!("{name} must not be empty")));
    }
    if value.len() > MAX_DIRECTORY_TEXT_BYTES {
        return Err(DirectoryError::Invalid(format!("{name} is limited to {MAX_DIRECTORY_TEXT_BYTES} bytes")));
    }
    Ok(())
}

fn at_most<T>(name: &str, items: &[T], max: usize) -> Result<(), DirectoryError> {
    if items.len() > max {
        return Err(DirectoryError::Invalid(format!("at most {max} {name}")));
    }
    Ok(())
}

fn sorted_unique<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort();
    items.dedup();
    items
}

/// How many users and companies a tenant may have
/// (`HERALD_MAX_USERS_PER_TENANT`, `HERALD_MAX_COMPANIES_PER_TENANT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectoryQuota {
    pub users: usize,
    pub companies: usize,
}

/// The directory of each tenant: users, companies, group membership.
#[derive(Clone)]
pub struct Directory {
    store: Arc<dyn DirectoryStore>,
    quota: DirectoryQuota,
}

impl Directory {
    pub fn new(store: Arc<dyn DirectoryStore>, quota: DirectoryQuota) -> Self {
        Self { store, quota }
    }

    /// Creates or replaces user `id`. Groups and companies are kept sorted
    /// and unique, contacts in priority order (lower first).
    pub async fn put_user(&self, tenant: &TenantId, id: UserId, request: UserRequest) -> Result<User, DirectoryError> {
        text("login", &request.login)?;
        for (name, value) in [("account_type", &request.account_type), ("locale", &request.locale), ("timezone", &request.timezone)] {
            if let Some(v) = value {
                text(name, v)?;
            }
        }
        at_most("groups", &request.groups, MAX_GROUPS_PER_USER)?;
        at_most("companies", &request.companies, MAX_COMPANIES_PER_USER)?;
        at_most("contacts", &request.contacts, MAX_CONTACTS_PER_USER)?;
        let mut contacts = request.contacts;
        contacts.sort_by_key(|c| c.priority);
        let user = User {
            id,
            login: request.login,
            email: request.email,
            active: request.active,
            groups: sorted_unique(request.groups),
            companies: sorted_unique(request.companies),
            follower: request.follower,
            account_type: request.account_type,
            locale: request.locale,
            timezone: request.timezone,
            contacts,
        };
        if self.store.get_user(tenant, &user.id).await?.is_none() && self.store.count_users(tenant, self.quota.users).await? >= self.quota.users {
            return Err(DirectoryError::QuotaExceeded(format!("the tenant has {} users, the most it may have", self.quota.users)));
        }
        self.store.put_user(tenant, &user).await?;
        Ok(user)
    }

    pub async fn user(&self, tenant: &TenantId, id: &UserId) -> Result<User, DirectoryError> {
        self.store.get_user(tenant, id).await?.ok_or_else(|| DirectoryError::UnknownUser(id.clone()))
    }

    /// The user `id`, if it is an active user of the tenant: who may have an
    /// inbox there.
    pub async fn active_user(&self, tenant: &TenantId, id: &UserId) -> Result<User, DirectoryError> {
        match self.store.get_user(tenant, id).await? {
            Some(user) if user.active => Ok(user),
            _ => Err(DirectoryError::NotActive),
        }
    }

    pub async fn delete_user(&self, tenant: &TenantId, id: &UserId) -> Result<(), DirectoryError> {
        if self.store.delete_user(tenant, id).await? { Ok(()) } else { Err(DirectoryError::UnknownUser(id.clone())) }
    }

    /// Creates or replaces company `id`.
    pub async fn put_company(&self, tenant: &TenantId, id: CompanyId, request: CompanyRequest) -> Result<Company, DirectoryError> {
        text("name", &request.name)?;
        let company = Company { id, name: request.name, email: request.email, active: request.active };
        if self.store.get_company(tenant, &company.id).await?.is_none() && self.store.count_companies(tenant, self.quota.companies).await? >= self.quota.companies {
            return Err(DirectoryError::QuotaExceeded(format!("the tenant has {} companies, the most it may have", self.quota.companies)));
        }
        self.store.put_company(tenant, &company).await?;
        Ok(company)
    }

    pub async fn company(&self, tenant: &TenantId, id: &CompanyId) -> Result<Company, DirectoryError> {
        self.store.get_company(tenant, id).await?.ok_or_else(|| DirectoryError::UnknownCompany(id.clone()))
    }

    /// A page of the group's members by id, after `after`, at most `limit`
    /// (1 to [`MAX_MEMBERS_PAGE`]); and the cursor of the next page.
    pub async fn group_members(&self, tenant: &TenantId, group: &GroupName, after: Option<&UserId>, limit: usize) -> Result<(Vec<UserId>, Option<UserId>), DirectoryError> {
        if !(1..=MAX_MEMBERS_PAGE).contains(&limit) {
            return Err(DirectoryError::Invalid(format!("limit is 1 to {MAX_MEMBERS_PAGE}")));
        }
        let mut members = self.store.group_members_page(tenant, group, after, limit + 1).await?;
        let next = (members.len() > limit).then(|| {
            members.truncate(limit);
            members.last().cloned()
        });
        Ok((members, next.flatten()))
    }
}
