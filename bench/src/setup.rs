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
