//! Lambda entry point of the `notify` function: the same router `herald-local`
//! serves, run by `lambda_http`.
use herald::wiring::{Aws, NotifyFunction, Wiring};
use herald::{config::Config, http, telemetry};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init();
    let services = Wiring::new(Config::from_env()?, Aws, NotifyFunction).build().await?;
    lambda_http::run(http::notify_function(services)).await
}
