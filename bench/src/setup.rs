//! What the in-process benches share: the configuration of their wiring.
use herald::config::Config;

/// The benches' configuration; on DynamoDB, tables named after `tables`
/// (`{tables}` for the data, `{tables}-bus` for the bus).
pub fn config(tables: Option<String>) -> anyhow::Result<Config> {
    Ok(Config::from_lookup(move |name| match name {
        "HERALD_JWT_SECRET" => Some("bench-secret-0123456789abcdef".to_owned()),
        "HERALD_DATA_TABLE" => tables.clone(),
        "HERALD_BUS_TABLE" => tables.as_ref().map(|t| format!("{t}-bus")),
        _ => None,
    })?)
}

/// The embedded store on a fresh data directory under
/// `target/bench/data/`, synced as `herald-local` runs by default: what the
/// "durable" lines measure, beside `Embedded::memory()`.
#[allow(dead_code)] // not every bench binary that includes this module uses it
pub fn durable(name: &str) -> anyhow::Result<herald::wiring::Embedded> {
    let dir = std::path::PathBuf::from("target/bench/data").join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    Ok(herald::wiring::Embedded::open(&herald::adapters::embedded::Location::Directory(dir), herald::adapters::embedded::Durability::Full)?)
}
