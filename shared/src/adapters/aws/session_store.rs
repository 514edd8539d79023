//! Mirrored Tryton sessions on DynamoDB: one partition per tenant
//! (`{tenant}#tryton-sessions`), sort key `{user}#{key hash}`, so a check
//! is a `GetItem`, a user's sessions and a tenant's pages are `Query`s
//! (docs/data-model.md). DynamoDB's TTL deletes them when they end.
use async_trait::async_trait;

use super::items::{document, parse_doc, s};
use super::table::Table;
use crate::domain::{StoreError, TenantId, UserId};
use crate::sessions::{KeyHash, MirroredSession, SessionStore};

pub struct DynamoSessionStore {
    table: Table,
}

impl DynamoSessionStore {
    pub fn new(table: Table) -> Self {
        Self { table }
    }
}

fn partition(tenant: &TenantId) -> String {
    format!("{tenant}#tryton-sessions")
}

/// `#` sorts before every character an id may hold, so this order is the
/// order of (user, hash).
fn sort_key(user: &UserId, hash: &KeyHash) -> String {
    format!("{user}#{hash}")
}

#[async_trait]
impl SessionStore for DynamoSessionStore {
    async fn put(&self, session: &MirroredSession) -> Result<(), StoreError> {
        let item = document(partition(&session.tenant), sort_key(&session.user, &session.key_hash), session, 1, Some(session.expires_at))?;
        self.table.put_any(item).await
    }

    async fn get(&self, tenant: &TenantId, user: &UserId, key_hash: &KeyHash) -> Result<Option<MirroredSession>, StoreError> {
        self.table.get_item(partition(tenant), &sort_key(user, key_hash)).await?.map(|item| parse_doc(&item)).transpose()
    }

    async fn delete(&self, tenant: &TenantId, user: &UserId, key_hash: &KeyHash) -> Result<bool, StoreError> {
        self.table.delete_item(partition(tenant), sort_key(user, key_hash)).await
    }

    async fn page(&self, tenant: &TenantId, after: Option<(&UserId, &KeyHash)>, limit: usize) -> Result<Vec<MirroredSession>, StoreError> {
        let after = after.map(|(user, hash)| sort_key(user, hash));
        self.table.query_page(s(partition(tenant)), after, limit).await?.iter().map(parse_doc).collect()
    }

    async fn of_user(&self, tenant: &TenantId, user: &UserId, limit: usize) -> Result<Vec<MirroredSession>, StoreError> {
        // The user's keys follow `{user}#` directly; the page may run on
        // into the next user's, which are left out.
        let sessions: Vec<MirroredSession> = self.table.query_page(s(partition(tenant)), Some(format!("{user}#")), limit).await?.iter().map(parse_doc).collect::<Result<_, _>>()?;
        Ok(sessions.into_iter().take_while(|session| session.user == *user).collect())
    }
}
