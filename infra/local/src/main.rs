//! `herald-local`: every HTTP route of template.yaml on 127.0.0.1, the
//! scheduled jobs on their schedule, the outbox drained in-process. SAM local
//! without Docker. See README.md.
mod dev;
mod gateway;
mod serve;

use clap::Parser;

#[derive(Debug, Parser)]
#[command(name = "herald-local", about = "Herald's local gateway: the whole product on one laptop")]
pub struct Args {
    /// Port on 127.0.0.1 (0 picks a free one; the chosen address is printed).
    #[arg(long, default_value_t = 3000)]
    pub port: u16,
    /// Use the AWS adapters (DynamoDB) with the standard AWS environment
    /// (`AWS_ENDPOINT_URL`, region, credentials) instead of the embedded
    /// store; missing tables are created.
    #[arg(long)]
    pub aws: bool,
    /// Folder where emails are written as `.eml` files (embedded mode;
    /// default `HERALD_MAIL_DIR`, else `herald-mail` under the working
    /// directory).
    #[arg(long)]
    pub mail_dir: Option<std::path::PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    herald::telemetry::init();
    gateway::run(Args::parse()).await
}
