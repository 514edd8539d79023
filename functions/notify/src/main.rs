//! Lambda entry point of the `notify` function: the same router the local
//! gateway serves, run by `lambda_http`.
use std::sync::Arc;

use herald::{app::{self, Services}, config::Config, domain::SystemClock, http, telemetry};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init();
    let config = Config::from_env()?;
    let services = Services::lambda(&config, Arc::new(SystemClock), app::queue_outbox).await?;
    lambda_http::run(http::notify_function(services)).await
}
