//! Shared by the suites: tables on the moto server that `scripts/test`
//! started.
use std::sync::Arc;

use herald::adapters::aws::{load_config, tables, DynamoClient, Table};
use herald::adapters::embedded::{Database, Durability, Location};

/// A fresh name with `prefix`, for tables (and queues) on moto.
pub fn fresh_name(prefix: &str) -> String {
    assert!(
        std::env::var_os("AWS_ENDPOINT_URL").is_some(),
        "AWS_ENDPOINT_URL is not set: run the suite with scripts/test (it starts moto server)"
    );
    format!("{prefix}-{}", uuid::Uuid::new_v4())
}

async fn client() -> DynamoClient {
    DynamoClient::new(&load_config().await)
}

/// A new, empty data table (`pk`, `sk` strings and the `due` index).
pub async fn data_table(prefix: &str) -> Table {
    let (client, name) = (client().await, fresh_name(prefix));
    tables::ensure_data_table(&client, &name).await.expect("create table");
    Table::new(client, name)
}

/// A new, empty bus table.
pub async fn bus_table(prefix: &str) -> Table {
    let (client, name) = (client().await, fresh_name(prefix));
    tables::ensure_bus_table(&client, &name).await.expect("create table");
    Table::new(client, name)
}

/// A fresh embedded database in memory.
pub fn memory_db() -> Arc<Database> {
    Database::in_memory()
}

/// A fresh embedded database in a new data directory (WAL, synced
/// commits, read connections beside the writer: as `herald-local` runs).
pub fn durable_db() -> Arc<Database> {
    let dir = std::env::temp_dir().join("herald-store-tests").join(uuid::Uuid::new_v4().to_string());
    Database::open(&Location::Directory(dir), Durability::Full).expect("open a data directory")
}

/// Runs each contract case against every adapter set, as separate tests:
/// the embedded store in memory and in a data directory (`embedded(db)`)
/// and DynamoDB on moto (`dynamo()`). `case: n` hands the case element `n`
/// of a tuple of stores.
macro_rules! contract_on_both_stores {
    ($($case:ident $(: $pick:tt)?),* $(,)?) => {
        mod embedded_store {
            $(#[tokio::test] async fn $case() { super::$case(super::embedded($crate::common::memory_db())$(.$pick)?).await; })*
        }
        mod durable_store {
            $(#[tokio::test] async fn $case() { super::$case(super::embedded($crate::common::durable_db())$(.$pick)?).await; })*
        }
        mod dynamodb_store {
            $(#[tokio::test] async fn $case() { super::$case(super::dynamo().await$(.$pick)?).await; })*
        }
    };
}
