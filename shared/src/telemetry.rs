//! Logging set up in one place: JSON lines in Lambda (CloudWatch), readable
//! text on a terminal, or as `HERALD_LOG_FORMAT` (`json`, `text`) says.
//! `RUST_LOG` filters (default `info`).
use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = match std::env::var("HERALD_LOG_FORMAT").as_deref() {
        Ok("json") => true,
        Ok("text") => false,
        _ => std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some(),
    };
    // Standard error: standard output is what herald-local says to its
    // user (its address, its tokens); Lambda keeps both.
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // Ignore a second init (tests may call it more than once).
    let _ = if json {
        builder.json().with_current_span(false).without_time().try_init()
    } else {
        builder.with_target(false).try_init()
    };
}
