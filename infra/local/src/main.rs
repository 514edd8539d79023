//! `herald-local`: every HTTP route of template.yaml on 127.0.0.1, the
//! scheduled jobs on their schedule, the outbox drained in-process, state
//! kept in a data directory. The single-machine deployment; see README.md.
mod dev;
mod gateway;
mod serve;
mod ui;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "herald-local", about = "Herald on one machine: the whole product, its state in a data directory")]
pub struct Args {
    /// Port on 127.0.0.1 (0 picks a free one; the chosen address is printed).
    #[arg(long, default_value_t = 3000)]
    pub port: u16,
    /// Where the state lives: `herald.db` (SQLite), the generated token
    /// `secret` and the `lock` of the running process.
    #[arg(long, env = "HERALD_DATA_DIR", default_value = ".herald")]
    pub data_dir: PathBuf,
    /// Keep nothing: the state lives in memory and is gone at exit (a
    /// throwaway gateway for demos and tests).
    #[arg(long, conflicts_with = "aws")]
    pub memory: bool,
    /// How much an acknowledged write waits for the disk: `full` (synced at
    /// every commit; survives a power cut) or `normal` (survives the process
    /// being killed, not a power cut).
    #[arg(long, env = "HERALD_SYNC", value_enum, default_value_t = SyncMode::Full)]
    pub sync: SyncMode,
    /// Use the AWS adapters (DynamoDB) with the standard AWS environment
    /// (`AWS_ENDPOINT_URL`, region, credentials) instead of the embedded
    /// store; missing tables are created.
    #[arg(long)]
    pub aws: bool,
    /// Folder where emails are written as `.eml` files (embedded mode;
    /// default `HERALD_MAIL_DIR`, else `herald-mail` under the working
    /// directory).
    #[arg(long)]
    pub mail_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SyncMode {
    Full,
    Normal,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Copy the data directory's database into FILE, consistently, while
    /// the gateway runs (the `secret` file is not in it: keep it too).
    Backup { file: PathBuf },
    /// Replace the data directory's database with the backup FILE (stop
    /// the gateway first).
    Restore { file: PathBuf },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    herald::telemetry::init();
    let args = Args::parse();
    match &args.command {
        None => gateway::run(args).await,
        Some(Command::Backup { file }) => {
            herald::adapters::embedded::db::backup(&args.data_dir, file)?;
            println!("backed up {} to {}", args.data_dir.display(), file.display());
            Ok(())
        }
        Some(Command::Restore { file }) => {
            herald::adapters::embedded::db::restore(&args.data_dir, file)?;
            println!("restored {} from {}", args.data_dir.display(), file.display());
            Ok(())
        }
    }
}
