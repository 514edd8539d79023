//! Lambda entry point of the `check` function, run by EventBridge: every
//! minute it publishes the notifications that are due and pushes the inbox
//! items come due to their users' clients; every 5 minutes
//! (input `{"job": "subscriptions"}`) it runs the subscription check.
use herald::wiring::{Aws, CheckFunction, Wiring};
use herald::{config::Config, events, telemetry};
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let services = &Wiring::new(Config::from_env()?, Aws, CheckFunction).build().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| async move {
        events::scheduled(services, &event.payload).await.map_err(Error::from)
    }))
    .await
}
