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
const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6];

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

/// Notifications, their deliveries and subscriptions become rowid tables,
/// keyed by a unique index. Their rows are documents of hundreds of bytes
/// to kilobytes, written in place by every check and publication: in a
/// WITHOUT ROWID table the whole row is the b-tree's key, so interior
/// pages carry copies of documents (a deeper tree) and a notification's
/// document over ~1 KB spills onto an overflow page; in a rowid table the
/// row lives in its leaf (up to ~4 KB) and the key index holds only the
/// key (docs/decisions.md, "Rowid tables for documents").
const V2: &str = r#"
CREATE TABLE notifications_v2 (
    tenant TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
    -- due time or end of the publisher's lease, while awaiting publication
    due_at INTEGER, body TEXT NOT NULL);
INSERT INTO notifications_v2 (tenant, id, version, due_at, body) SELECT tenant, id, version, due_at, body FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_v2 RENAME TO notifications;
CREATE UNIQUE INDEX notifications_key ON notifications (tenant, id);
CREATE INDEX notifications_due ON notifications (due_at, tenant, id) WHERE due_at IS NOT NULL;

CREATE TABLE deliveries_v2 (
    tenant TEXT NOT NULL, notification TEXT NOT NULL, revision INTEGER NOT NULL,
    -- 0 a company, 1 a user: the order of their keys on DynamoDB
    recipient_kind INTEGER NOT NULL, recipient TEXT NOT NULL,
    version INTEGER NOT NULL, expires_at INTEGER, body TEXT NOT NULL);
INSERT INTO deliveries_v2 (tenant, notification, revision, recipient_kind, recipient, version, expires_at, body)
    SELECT tenant, notification, revision, recipient_kind, recipient, version, expires_at, body FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_v2 RENAME TO deliveries;
CREATE UNIQUE INDEX deliveries_key ON deliveries (tenant, notification, revision, recipient_kind, recipient);
CREATE INDEX deliveries_expiry ON deliveries (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE subscriptions_v2 (
    tenant TEXT NOT NULL, id TEXT NOT NULL, subscriber TEXT NOT NULL, version INTEGER NOT NULL,
    -- next check or end of a check's lease, while scheduled
    due_at INTEGER, body TEXT NOT NULL);
INSERT INTO subscriptions_v2 (tenant, id, subscriber, version, due_at, body) SELECT tenant, id, subscriber, version, due_at, body FROM subscriptions;
DROP TABLE subscriptions;
ALTER TABLE subscriptions_v2 RENAME TO subscriptions;
CREATE UNIQUE INDEX subscriptions_key ON subscriptions (tenant, id);
CREATE INDEX subscriptions_of_subscriber ON subscriptions (tenant, subscriber, id);
CREATE INDEX subscriptions_due ON subscriptions (due_at, tenant, id) WHERE due_at IS NOT NULL;
"#;

/// Client ids (`client:<id>` channels) bound to the first user that polls
/// them, or that a publisher names (docs/decisions.md, "Client channels").
const V3: &str = r#"
CREATE TABLE bus_clients (
    tenant TEXT NOT NULL, client TEXT NOT NULL, user TEXT NOT NULL, expires_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, client)) WITHOUT ROWID;
CREATE INDEX bus_clients_expiry ON bus_clients (expires_at);
"#;

/// trytond's sessions, mirrored (docs/tryton.md): the hash of each key,
/// never the key.
const V4: &str = r#"
CREATE TABLE tryton_sessions (
    tenant TEXT NOT NULL, user TEXT NOT NULL, key_hash TEXT NOT NULL, expires_at INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (tenant, user, key_hash)) WITHOUT ROWID;
CREATE INDEX tryton_sessions_expiry ON tryton_sessions (expires_at);
"#;

/// A bus message's publisher id (trytond's `message_id`): a channel takes
/// an id once, while the message is kept (the sweeper deletes both).
const V5: &str = r#"
ALTER TABLE bus_messages ADD COLUMN publication_id TEXT;
CREATE UNIQUE INDEX bus_messages_publication ON bus_messages (tenant, channel, publication_id) WHERE publication_id IS NOT NULL;
"#;

/// The inbox's due index: a postponed unread item's due time, while its
/// coming due is still to be pushed to its user's clients (items stored
/// before carry none: they were never marked).
const V6: &str = r#"
ALTER TABLE inbox ADD COLUMN due_at INTEGER;
CREATE INDEX inbox_due ON inbox (due_at, tenant, user, id) WHERE due_at IS NOT NULL;
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
    migrate_to(conn, MIGRATIONS.len())
}

