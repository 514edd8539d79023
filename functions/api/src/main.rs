//! Lambda entry point of the `api` function: the same router `herald-local`
//! serves, run by `lambda_http` (`http::serve_lambda`: many invocations at once on Managed Instances).
use herald::wiring::{Aws, ApiFunction, Wiring};
use herald::{config::Config, http, telemetry};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init();
    let services = Wiring::new(Config::from_env()?, Aws, ApiFunction).build().await?;
    http::serve_lambda(http::api_function(services)).await
}
