//! A hello-world `lambda_runtime` function, built like Herald's functions,
//! so `coldstart-bench` can state their cold start as a ratio to it.
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| async move { Ok::<_, Error>(serde_json::json!({"hello": event.payload})) })).await
}
