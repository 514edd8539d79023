//! Lambda entry point of the `outbox` function: SQS batches of delivery
//! keys, answered with partial batch failures.
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use herald::wiring::{Aws, OutboxFunction, Wiring};
use herald::{config::Config, events, telemetry};
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let services = &Wiring::new(Config::from_env()?, Aws, OutboxFunction).build().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| async move {
        Ok::<SqsBatchResponse, Error>(events::outbox_batch(services, event.payload).await)
    }))
    .await
}
