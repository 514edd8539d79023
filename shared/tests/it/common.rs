//! Shared by the contract suites: a DynamoDB client for moto server.

/// A client for the moto server that `scripts/test` started, and a fresh
/// table name with `prefix`.
pub async fn moto_client(prefix: &str) -> (aws_sdk_dynamodb::Client, String) {
    assert!(
        std::env::var_os("AWS_ENDPOINT_URL").is_some(),
        "AWS_ENDPOINT_URL is not set: run the suite with scripts/test (it starts moto server)"
    );
    let sdk = herald::adapters::aws::load_config().await;
    (aws_sdk_dynamodb::Client::new(&sdk), format!("{prefix}-{}", uuid::Uuid::new_v4()))
}
