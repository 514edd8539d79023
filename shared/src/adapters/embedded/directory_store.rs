use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::{params, Connection};

use super::db::{self, Database};
use crate::directory::{Company, DirectoryStore, User};
use crate::domain::{CompanyId, GroupName, StoreError, TenantId, UserId};

/// Users, companies, and the group and company membership indexes, kept in
/// step in one transaction.
pub struct EmbeddedDirectoryStore {
    db: Arc<Database>,
}

impl EmbeddedDirectoryStore {
    pub fn new(db: Arc<Database>) -> Self {
        Self { db }
    }
}

fn unlink(conn: &Connection, tenant: &str, user: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("DELETE FROM memberships WHERE tenant = ?1 AND user = ?2")?.execute(params![tenant, user])?;
    Ok(conn.prepare_cached("DELETE FROM users WHERE tenant = ?1 AND id = ?2")?.execute(params![tenant, user])? > 0)
}

fn members(conn: &Connection, tenant: &str, kind: &str, name: &str, after: Option<&str>, limit: usize) -> rusqlite::Result<Vec<UserId>> {
    let mut statement = conn.prepare_cached("SELECT user FROM memberships WHERE tenant = ?1 AND kind = ?2 AND name = ?3 AND user > ?4 ORDER BY user LIMIT ?5")?;
    let rows = statement.query_map(params![tenant, kind, name, after.unwrap_or(""), db::limit(limit)], |row| row.get::<_, String>(0))?;
    rows.map(|row| row.and_then(|id| UserId::parse(id).map_err(db::corrupt))).collect()
}

#[async_trait]
impl DirectoryStore for EmbeddedDirectoryStore {
    async fn put_user(&self, tenant: &TenantId, user: &User) -> Result<(), StoreError> {
        let (tenant, user) = (tenant.to_string(), user.clone());
        self.db
            .write(move |conn| {
                let id = user.id.as_str();
                // Its old memberships go with the old version of the user
                // (the membership table has no separate owner).
                conn.prepare_cached("DELETE FROM memberships WHERE tenant = ?1 AND user = ?2")?.execute(params![tenant, id])?;
                let mut member = conn.prepare_cached("INSERT OR IGNORE INTO memberships (tenant, kind, name, user) VALUES (?1, ?2, ?3, ?4)")?;
                for group in &user.groups {
                    member.execute(params![tenant, "g", group.as_str(), id])?;
                }
                for company in &user.companies {
                    member.execute(params![tenant, "c", company.as_str(), id])?;
                }
                conn.prepare_cached("INSERT OR REPLACE INTO users (tenant, id, body) VALUES (?1, ?2, ?3)")?.execute(params![tenant, id, db::to_json(&user)?])?;
                Ok(())
            })
            .await
    }

    async fn get_user(&self, tenant: &TenantId, id: &UserId) -> Result<Option<User>, StoreError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        self.db.read(move |conn| db::document(conn, "SELECT body FROM users WHERE tenant = ?1 AND id = ?2", params![tenant, id])).await
    }

    async fn delete_user(&self, tenant: &TenantId, id: &UserId) -> Result<bool, StoreError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        self.db.write(move |conn| unlink(conn, &tenant, &id)).await
    }

    async fn group_members(&self, tenant: &TenantId, group: &GroupName) -> Result<Vec<UserId>, StoreError> {
        let (tenant, group) = (tenant.to_string(), group.to_string());
        self.db.read(move |conn| members(conn, &tenant, "g", &group, None, usize::MAX)).await
    }

    async fn group_members_page(&self, tenant: &TenantId, group: &GroupName, after: Option<&UserId>, limit: usize) -> Result<Vec<UserId>, StoreError> {
        let (tenant, group, after) = (tenant.to_string(), group.to_string(), after.map(|a| a.to_string()));
        self.db.read(move |conn| members(conn, &tenant, "g", &group, after.as_deref(), limit)).await
    }

    async fn company_members(&self, tenant: &TenantId, company: &CompanyId) -> Result<Vec<UserId>, StoreError> {
        let (tenant, company) = (tenant.to_string(), company.to_string());
        self.db.read(move |conn| members(conn, &tenant, "c", &company, None, usize::MAX)).await
    }

    async fn put_company(&self, tenant: &TenantId, company: &Company) -> Result<(), StoreError> {
        let (tenant, company) = (tenant.to_string(), company.clone());
        self.db
            .write(move |conn| {
                conn.prepare_cached("INSERT OR REPLACE INTO companies (tenant, id, body) VALUES (?1, ?2, ?3)")?
                    .execute(params![tenant, company.id.as_str(), db::to_json(&company)?])
                    .map(|_| ())
            })
            .await
    }

    async fn get_company(&self, tenant: &TenantId, id: &CompanyId) -> Result<Option<Company>, StoreError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        self.db.read(move |conn| db::document(conn, "SELECT body FROM companies WHERE tenant = ?1 AND id = ?2", params![tenant, id])).await
    }

    async fn count_users(&self, tenant: &TenantId, at_most: usize) -> Result<usize, StoreError> {
        let tenant = tenant.to_string();
        self.db.read(move |conn| db::count(conn, "SELECT count(*) FROM (SELECT 1 FROM users WHERE tenant = ?1 LIMIT ?2)", params![tenant, db::limit(at_most)])).await
    }

    async fn count_companies(&self, tenant: &TenantId, at_most: usize) -> Result<usize, StoreError> {
        let tenant = tenant.to_string();
        self.db.read(move |conn| db::count(conn, "SELECT count(*) FROM (SELECT 1 FROM companies WHERE tenant = ?1 LIMIT ?2)", params![tenant, db::limit(at_most)])).await
    }
}
