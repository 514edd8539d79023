//! Logging set up in one place: JSON lines in Lambda (CloudWatch), readable
//! text on a terminal. `RUST_LOG` filters (default `info`).
use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // Ignore a second init (tests may call it more than once).
    let _ = if in_lambda {
        builder.json().with_current_span(false).without_time().try_init()
    } else {
        builder.with_target(false).try_init()
    };
}
