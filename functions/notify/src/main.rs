//! Lambda entry point of the `notify` function: the same router `herald-local`
//! serves, run by `lambda_http` (`http::serve_lambda`: many invocations at once on Managed Instances).
use herald::wiring::{Aws, NotifyFunction, Wiring};
use herald::{config::Config, http, telemetry};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init();
    let services = Wiring::new(Config::from_env()?, Aws, NotifyFunction).build().await?;
    http::serve_lambda(http::notify_function(services)).await
}