/// Brings the database to version `target` (tests start from older ones).
pub(super) fn migrate_to(conn: &Connection, target: usize) -> Result<(), MigrateError> {
    let found = version(conn)?;
    if found > KNOWN_VERSION {
        return Err(MigrateError::TooNew { found, known: KNOWN_VERSION });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().take(target).skip(usize::try_from(found).unwrap_or(0)) {
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

    /// Version 6 adds the inbox's due index: items stored before are kept,
    /// out of it; the due read goes through the index, in its order.
    #[test]
    fn version_6_indexes_the_inbox_by_due_time() {
        let conn = Connection::open_in_memory().unwrap();
        migrate_to(&conn, 5).unwrap();
        conn.execute_batch("INSERT INTO inbox (tenant, user, id, version, expires_at, body) VALUES ('t', 'u', 'i1', 1, NULL, '{}')").unwrap();
        migrate(&conn).unwrap();
        let due: Option<i64> = conn.query_row("SELECT due_at FROM inbox WHERE tenant = 't' AND user = 'u' AND id = 'i1'", [], |row| row.get(0)).unwrap();
        assert_eq!(due, None);
        let sql = "EXPLAIN QUERY PLAN SELECT body FROM inbox WHERE due_at IS NOT NULL AND due_at <= 10 ORDER BY due_at, tenant, user, id LIMIT 5";
        let mut statement = conn.prepare(sql).unwrap();
        let plan = statement.query_map([], |row| row.get::<_, String>(3)).unwrap().collect::<Result<Vec<_>, _>>().unwrap().join("; ");
        assert!(plan.contains("inbox_due") && !plan.contains("TEMP B-TREE"), "{plan}");
    }

    /// Version 1's WITHOUT ROWID notifications, deliveries and
    /// subscriptions become rowid tables: every row kept, every index there,
    /// the keys still unique.
    #[test]
    fn version_2_keeps_every_row_and_key_of_the_tables_it_rebuilds() {
        version_2_keeps_every_row_and_key(Connection::open_in_memory().unwrap());
        // As herald-local's files are: incremental vacuum, then WAL.
        let dir = std::env::temp_dir().join("herald-db-tests").join(uuid::Uuid::new_v4().to_string());
        std::fs::create_dir_all(&dir).unwrap();
        let conn = Connection::open(dir.join("herald.db")).unwrap();
        conn.pragma_update(None, "auto_vacuum", "INCREMENTAL").unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        version_2_keeps_every_row_and_key(conn);
    }

    fn version_2_keeps_every_row_and_key(conn: Connection) {
        migrate_to(&conn, 1).unwrap();
        assert_eq!(version(&conn).unwrap(), 1);
        conn.execute_batch(
            "INSERT INTO notifications VALUES ('t', 'n1', 2, NULL, '{\"n\":1}'), ('t', 'n2', 1, 5, '{\"n\":2}');
             INSERT INTO deliveries VALUES ('t', 'n1', 1, 1, 'u1', 3, 9, '{\"d\":1}'), ('t', 'n1', 1, 0, 'c1', 1, NULL, '{\"d\":2}');
             INSERT INTO subscriptions VALUES ('t', 's1', 'user:u1', 4, 7, '{\"s\":1}'), ('u', 's1', 'group:g', 1, NULL, '{\"s\":2}');",
        )
        .unwrap();
        let rows = |sql: &str| -> Vec<String> {
            let mut statement = conn.prepare(sql).unwrap();
            statement.query_map([], |row| row.get::<_, String>(0)).unwrap().collect::<Result<_, _>>().unwrap()
        };
        let before = [
            rows("SELECT tenant || id || version || ifnull(due_at, '-') || body FROM notifications ORDER BY tenant, id"),
            rows("SELECT tenant || notification || revision || recipient_kind || recipient || version || ifnull(expires_at, '-') || body FROM deliveries ORDER BY 1"),
            rows("SELECT tenant || id || subscriber || version || ifnull(due_at, '-') || body FROM subscriptions ORDER BY tenant, id"),
        ];
        migrate(&conn).unwrap();
        assert_eq!(version(&conn).unwrap(), KNOWN_VERSION);
        let after = [
            rows("SELECT tenant || id || version || ifnull(due_at, '-') || body FROM notifications ORDER BY tenant, id"),
            rows("SELECT tenant || notification || revision || recipient_kind || recipient || version || ifnull(expires_at, '-') || body FROM deliveries ORDER BY 1"),
            rows("SELECT tenant || id || subscriber || version || ifnull(due_at, '-') || body FROM subscriptions ORDER BY tenant, id"),
        ];
        assert_eq!(before, after);
        assert_eq!(before.iter().map(Vec::len).sum::<usize>(), 6);
        // Rowid tables now, with their indexes.
        for table in ["notifications", "deliveries", "subscriptions"] {
            assert_eq!(rows(&format!("SELECT count(rowid) || '' FROM {table}")), ["2"]);
        }
        let indexes = rows("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name");
        for index in ["deliveries_expiry", "deliveries_key", "notifications_due", "notifications_key", "subscriptions_due", "subscriptions_key", "subscriptions_of_subscriber"] {
            assert!(indexes.iter().any(|i| i == index), "{index} missing: {indexes:?}");
        }
        // The keys are still unique.
        assert!(conn.execute("INSERT INTO notifications VALUES ('t', 'n1', 1, NULL, '{}')", []).is_err());
        assert_eq!(conn.execute("INSERT OR IGNORE INTO deliveries VALUES ('t', 'n1', 1, 1, 'u1', 1, NULL, '{}')", []).unwrap(), 0);
        assert!(conn.execute("INSERT INTO subscriptions VALUES ('u', 's1', 'user:x', 1, NULL, '{}')", []).is_err());
        // Reads by key and by due time go through the indexes, not the table.
        let plan = |sql: &str| -> String {
            let mut statement = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            statement.query_map([], |row| row.get::<_, String>(3)).unwrap().collect::<Result<Vec<_>, _>>().unwrap().join("; ")
        };
        for (sql, index) in [
            ("SELECT body FROM notifications WHERE tenant = 't' AND id = 'n1'", "notifications_key"),
            ("SELECT body FROM deliveries WHERE tenant = 't' AND notification = 'n1' ORDER BY revision, recipient_kind, recipient", "deliveries_key"),
            ("SELECT body FROM subscriptions WHERE tenant = 't' AND id = 's1'", "subscriptions_key"),
            ("SELECT tenant, id FROM subscriptions WHERE due_at IS NOT NULL AND due_at <= 10 ORDER BY due_at, tenant, id LIMIT 5", "subscriptions_due"),
        ] {
            let plan = plan(sql);
            assert!(plan.contains(index) && !plan.contains("TEMP B-TREE"), "{sql}: {plan}");
        }
    }
}
