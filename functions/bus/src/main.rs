//! Lambda entry point of the `bus` function: the same router `herald-local`
//! serves, run by `lambda_http`.
use herald::wiring::{Aws, BusFunction, Wiring};
use herald::{config::Config, http, telemetry};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init();
    let services = Wiring::new(Config::from_env()?, Aws, BusFunction).build().await?;
    lambda_http::run(http::bus_function(services)).await
}
