//! The mirrored Tryton sessions' store, on the embedded store (in memory
//! and in a data directory) and DynamoDB (moto): by tenant, user and key
//! hash; pages in (user, hash) order; a user's own.
use crate::common;

use std::sync::Arc;

use herald::adapters::aws::DynamoSessionStore;
use herald::adapters::embedded::EmbeddedSessionStore;
use herald::domain::{TenantId, Timestamp, UserId};
use herald::sessions::{KeyHash, MirroredSession, SessionStore};

async fn dynamo() -> Arc<dyn SessionStore> {
    Arc::new(DynamoSessionStore::new(common::data_table("sessions-contract").await))
}

fn embedded(db: Arc<herald::adapters::embedded::Database>) -> Arc<dyn SessionStore> {
    Arc::new(EmbeddedSessionStore::new(db))
}

fn session(tenant: &str, user: &str, key: &str) -> MirroredSession {
    MirroredSession {
        tenant: TenantId::parse(tenant).unwrap(),
        user: UserId::parse(user).unwrap(),
        key_hash: KeyHash::of_key(key),
        created_at: Timestamp::from_millis(1_000),
        expires_at: Timestamp::from_millis(9_000_000_000_000),
        ip: Some("127.0.0.1".parse().unwrap()),
        channels: vec!["chat:*".into()],
        mirrored_at: Timestamp::from_millis(2_000),
    }
}

async fn sessions_are_kept_by_tenant_user_and_key(store: Arc<dyn SessionStore>) {
    let a = session("a", "1", "key-one");
    store.put(&a).await.unwrap();
    assert_eq!(store.get(&a.tenant, &a.user, &a.key_hash).await.unwrap(), Some(a.clone()));
    assert_eq!(store.get(&TenantId::parse("b").unwrap(), &a.user, &a.key_hash).await.unwrap(), None, "another tenant's");
    assert_eq!(store.get(&a.tenant, &UserId::parse("2").unwrap(), &a.key_hash).await.unwrap(), None, "another user's");
    // Mirrored again: replaced.
    let again = MirroredSession { mirrored_at: Timestamp::from_millis(3_000), ip: None, ..a.clone() };
    store.put(&again).await.unwrap();
    assert_eq!(store.get(&a.tenant, &a.user, &a.key_hash).await.unwrap(), Some(again.clone()));
    assert!(store.delete(&a.tenant, &a.user, &a.key_hash).await.unwrap());
    assert!(!store.delete(&a.tenant, &a.user, &a.key_hash).await.unwrap());
    assert_eq!(store.get(&a.tenant, &a.user, &a.key_hash).await.unwrap(), None);
}

async fn a_tenants_sessions_page_by_user_and_a_users_are_its_own(store: Arc<dyn SessionStore>) {
    let sessions: Vec<MirroredSession> = [("1", "k1"), ("1", "k2"), ("10", "k3"), ("2", "k4"), ("2", "k5")].iter().map(|(u, k)| session("a", u, k)).collect();
    for s in &sessions {
        store.put(s).await.unwrap();
    }
    store.put(&session("b", "1", "k9")).await.unwrap();
    let tenant = TenantId::parse("a").unwrap();
    let mut expected: Vec<(String, String)> = sessions.iter().map(|s| (s.user.to_string(), s.key_hash.to_string())).collect();
    expected.sort();
    let mut seen = Vec::new();
    let mut after: Option<(UserId, KeyHash)> = None;
    loop {
        let page = store.page(&tenant, after.as_ref().map(|(u, h)| (u, h)), 2).await.unwrap();
        seen.extend(page.iter().map(|s| (s.user.to_string(), s.key_hash.to_string())));
        if page.len() < 2 {
            break;
        }
        let last = page.last().unwrap();
        after = Some((last.user.clone(), last.key_hash.clone()));
    }
    assert_eq!(seen, expected, "every session once, by user then hash");
    let of_one = store.of_user(&tenant, &UserId::parse("1").unwrap(), 10).await.unwrap();
    assert_eq!(of_one.len(), 2, "user 1's, not user 10's: {of_one:?}");
    assert!(of_one.iter().all(|s| s.user.as_str() == "1"));
    assert_eq!(store.of_user(&tenant, &UserId::parse("3").unwrap(), 10).await.unwrap(), vec![]);
}

contract_on_both_stores!(sessions_are_kept_by_tenant_user_and_key, a_tenants_sessions_page_by_user_and_a_users_are_its_own);
