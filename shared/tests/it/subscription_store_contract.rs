//! The subscription store contract, on the embedded store (in memory and in
//! a data directory) and DynamoDB (moto): writes conditioned on the
//! version, the due index, and a due batch read at once, each tenant apart.
use crate::common;

use std::sync::Arc;

use herald::adapters::aws::DynamoSubscriptionStore;
use herald::adapters::embedded::EmbeddedSubscriptionStore;
use herald::domain::{SubscriptionId, TenantId, Timestamp, UserId, WriteError};
use herald::subscriptions::{Frequency, Subscriber, Subscription, SubscriptionStore};

async fn dynamo() -> Arc<dyn SubscriptionStore> {
    Arc::new(DynamoSubscriptionStore::new(common::data_table("subscriptions-contract").await))
}

fn embedded(db: Arc<herald::adapters::embedded::Database>) -> Arc<dyn SubscriptionStore> {
    Arc::new(EmbeddedSubscriptionStore::new(db))
}

fn subscription(tenant: &str, id: &SubscriptionId, user: &str, next_check: i64) -> Subscription {
    let tenant = TenantId::parse(tenant).unwrap();
    let subscriber = Subscriber::User(UserId::parse(user).unwrap());
    Subscription {
        frequency: Frequency::Hourly,
        next_check_time: Timestamp::from_millis(next_check),
        ..Subscription::new(id.clone(), tenant, subscriber, Timestamp::from_millis(1_000))
    }
}

async fn saves_are_conditioned_on_the_version(store: Arc<dyn SubscriptionStore>) {
    let id = SubscriptionId::random();
    let v1 = subscription("a", &id, "1", 5_000);
    store.save(&v1, None).await.unwrap();
    assert!(matches!(store.save(&v1, None).await, Err(WriteError::Conflict)), "created once");
    let v2 = Subscription { last_check_time: Timestamp::from_millis(4_000), version: 2, ..v1.clone() };
    assert!(matches!(store.save(&v2, Some(7)).await, Err(WriteError::Conflict)));
    store.save(&v2, Some(1)).await.unwrap();
    assert!(matches!(store.save(&v2, Some(1)).await, Err(WriteError::Conflict)), "a stale writer loses");
    assert_eq!(store.get(&v1.tenant, &id).await.unwrap(), Some(v2.clone()));
    assert!(matches!(store.delete(&v2, 1).await, Err(WriteError::Conflict)));
    store.delete(&v2, 2).await.unwrap();
    assert_eq!(store.get(&v1.tenant, &id).await.unwrap(), None);
}

/// A check reads its due batch at once: the ones that exist, each from its
/// own tenant (the same id in another tenant is another subscription).
async fn a_due_batch_is_read_at_once_per_tenant(store: Arc<dyn SubscriptionStore>) {
    let (shared_id, other_id, missing) = (SubscriptionId::random(), SubscriptionId::random(), SubscriptionId::random());
    let in_a = subscription("a", &shared_id, "1", 5_000);
    let in_b = subscription("b", &shared_id, "2", 6_000);
    let other = subscription("a", &other_id, "3", 9_000_000);
    for s in [&in_a, &in_b, &other] {
        store.save(s, None).await.unwrap();
    }
    let due = store.due(Timestamp::from_millis(10_000), 10).await.unwrap();
    assert!(due.contains(&(in_a.tenant.clone(), shared_id.clone())) && due.contains(&(in_b.tenant.clone(), shared_id.clone())), "{due:?}");
    assert!(!due.iter().any(|(_, id)| *id == other_id), "not due yet: {due:?}");
    let ids = [
        (in_a.tenant.clone(), shared_id.clone()),
        (in_a.tenant.clone(), missing),
        (in_b.tenant.clone(), shared_id.clone()),
        (in_a.tenant.clone(), other_id.clone()),
    ];
    let mut found = store.get_many(&ids).await.unwrap();
    found.sort_by(|x, y| (&x.tenant, &x.id).cmp(&(&y.tenant, &y.id)));
    let mut expected = vec![in_a, in_b, other];
    expected.sort_by(|x, y| (&x.tenant, &x.id).cmp(&(&y.tenant, &y.id)));
    assert_eq!(found, expected);
    assert_eq!(store.get_many(&[]).await.unwrap(), vec![]);
}

contract_on_both_stores!(saves_are_conditioned_on_the_version, a_due_batch_is_read_at_once_per_tenant);
