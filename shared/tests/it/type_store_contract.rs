//! The notification type store contract, on the embedded store and DynamoDB (moto).
use crate::common;

use std::sync::Arc;

use herald::adapters::aws::DynamoTypeStore;
use herald::adapters::embedded::EmbeddedTypeStore;
use herald::domain::TenantId;
use herald::notifications::{Channel, NotificationType, StatusType, TypeKey, TypeStore};

async fn dynamo() -> Arc<dyn TypeStore> {
    Arc::new(DynamoTypeStore::new(common::data_table("types-contract").await))
}

fn embedded(db: Arc<herald::adapters::embedded::Database>) -> Arc<dyn TypeStore> {
    Arc::new(EmbeddedTypeStore::new(db))
}

fn kind(key: &str, label: &str) -> NotificationType {
    NotificationType {
        key: TypeKey::parse(key).unwrap(),
        label: label.into(),
        default_channel: Channel::HeaderMessage,
        status_type: StatusType::Calendar,
    }
}

async fn types_are_kept_per_tenant_and_replaced_by_key(store: Arc<dyn TypeStore>) {
    let (a, b) = (TenantId::parse("a").unwrap(), TenantId::parse("b").unwrap());
    assert_eq!(store.tenant_types(&a).await.unwrap(), vec![]);
    store.put_type(&a, &kind("task:due", "Due")).await.unwrap();
    store.put_type(&a, &kind("message:system", "System")).await.unwrap();
    store.put_type(&a, &kind("task:due", "Due soon")).await.unwrap();
    let mut got = store.tenant_types(&a).await.unwrap();
    got.sort_by(|x, y| x.key.cmp(&y.key));
    assert_eq!(got, vec![kind("message:system", "System"), kind("task:due", "Due soon")]);
    assert_eq!(store.tenant_types(&b).await.unwrap(), vec![]);
}

contract_on_both_stores!(types_are_kept_per_tenant_and_replaced_by_key);
