//! The library's integration tests, one binary: the layers of
//! docs/architecture.md held against the imports, each port's contract suite
//! on both adapter sets (embedded, and DynamoDB/SQS on the moto server that
//! `scripts/test` starts), and the exactly-once suites of the outbox and
//! the subscription check; and README's table of limits held to the code.
#[macro_use]
mod common;
mod architecture;
mod bus_store_contract;
mod bus_watcher;
mod directory_store_contract;
mod limits_doc;
mod notification_store_contract;
mod openapi_doc;
mod outbox_exactly_once;
mod parsers;
mod record_store_contract;
mod session_store_contract;
mod subscription_check;
mod subscription_store_contract;
mod type_store_contract;
