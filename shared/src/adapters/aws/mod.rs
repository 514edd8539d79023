//! AWS adapters: the stores on DynamoDB, the outbox queue on SQS, the mailer
//! on SES v2. All configuration (region, credentials, `AWS_ENDPOINT_URL`)
//! comes from `aws-config`; nothing here knows where the endpoint is.
mod bus_store;
mod directory_store;
mod inbox_store;
mod items;
mod notification_store;
pub mod queue;
mod record_store;
mod request_count;
mod sdk_client;
mod ses_mailer;
mod session_store;
mod subscription_store;
mod table;
pub mod tables;
mod template_store;
mod type_store;

pub use bus_store::DynamoBusStore;
pub use directory_store::DynamoDirectoryStore;
pub use inbox_store::DynamoInboxStore;
pub use notification_store::DynamoNotificationStore;
pub use queue::SqsQueue;
pub use record_store::DynamoRecordStore;
pub use ses_mailer::SesMailer;
pub use session_store::DynamoSessionStore;
pub use subscription_store::DynamoSubscriptionStore;
pub use table::{Table, DUE_INDEX};
pub use template_store::DynamoTemplateStore;
pub use aws_config::SdkConfig;
pub use aws_sdk_dynamodb::Client as DynamoClient;
pub use request_count::RequestCount;
pub use sdk_client::{FromSdkConfig, SdkClient};
pub use type_store::DynamoTypeStore;

/// Loads the shared AWS configuration from the environment.
///
/// When the credentials are in the environment (always, in Lambda), they
/// are read from there directly. The default chain would find them too,
/// but building it creates an STS client for web identity, and that
/// client builds its TLS connector at once, reading every CA certificate
/// on the machine: most of a function's cold start, for nothing. With
/// this, no connector exists until the first request needs one.
pub async fn load_config() -> aws_config::SdkConfig {
    let loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    let loader = if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() {
        loader.credentials_provider(aws_config::environment::EnvironmentVariableCredentialsProvider::new())
    } else {
        loader
    };
    loader.load().await
}

/// The message of an SDK error with its causes, for logs and 503 bodies that
/// never carry secrets.
pub(crate) fn describe<E: std::error::Error>(error: &E) -> String {
    aws_sdk_dynamodb::error::DisplayErrorContext(error).to_string()
}
