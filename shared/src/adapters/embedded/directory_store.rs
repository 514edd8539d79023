use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::directory::{Company, DirectoryStore, User};
use crate::domain::{CompanyId, GroupName, StoreError, TenantId, UserId};

#[derive(Default)]
struct Tenant {
    users: BTreeMap<UserId, User>,
    companies: BTreeMap<CompanyId, Company>,
    groups: BTreeMap<GroupName, BTreeSet<UserId>>,
    employees: BTreeMap<CompanyId, BTreeSet<UserId>>,
}

impl Tenant {
    fn unlink(&mut self, user: &User) {
        for g in &user.groups {
            if let Some(members) = self.groups.get_mut(g) {
                members.remove(&user.id);
            }
        }
        for c in &user.companies {
            if let Some(members) = self.employees.get_mut(c) {
                members.remove(&user.id);
            }
        }
    }
}

/// The directory in memory, under one lock.
#[derive(Default)]
pub struct EmbeddedDirectoryStore {
    tenants: Mutex<HashMap<TenantId, Tenant>>,
}

impl EmbeddedDirectoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<R>(&self, tenant: &TenantId, f: impl FnOnce(&mut Tenant) -> R) -> Result<R, StoreError> {
        let mut tenants = self.tenants.lock().map_err(|_| StoreError::Unavailable("directory lock poisoned".into()))?;
        Ok(f(tenants.entry(tenant.clone()).or_default()))
    }
}

#[async_trait]
impl DirectoryStore for EmbeddedDirectoryStore {
    async fn put_user(&self, tenant: &TenantId, user: &User) -> Result<(), StoreError> {
        self.with(tenant, |t| {
            if let Some(old) = t.users.remove(&user.id) {
                t.unlink(&old);
            }
            for g in &user.groups {
                t.groups.entry(g.clone()).or_default().insert(user.id.clone());
            }
            for c in &user.companies {
                t.employees.entry(c.clone()).or_default().insert(user.id.clone());
            }
            t.users.insert(user.id.clone(), user.clone());
        })
    }

    async fn get_user(&self, tenant: &TenantId, id: &UserId) -> Result<Option<User>, StoreError> {
        self.with(tenant, |t| t.users.get(id).cloned())
    }

    async fn delete_user(&self, tenant: &TenantId, id: &UserId) -> Result<bool, StoreError> {
        self.with(tenant, |t| match t.users.remove(id) {
            Some(old) => {
                t.unlink(&old);
                true
            }
            None => false,
        })
    }

    async fn group_members(&self, tenant: &TenantId, group: &GroupName) -> Result<Vec<UserId>, StoreError> {
        self.with(tenant, |t| t.groups.get(group).map(|m| m.iter().cloned().collect()).unwrap_or_default())
    }

    async fn group_members_page(&self, tenant: &TenantId, group: &GroupName, after: Option<&UserId>, limit: usize) -> Result<Vec<UserId>, StoreError> {
        self.with(tenant, |t| {
            let Some(members) = t.groups.get(group) else { return Vec::new() };
            match after {
                Some(after) => members.range::<UserId, _>((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded)).take(limit).cloned().collect(),
                None => members.iter().take(limit).cloned().collect(),
            }
        })
    }

    async fn company_members(&self, tenant: &TenantId, company: &CompanyId) -> Result<Vec<UserId>, StoreError> {
        self.with(tenant, |t| t.employees.get(company).map(|m| m.iter().cloned().collect()).unwrap_or_default())
    }

    async fn put_company(&self, tenant: &TenantId, company: &Company) -> Result<(), StoreError> {
        self.with(tenant, |t| {
            t.companies.insert(company.id.clone(), company.clone());
        })
    }

    async fn get_company(&self, tenant: &TenantId, id: &CompanyId) -> Result<Option<Company>, StoreError> {
        self.with(tenant, |t| t.companies.get(id).cloned())
    }

    async fn count_users(&self, tenant: &TenantId, at_most: usize) -> Result<usize, StoreError> {
        self.with(tenant, |t| t.users.len().min(at_most))
    }

    async fn count_companies(&self, tenant: &TenantId, at_most: usize) -> Result<usize, StoreError> {
        self.with(tenant, |t| t.companies.len().min(at_most))
    }
}
