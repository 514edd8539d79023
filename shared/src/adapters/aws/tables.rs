//! Table definitions, used by the local gateway's `--aws` mode and tests to
//! create missing tables. In AWS, `template.yaml` creates them; the two must
//! agree (the data model is in `docs/data-model.md`).
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;

use super::describe;
use crate::domain::StoreError;

/// Name of the TTL attribute on every table (epoch seconds).
pub const TTL_ATTRIBUTE: &str = "ttl";

/// Creates the bus table (`pk` S, `sk` N, TTL on `ttl`) if it does not exist.
pub async fn ensure_bus_table(client: &Client, table: &str) -> Result<(), StoreError> {
    ensure_table(client, table, ScalarAttributeType::N).await
}

/// Creates the data table (`pk` S, `sk` S, TTL on `ttl`, the sparse `due`
/// index on `due_pk`/`due_sk`) if it does not exist.
pub async fn ensure_data_table(client: &Client, table: &str) -> Result<(), StoreError> {
    ensure_table(client, table, ScalarAttributeType::S).await
}

async fn ensure_table(client: &Client, table: &str, sort_key: ScalarAttributeType) -> Result<(), StoreError> {
    let with_due_index = sort_key == ScalarAttributeType::S;
    match client.describe_table().table_name(table).send().await {
        Ok(_) => return Ok(()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => {}
        Err(e) => return Err(StoreError::Unavailable(describe(&e))),
    }
    let attribute = |name: &str, kind| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(kind)
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    };
    let key = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    };
    let mut request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("pk", ScalarAttributeType::S)?)
        .attribute_definitions(attribute("sk", sort_key)?)
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?);
    if with_due_index {
        let index = GlobalSecondaryIndex::builder()
            .index_name(super::DUE_INDEX)
            .key_schema(key("due_pk", KeyType::Hash)?)
            .key_schema(key("due_sk", KeyType::Range)?)
            .projection(Projection::builder().projection_type(ProjectionType::KeysOnly).build())
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        request = request
            .attribute_definitions(attribute("due_pk", ScalarAttributeType::S)?)
            .attribute_definitions(attribute("due_sk", ScalarAttributeType::S)?)
            .global_secondary_indexes(index);
    }
    let created = request.send().await;
    match created {
        Ok(_) => {}
        // Another process created it meanwhile.
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => {}
        Err(e) => return Err(StoreError::Unavailable(describe(&e))),
    }
    wait_until_active(client, table).await?;
    let ttl = TimeToLiveSpecification::builder()
        .attribute_name(TTL_ATTRIBUTE)
        .enabled(true)
        .build()
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    // Enabling TTL twice is an error in DynamoDB; ignore it.
    let _ = client.update_time_to_live().table_name(table).time_to_live_specification(ttl).send().await;
    Ok(())
}

async fn wait_until_active(client: &Client, table: &str) -> Result<(), StoreError> {
    for _ in 0..120 {
        let described = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| StoreError::Unavailable(describe(&e)))?;
        let status = described.table().and_then(|t| t.table_status());
        if status == Some(&aws_sdk_dynamodb::types::TableStatus::Active) {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    Err(StoreError::Unavailable(format!("table {table} did not become active")))
}
