//! Lambda entry point of the `check` function, run by EventBridge: every
//! minute it publishes the notifications that are due; every 5 minutes
//! (input `{"job": "subscriptions"}`) it runs the subscription check.
use std::sync::Arc;

use herald::adapters::aws::lambda::scheduled_check;
use herald::{app::{self, Services}, config::Config, domain::SystemClock, telemetry};
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = Config::from_env()?;
    let services = Services::lambda(&config, Arc::new(SystemClock), app::queue_outbox).await?;
    let (notifier, checker) = (&services.notifier, &services.checker);
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| async move {
        scheduled_check(notifier, checker, &event.payload).await.map_err(Error::from)
    }))
    .await
}
