//! The record store contract, on the embedded store and DynamoDB (moto):
//! resources, conditional record writes, and the change log by time window.
use crate::common;

use std::sync::Arc;

use herald::adapters::aws::DynamoRecordStore;
use herald::adapters::embedded::EmbeddedRecordStore;
use herald::domain::{RecordId, ResourceName, TenantId, Timestamp, WriteError};
use herald::records::{Acl, NotifyField, Record, RecordStore, Resource};
use serde_json::json;

async fn dynamo() -> Arc<dyn RecordStore> {
    Arc::new(DynamoRecordStore::new(common::data_table("records-contract").await))
}

fn embedded(db: Arc<herald::adapters::embedded::Database>) -> Arc<dyn RecordStore> {
    Arc::new(EmbeddedRecordStore::new(db))
}

fn tenant() -> TenantId {
    TenantId::parse("a").unwrap()
}

fn name(n: &str) -> ResourceName {
    ResourceName::parse(n).unwrap()
}

fn record(resource: &str, id: &str, at: i64, version: u64) -> Record {
    Record {
        resource: name(resource),
        id: RecordId::parse(id).unwrap(),
        fields: json!({"status": "open", "n": version}).as_object().unwrap().clone(),
        acl: Acl { public: true, ..Default::default() },
        created_on: Timestamp::from_millis(1_000),
        modified_on: Timestamp::from_millis(at),
        deleted: false,
        version,
    }
}

async fn resources_are_kept_per_tenant(store: Arc<dyn RecordStore>) {
    let resource = Resource {
        name: name("req_req"),
        title: "Requests".into(),
        notify_fields: vec![NotifyField { name: "status".into(), label: "Status".into() }],
        notify_template: "notify".into(),
        notify_subject: None,
        page_url: Some("https://app.example/req".into()),
        item_url: Some("https://app.example/req/{id}".into()),
    };
    store.put_resource(&tenant(), &resource).await.unwrap();
    assert_eq!(store.get_resource(&tenant(), &resource.name).await.unwrap(), Some(resource.clone()));
    assert_eq!(store.get_resource(&TenantId::parse("b").unwrap(), &resource.name).await.unwrap(), None);
    assert_eq!(store.resources(&tenant()).await.unwrap(), vec![resource]);
}

async fn records_are_conditional_and_logged_by_time(store: Arc<dyn RecordStore>) {
    let t = tenant();
    let v1 = record("req", "7", 2_000, 1);
    store.save_record(&t, &v1, None).await.unwrap();
    assert!(matches!(store.save_record(&t, &v1, None).await, Err(WriteError::Conflict)), "created once");
    let v2 = record("req", "7", 3_000, 2);
    assert!(matches!(store.save_record(&t, &v2, Some(5)).await, Err(WriteError::Conflict)));
    store.save_record(&t, &v2, Some(1)).await.unwrap();
    assert!(matches!(store.save_record(&t, &v2, Some(1)).await, Err(WriteError::Conflict)), "a stale writer loses, and logs nothing");
    store.save_record(&t, &record("req", "8", 3_000, 1), None).await.unwrap();
    store.save_record(&t, &record("other", "7", 2_500, 1), None).await.unwrap();
    assert_eq!(store.get_record(&t, &name("req"), &v2.id).await.unwrap(), Some(v2.clone()));

    let window = |from, to| {
        let store = store.clone();
        let t = t.clone();
        async move {
            store
                .changes(&t, &name("req"), Timestamp::from_millis(from), Timestamp::from_millis(to))
                .await
                .unwrap()
                .into_iter()
                .map(|r| (r.id.to_string(), r.version))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(window(0, 10_000).await, [("7".into(), 1), ("7".into(), 2), ("8".into(), 1)]);
    assert_eq!(window(2_000, 3_000).await, [("7".to_string(), 1)], "from included, to excluded");
    assert_eq!(window(3_000, 3_001).await, [("7".into(), 2), ("8".into(), 1)]);
    assert_eq!(window(2_001, 3_000).await, vec![]);
    assert_eq!(window(3_000, 3_000).await, vec![]);
}


contract_on_both_stores!(resources_are_kept_per_tenant, records_are_conditional_and_logged_by_time);
