//! Lambda entry point of the `bus` function: the same router `herald-local`
//! serves, run by `lambda_http` (`http::serve_lambda`: many invocations at once on Managed Instances).
use herald::wiring::{Aws, BusFunction, Wiring};
use herald::{config::Config, http, telemetry};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init();
    let services = Wiring::new(Config::from_env()?, Aws, BusFunction).build().await?;
    http::serve_lambda(http::bus_function(services)).await
}
