//! Lambda entry point of the `outbox` function: SQS batches of delivery
//! keys, answered with partial batch failures.
use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use herald::adapters::aws::lambda::outbox_batch;
use herald::{app::{self, Services}, config::Config, domain::SystemClock, telemetry};
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = Config::from_env()?;
    let services = Services::lambda(&config, Arc::new(SystemClock), app::mail_outbox).await?;
    let outbox = &services.outbox;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| async move {
        Ok::<SqsBatchResponse, Error>(outbox_batch(outbox, event.payload).await)
    }))
    .await
}
