//! The embedded database's schema and its migrations. The schema version is
//! SQLite's `user_version`; each migration moves it up by one inside a
//! transaction, so a database is always at exactly one version. A database
//! newer than this build is refused, never written to.
//!
//! Documents are JSON in `body` columns (the same documents the DynamoDB
//! adapters keep in `doc`); the columns beside them are what a condition or
//! an index reads. Every query is on a primary key or an index
//! (docs/data-model.md, "Embedded store").
use rusqlite::Connection;

/// Every migration, oldest first: migration `n` (counting from 1) takes the
/// database from version `n - 1` to `n`. Append; never edit one released.
const MIGRATIONS: &[&str] = &[V1];

/// The schema version this build writes.
pub const KNOWN_VERSION: i64 = MIGRATIONS.len() as i64;

const V1: &str = r#"
CREATE TABLE bus_channels (
    tenant TEXT NOT NULL, channel TEXT NOT NULL, head INTEGER NOT NULL,
    -- when the last message expires: then the whole channel has
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, channel)) WITHOUT ROWID;
CREATE INDEX bus_channels_expiry ON bus_channels (expires_at);
CREATE TABLE bus_messages (
    tenant TEXT NOT NULL, channel TEXT NOT NULL, seq INTEGER NOT NULL,
    published_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (tenant, channel, seq)) WITHOUT ROWID;
CREATE INDEX bus_messages_expiry ON bus_messages (expires_at);

CREATE TABLE users (tenant TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (tenant, id)) WITHOUT ROWID;
-- kind 'g': group members, 'c': a company's employees
CREATE TABLE memberships (
    tenant TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, user TEXT NOT NULL,
    PRIMARY KEY (tenant, kind, name, user)) WITHOUT ROWID;
CREATE INDEX memberships_of_user ON memberships (tenant, user);
CREATE TABLE companies (tenant TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (tenant, id)) WITHOUT ROWID;
CREATE TABLE types (tenant TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (tenant, key)) WITHOUT ROWID;

CREATE TABLE notifications (
    tenant TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
    -- due time or end of the publisher's lease, while awaiting publication
    due_at INTEGER, body TEXT NOT NULL,
    PRIMARY KEY (tenant, id)) WITHOUT ROWID;
CREATE INDEX notifications_due ON notifications (due_at, tenant, id) WHERE due_at IS NOT NULL;
CREATE TABLE contexts (
    tenant TEXT NOT NULL, source_table TEXT NOT NULL, source_id TEXT NOT NULL, type_key TEXT NOT NULL,
    notification TEXT NOT NULL,
    PRIMARY KEY (tenant, source_table, source_id, type_key)) WITHOUT ROWID;
CREATE TABLE idempotency_keys (
    tenant TEXT NOT NULL, key TEXT NOT NULL, notification TEXT NOT NULL, expires_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, key)) WITHOUT ROWID;
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
CREATE TABLE deliveries (
    tenant TEXT NOT NULL, notification TEXT NOT NULL, revision INTEGER NOT NULL,
    -- 0 a company, 1 a user: the order of their keys on DynamoDB
    recipient_kind INTEGER NOT NULL, recipient TEXT NOT NULL,
    version INTEGER NOT NULL, expires_at INTEGER, body TEXT NOT NULL,
    PRIMARY KEY (tenant, notification, revision, recipient_kind, recipient)) WITHOUT ROWID;
CREATE INDEX deliveries_expiry ON deliveries (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE inbox (
    tenant TEXT NOT NULL, user TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
    expires_at INTEGER, body TEXT NOT NULL,
    PRIMARY KEY (tenant, user, id)) WITHOUT ROWID;
CREATE INDEX inbox_expiry ON inbox (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE resources (tenant TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (tenant, name)) WITHOUT ROWID;
CREATE TABLE records (
    tenant TEXT NOT NULL, resource TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (tenant, resource, id)) WITHOUT ROWID;
-- every saved version, by modification time, record and version (as the
-- DynamoDB change log's sort key)
CREATE TABLE changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL, resource TEXT NOT NULL, modified_on INTEGER NOT NULL,
    record TEXT NOT NULL, version INTEGER NOT NULL,
    expires_at INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX changes_window ON changes (tenant, resource, modified_on, record, version);
CREATE INDEX changes_expiry ON changes (expires_at);

CREATE TABLE subscriptions (
    tenant TEXT NOT NULL, id TEXT NOT NULL, subscriber TEXT NOT NULL, version INTEGER NOT NULL,
    -- next check or end of a check's lease, while scheduled
    due_at INTEGER, body TEXT NOT NULL,
    PRIMARY KEY (tenant, id)) WITHOUT ROWID;
CREATE INDEX subscriptions_of_subscriber ON subscriptions (tenant, subscriber, id);
CREATE INDEX subscriptions_due ON subscriptions (due_at, tenant, id) WHERE due_at IS NOT NULL;
CREATE TABLE templates (tenant TEXT NOT NULL, name TEXT NOT NULL, source TEXT NOT NULL, PRIMARY KEY (tenant, name)) WITHOUT ROWID;

-- the outbox queue: a message is visible from `visible_at`; a receive
-- hides it until then and changes its `receipt`
CREATE TABLE queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL, receives INTEGER NOT NULL,
    visible_at INTEGER NOT NULL, receipt TEXT);
CREATE INDEX queue_visible ON queue (visible_at, id);
CREATE TABLE dead_letters (id INTEGER PRIMARY KEY, body TEXT NOT NULL, receives INTEGER NOT NULL, moved_at INTEGER NOT NULL);
"#;

/// Run at every open, after the migrations: makes every outbox message
/// received before the database was opened visible again at once (whoever
/// received it is gone: the data directory's lock, or memory, says no other
/// process uses the queue).
pub const AT_OPEN: &str = "UPDATE queue SET visible_at = 0, receipt = NULL WHERE receipt IS NOT NULL";

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("schema version {found} is newer than this build's {known}")]
    TooNew { found: i64, known: i64 },
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// The database's schema version (0: empty, or not Herald's).
pub fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
}

/// Brings the database to [`KNOWN_VERSION`].
pub fn migrate(conn: &Connection) -> Result<(), MigrateError> {
    let found = version(conn)?;
    if found > KNOWN_VERSION {
        return Err(MigrateError::TooNew { found, known: KNOWN_VERSION });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(usize::try_from(found).unwrap_or(0)) {
        let target = index as i64 + 1;
        conn.execute_batch(&format!("BEGIN IMMEDIATE; {sql}; PRAGMA user_version = {target}; COMMIT;"))
            .inspect_err(|_| {
                let _ = conn.execute_batch("ROLLBACK");
            })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_database_gets_every_migration_and_a_newer_one_is_refused() {
        let conn = Connection::open_in_memory().unwrap();
        migrate(&conn).unwrap();
        assert_eq!(version(&conn).unwrap(), KNOWN_VERSION);
        // Again: nothing to do.
        migrate(&conn).unwrap();
        conn.execute_batch(&format!("PRAGMA user_version = {}", KNOWN_VERSION + 1)).unwrap();
        assert!(matches!(migrate(&conn), Err(MigrateError::TooNew { found, .. }) if found == KNOWN_VERSION + 1));
    }
}
