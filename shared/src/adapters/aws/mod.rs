//! AWS adapters. All configuration (region, credentials, `AWS_ENDPOINT_URL`)
//! comes from `aws-config`; nothing here knows where the endpoint is.
mod bus_store;
mod directory_store;
mod request_count;
pub mod tables;
mod type_store;

pub use bus_store::DynamoBusStore;
pub use directory_store::DynamoDirectoryStore;
pub use aws_config::SdkConfig;
pub use aws_sdk_dynamodb::Client as DynamoClient;
pub use request_count::RequestCount;
pub use type_store::DynamoTypeStore;

/// Loads the shared AWS configuration from the environment.
pub async fn load_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await
}

/// The message of an SDK error with its causes, for logs and 503 bodies that
/// never carry secrets.
pub(crate) fn describe<E: std::error::Error>(error: &E) -> String {
    aws_sdk_dynamodb::error::DisplayErrorContext(error).to_string()
}
