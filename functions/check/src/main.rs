//! Lambda entry point of the `check` function, run by EventBridge every
//! minute: publishes the notifications that are due.
use std::sync::Arc;

use herald::adapters::aws::lambda::scheduled_check;
use herald::{app::Services, config::Config, domain::SystemClock, telemetry};
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = Config::from_env()?;
    let services = Services::aws(&config, Arc::new(SystemClock)).await?.services;
    let notifier = &services.notifier;
    lambda_runtime::run(service_fn(|_: LambdaEvent<serde_json::Value>| async move {
        scheduled_check(notifier).await.map_err(Error::from)
    }))
    .await
}
