//! SDK clients built on first use.
//!
//! Building an SDK client validates its configuration by building an HTTPS
//! connector, which loads every CA certificate on the machine: several
//! milliseconds of each function's cold start, spent even when the first
//! request (a refusal, an empty batch) never calls AWS. Adapters hold a
//! `SdkClient` and use it as the client it derefs to; a deferred one is
//! built the first time it is used, once per process.
use std::ops::Deref;
use std::sync::{Arc, OnceLock};

use aws_config::SdkConfig;

/// A client that can be built from the shared configuration.
pub trait FromSdkConfig {
    fn from_sdk_config(config: &SdkConfig) -> Self;
}

impl FromSdkConfig for aws_sdk_dynamodb::Client {
    fn from_sdk_config(config: &SdkConfig) -> Self {
        Self::new(config)
    }
}

impl FromSdkConfig for aws_sdk_sqs::Client {
    fn from_sdk_config(config: &SdkConfig) -> Self {
        Self::new(config)
    }
}

impl FromSdkConfig for aws_sdk_sesv2::Client {
    fn from_sdk_config(config: &SdkConfig) -> Self {
        Self::new(config)
    }
}

/// A client, built now or on first use; clones share one client.
#[derive(Clone)]
pub struct SdkClient<C>(Arc<Inner<C>>);

struct Inner<C> {
    client: OnceLock<C>,
    /// What a deferred client is built from; never read for a ready one.
    config: SdkConfig,
}

impl<C: FromSdkConfig> SdkClient<C> {
    /// Built the first time it is used.
    pub fn deferred(config: &SdkConfig) -> Self {
        Self(Arc::new(Inner { client: OnceLock::new(), config: config.clone() }))
    }
}

impl<C> From<C> for SdkClient<C> {
    fn from(client: C) -> Self {
        Self(Arc::new(Inner { client: OnceLock::from(client), config: SdkConfig::builder().build() }))
    }
}

impl<C: FromSdkConfig> Deref for SdkClient<C> {
    type Target = C;

    fn deref(&self) -> &C {
        self.0.client.get_or_init(|| C::from_sdk_config(&self.0.config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(region: &'static str) -> SdkConfig {
        SdkConfig::builder().behavior_version(aws_config::BehaviorVersion::latest()).region(aws_config::Region::new(region)).build()
    }

    #[test]
    fn a_deferred_client_is_built_on_first_use_once_for_all_clones() {
        let config = config("us-east-1");
        let client = SdkClient::<aws_sdk_sqs::Client>::deferred(&config);
        let copy = client.clone();
        assert!(client.0.client.get().is_none(), "nothing built before use");
        let (first, second): (*const aws_sdk_sqs::Client, *const aws_sdk_sqs::Client) = (&*copy, &*client);
        assert_eq!(first, second, "one client, shared");
        assert_eq!(client.config().region().map(|r| r.as_ref()), Some("us-east-1"));
    }

    #[test]
    fn a_ready_client_is_used_as_given() {
        let client = SdkClient::from(aws_sdk_sqs::Client::new(&config("eu-west-3")));
        assert!(client.0.client.get().is_some(), "nothing left to build");
        assert_eq!(client.config().region().map(|r| r.as_ref()), Some("eu-west-3"), "not rebuilt from the empty configuration");
    }
}
