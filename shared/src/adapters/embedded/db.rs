//! The embedded database: SQLite (bundled, so nothing to install) in a data
//! directory, or in memory for tests and throwaway gateways.
//!
//! Writes go to one writer thread that owns the only writing connection. It
//! takes every write waiting, runs each in its own savepoint inside one
//! transaction and commits them together (group commit), then answers each:
//! an answer is sent only after its transaction is on disk. In WAL mode with
//! `synchronous=FULL` a commit returns after the log is synced, so a 2xx
//! answer survives a crash of the process and of the machine
//! (docs/decisions.md, "The durable embedded store"). Reads run on a small
//! pool of read-only connections beside it (WAL lets them see the last
//! commit while a write is under way); in memory, where connections cannot
//! share a database that way, reads go through the writer too.
use std::fs::File;
use std::io::Write as _;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::schema;
use crate::domain::StoreError;

/// The database file inside a data directory.
pub const DATABASE_FILE: &str = "herald.db";
/// The file whose lock says a process holds the data directory.
pub const LOCK_FILE: &str = "lock";

/// The most writes one transaction commits together.
const MAX_BATCH: usize = 512;
/// Writes waiting for the writer before a caller waits to hand its own in.
const QUEUE_DEPTH: usize = 4096;
/// Reads running at once, each on a read connection of its own (with its
/// own page cache of `READER_CACHE_KIB`), kept open for reuse: more than
/// the cores, so a read waiting for the disk does not hold the others up,
/// and bounded, so a burst of polls never opens connections by the
/// hundred (each open parses the schema again).
const READERS: usize = 16;
const READER_CACHE_KIB: i64 = 1024;
/// Prepared statements kept per connection: more than the stores' distinct
/// statements, so none is compiled twice.
const STATEMENT_CACHE: usize = 256;
/// Bytes of write-ahead log kept after a checkpoint.
const JOURNAL_SIZE_LIMIT: i64 = 16 * 1024 * 1024;
/// Pages of log after which a commit copies it into the database (SQLite's
/// default is 1,000): fewer, larger checkpoints, within the size above.
const AUTOCHECKPOINT_PAGES: i64 = 4000;
/// The writer's page cache: the pages the writes touch stay in memory
/// instead of being read again from the file.
const WRITER_CACHE_KIB: i64 = 16 * 1024;
/// How long a connection waits for a lock another holds (a backup reading,
/// a checkpoint) before it reports the store unavailable.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a data directory cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("another process (pid {pid}) holds the data directory {dir}: stop it first, or give this one another --data-dir")]
    Held { dir: PathBuf, pid: String },
    #[error("the data directory {dir} cannot be used: {reason}")]
    Io { dir: PathBuf, reason: String },
    #[error("the database {path} cannot be opened: {reason}")]
    Sqlite { path: PathBuf, reason: String },
    #[error("the database {path} has schema version {found}, newer than this build's {known}: run a newer herald-local")]
    TooNew { path: PathBuf, found: i64, known: i64 },
}

/// How much a commit waits for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// The log is synced at every commit: an acknowledged write survives a
    /// power cut.
    #[default]
    Full,
    /// Synced at checkpoints only: survives the process being killed, may
    /// lose the last writes to a power cut. Faster on slow disks.
    Normal,
}

impl Durability {
    fn pragma(self) -> &'static str {
        match self {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        }
    }
}

/// One write (or, in memory, a read), run by the writer thread in a batch.
trait Job: Send {
    /// Runs the work; `isolated`: in a savepoint of its own, so that its
    /// failure leaves the batch's other writes standing.
    fn run(&mut self, conn: &Connection, isolated: bool);
    /// A read only: needs no transaction.
    fn reads_only(&self) -> bool;
    /// Its work failed (after `run`).
    fn failed(&self) -> bool;
    /// Called once the batch is committed (or failed to).
    fn finish(self: Box<Self>, committed: Result<(), String>);
}

struct Call<T, F> {
    work: Option<F>,
    read: bool,
    outcome: Option<Result<T, StoreError>>,
    reply: tokio::sync::oneshot::Sender<Result<T, StoreError>>,
}

fn statement(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

impl<T: Send, F: FnOnce(&Connection) -> rusqlite::Result<T> + Send> Job for Call<T, F> {
    fn run(&mut self, conn: &Connection, isolated: bool) {
        let Some(work) = self.work.take() else { return };
        if isolated {
            if let Err(e) = statement(conn, "SAVEPOINT job") {
                self.outcome = Some(Err(store_error(e)));
                return;
            }
        }
        let outcome = match std::panic::catch_unwind(AssertUnwindSafe(|| work(conn))) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(store_error(e)),
            Err(_) => Err(StoreError::Unavailable("a store write panicked".into())),
        };
        if !isolated {
            self.outcome = Some(outcome);
            return;
        }
        // A failed write leaves nothing behind; the others in the batch stand.
        let ended = match outcome.is_ok() {
            true => statement(conn, "RELEASE job"),
            false => statement(conn, "ROLLBACK TO job").and_then(|()| statement(conn, "RELEASE job")),
        };
        self.outcome = Some(match ended {
            Ok(()) => outcome,
            Err(e) => Err(store_error(e)),
        });
    }

    fn reads_only(&self) -> bool {
        self.read
    }

    fn failed(&self) -> bool {
        matches!(self.outcome, Some(Err(_)))
    }

    fn finish(self: Box<Self>, committed: Result<(), String>) {
        let answer = match (committed, self.outcome) {
            (Ok(()), Some(outcome)) => outcome,
            (Err(e), _) => Err(StoreError::Unavailable(format!("commit failed: {e}"))),
            (Ok(()), None) => Err(StoreError::Unavailable("a store write did not run".into())),
        };
        let _ = self.reply.send(answer);
    }
}

/// Where the database lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// `herald.db` in this directory, created if missing.
    Directory(PathBuf),
    /// In memory, gone with the process.
    Memory,
}

/// The embedded database, shared by every embedded store.
pub struct Database {
    writer: SyncSender<Box<dyn Job>>,
    /// `None` in memory: reads go through the writer.
    readers: Option<Arc<Readers>>,
    path: Option<PathBuf>,
    /// Held for the life of the process: the data directory is ours.
    _lock: Option<File>,
    /// Signalled when the outbox queue gets a message (`queued`).
    queued: tokio::sync::Notify,
}

struct Readers {
    path: PathBuf,
    /// One permit per read connection: a read waits here for its turn.
    permits: Arc<tokio::sync::Semaphore>,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    fn new(path: PathBuf) -> Self {
        Self { path, permits: Arc::new(tokio::sync::Semaphore::new(READERS)), idle: Mutex::new(Vec::with_capacity(READERS)) }
    }

    fn take(&self) -> rusqlite::Result<Connection> {
        if let Some(conn) = self.idle.lock().ok().and_then(|mut idle| idle.pop()) {
            return Ok(conn);
        }
        let conn = Connection::open_with_flags(&self.path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
        tune(&conn)?;
        conn.pragma_update(None, "cache_size", -READER_CACHE_KIB)?;
        Ok(conn)
    }

    fn give_back(&self, conn: Connection) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(conn);
        }
    }
}

/// What every connection of the store is set up with.
/// Hands every free page back to the file system. The pragma frees one page
/// per step of its statement: step it to the end.
pub(super) fn free_pages(conn: &Connection) -> rusqlite::Result<()> {
    let mut statement = conn.prepare_cached("PRAGMA incremental_vacuum")?;
    let mut rows = statement.query([])?;
    while rows.next()?.is_some() {}
    Ok(())
}

fn tune(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // Plans never depend on bound values (every query is on a designed
    // key), so a cached statement is never compiled again: without this
    // SQLite recompiles, at every use, a statement whose plan it thinks a
    // value could change, since rusqlite clears the bindings of each
    // statement it caches.
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(())
}

fn store_error(e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::FromSqlConversionFailure(..) | rusqlite::Error::InvalidColumnType(..) => StoreError::Corrupt(e.to_string()),
        other => StoreError::Unavailable(other.to_string()),
    }
}

/// A value that does not fit its column (a JSON document that does not
/// parse, a number out of range): the stored data is corrupt.
pub fn corrupt(e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
}

/// Serialises a document for a `body` column.
pub fn to_json<T: serde::Serialize>(value: &T) -> rusqlite::Result<String> {
    serde_json::to_string(value).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

/// A document for a `body` column, made before the write is handed to the
/// writer (which then only stores it).
pub fn encode<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    to_json(value).map_err(store_error)
}

/// Reads a document from a `body` column.
pub fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> rusqlite::Result<T> {
    serde_json::from_str(text).map_err(corrupt)
}

/// A millisecond time or count for an INTEGER column.
pub fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl Database {
    /// Opens (creating, migrating) the database at `location`.
    pub fn open(location: &Location, durability: Durability) -> Result<Arc<Self>, OpenError> {
        match location {
            Location::Memory => {
                let conn = Connection::open_in_memory().map_err(|e| OpenError::Sqlite { path: ":memory:".into(), reason: e.to_string() })?;
                Self::start(conn, None, None, Durability::Normal, Path::new(":memory:"))
            }
            Location::Directory(dir) => {
                let lock = lock_directory(dir)?;
                let path = dir.join(DATABASE_FILE);
                let conn = Connection::open(&path).map_err(|e| OpenError::Sqlite { path: path.clone(), reason: e.to_string() })?;
                let readers = Arc::new(Readers::new(path.clone()));
                Self::start(conn, Some(readers), Some(lock), durability, &path)
            }
        }
    }

    /// An in-memory database (tests, `--memory`).
    pub fn in_memory() -> Arc<Self> {
        match Self::open(&Location::Memory, Durability::Normal) {
            Ok(db) => db,
            // Opening memory fails only if SQLite cannot allocate at all.
            Err(e) => panic!("cannot open an in-memory database: {e}"),
        }
    }

    fn start(conn: Connection, readers: Option<Arc<Readers>>, lock: Option<File>, durability: Durability, path: &Path) -> Result<Arc<Self>, OpenError> {
        let sqlite = |e: rusqlite::Error| OpenError::Sqlite { path: path.to_owned(), reason: e.to_string() };
        tune(&conn).map_err(sqlite)?;
        // Before anything writes the file's first page (switching to WAL
        // does): only then can a database become incremental-vacuum.
        let found = schema::version(&conn).map_err(sqlite)?;
        if found == 0 {
            conn.pragma_update(None, "auto_vacuum", "INCREMENTAL").map_err(sqlite)?;
        }
        if readers.is_some() {
            conn.pragma_update(None, "journal_mode", "WAL").map_err(sqlite)?;
        }
        conn.pragma_update(None, "synchronous", durability.pragma()).map_err(sqlite)?;
        // The log is reused after each checkpoint; past this it is cut back.
        conn.pragma_update(None, "journal_size_limit", JOURNAL_SIZE_LIMIT).map_err(sqlite)?;
        conn.pragma_update(None, "wal_autocheckpoint", AUTOCHECKPOINT_PAGES).map_err(sqlite)?;
        conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB).map_err(sqlite)?;
        conn.pragma_update(None, "foreign_keys", "OFF").map_err(sqlite)?;
        schema::migrate(&conn).map_err(|e| match e {
            schema::MigrateError::TooNew { found, known } => OpenError::TooNew { path: path.to_owned(), found, known },
            schema::MigrateError::Sqlite(e) => sqlite(e),
        })?;
        if found > 0 && found < schema::KNOWN_VERSION {
            // A migration that rebuilt tables left their old pages free.
            free_pages(&conn).map_err(sqlite)?;
        }
        conn.execute_batch(schema::AT_OPEN).map_err(sqlite)?;
        let (writer, jobs) = mpsc::sync_channel::<Box<dyn Job>>(QUEUE_DEPTH);
        std::thread::Builder::new()
            .name("herald-db-writer".into())
            .spawn(move || write_loop(conn, jobs))
            .map_err(|e| OpenError::Io { dir: path.to_owned(), reason: e.to_string() })?;
        let path = readers.as_ref().map(|r| r.path.clone());
        Ok(Arc::new(Self { writer, readers, path, _lock: lock, queued: tokio::sync::Notify::new() }))
    }

    /// Resolves when the outbox queue got a message since the last call
    /// (for the local gateway's drainer: a message queued while it drained
    /// resolves the next call at once).
    pub async fn queued(&self) {
        self.queued.notified().await;
    }

    /// Tells the drainer a message was queued.
    pub(super) fn wake_queue(&self) {
        self.queued.notify_one();
    }

    /// The database file (`None` in memory).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Runs `work` in a write transaction; answers once it is committed.
    pub async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.submit(work, false).await
    }

    /// Hands `work` to the writer thread; its answer once committed.
    async fn submit<T, F>(&self, work: F, read: bool) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Box<dyn Job> = Box::new(Call { work: Some(work), read, outcome: None, reply });
        let writer = self.writer.clone();
        // The queue is full only under a flood; waiting for room must not
        // hold a runtime thread.
        match writer.try_send(job) {
            Ok(()) => {}
            Err(mpsc::TrySendError::Full(job)) => {
                tokio::task::spawn_blocking(move || writer.send(job))
                    .await
                    .map_err(|_| StoreError::Unavailable("the database writer is gone".into()))?
                    .map_err(|_| StoreError::Unavailable("the database writer is gone".into()))?;
            }
            Err(mpsc::TrySendError::Disconnected(_)) => return Err(StoreError::Unavailable("the database writer is gone".into())),
        }
        answer.await.map_err(|_| StoreError::Unavailable("the database writer is gone".into()))?
    }

    /// Runs `work` on a consistent view of the last commit.
    pub async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let Some(readers) = self.readers.clone() else { return self.submit(work, true).await };
        // Held by the read itself, so a caller that goes away mid-read
        // does not let another connection open beside it.
        let turn = readers.permits.clone().acquire_owned().await.map_err(|_| StoreError::Unavailable("the database is closed".into()))?;
        tokio::task::spawn_blocking(move || {
            let _turn = turn;
            let conn = readers.take().map_err(store_error)?;
            let outcome = work(&conn).map_err(store_error);
            readers.give_back(conn);
            outcome
        })
        .await
        .map_err(|_| StoreError::Unavailable("a store read panicked".into()))?
    }

    /// Copies the write-ahead log into the database file and cuts the log
    /// back to nothing (SQLite's `TRUNCATE` checkpoint, on a connection of
    /// its own: writes wait for it, some milliseconds; a reader in the way
    /// makes it stop short, and the next sweep tries again).
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        if self.readers.is_none() {
            return Ok(());
        }
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let Some(path) = path else { return Ok(()) };
            let conn = Connection::open(&path).map_err(store_error)?;
            conn.busy_timeout(BUSY_TIMEOUT).map_err(store_error)?;
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).map_err(store_error)
        })
        .await
        .map_err(|_| StoreError::Unavailable("a checkpoint panicked".into()))?
    }

    /// Both sides answer: a read, and a write through the writer thread.
    pub async fn check(&self) -> Result<(), StoreError> {
        self.read(|conn| conn.query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get::<_, i64>(0))).await?;
        self.write(|_| Ok(())).await
    }
}

fn write_loop(conn: Connection, jobs: Receiver<Box<dyn Job>>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        let committed = run_batch(&conn, &mut batch);
        for job in batch {
            job.finish(committed.clone());
        }
    }
}

fn run_batch(conn: &Connection, batch: &mut [Box<dyn Job>]) -> Result<(), String> {
    // Reads only (in memory): nothing to commit, and nothing else writes
    // between them (this thread is the only writer).
    if batch.iter().all(|job| job.reads_only()) {
        for job in batch.iter_mut() {
            job.run(conn, false);
        }
        return Ok(());
    }
    if let Err(e) = statement(conn, "BEGIN IMMEDIATE") {
        roll_back(conn);
        return Err(e.to_string());
    }
    // One write alone needs no savepoint: if it fails, the transaction is
    // rolled back whole and it is answered with its own error.
    let alone = batch.len() == 1;
    for job in batch.iter_mut() {
        job.run(conn, !alone);
        if alone && job.failed() {
            roll_back(conn);
            return Ok(());
        }
        // Some errors (a full disk, an I/O error) make SQLite roll back the
        // whole transaction, not only the statement: then nothing of the
        // batch is written, and the jobs after must not run on their own
        // (each savepoint would commit alone). Every job is answered with
        // the error.
        if conn.is_autocommit() {
            return Err("the transaction was rolled back by an error of the database".into());
        }
    }
    match statement(conn, "COMMIT") {
        Ok(()) => Ok(()),
        Err(e) => {
            roll_back(conn);
            Err(e.to_string())
        }
    }
}

/// Ends a failed transaction, so the next batch can begin.
fn roll_back(conn: &Connection) {
    if !conn.is_autocommit() {
        if let Err(e) = conn.execute_batch("ROLLBACK") {
            tracing::error!(error = %e, "the database could not roll back a failed transaction");
        }
    }
}

/// Takes the data directory's lock (an advisory lock on `lock`, released by
/// the system when the process ends however it ends), creating the
/// directory if needed.
fn lock_directory(dir: &Path) -> Result<File, OpenError> {
    let io = |e: std::io::Error| OpenError::Io { dir: dir.to_owned(), reason: e.to_string() };
    std::fs::create_dir_all(dir).map_err(io)?;
    let path = dir.join(LOCK_FILE);
    let mut file = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let pid = std::fs::read_to_string(&path).map(|s| s.trim().to_owned()).unwrap_or_default();
            return Err(OpenError::Held { dir: dir.to_owned(), pid: if pid.is_empty() { "unknown".into() } else { pid } });
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
    }
    file.set_len(0).map_err(io)?;
    write!(file, "{}", std::process::id()).map_err(io)?;
    Ok(file)
}

/// A consistent copy of the database of `dir` into `target` (a new file),
/// taken while a gateway serves from it: SQLite's `VACUUM INTO` reads one
/// snapshot, so the copy holds every write committed before it began and
/// none after. Needs no lock: it only reads. The copy is synced before this
/// returns; a failed one leaves no file.
pub fn backup(dir: &Path, target: &Path) -> Result<(), OpenError> {
    let path = dir.join(DATABASE_FILE);
    if !path.is_file() {
        return Err(OpenError::Io { dir: dir.to_owned(), reason: format!("no {DATABASE_FILE} in it") });
    }
    if target.exists() {
        return Err(OpenError::Io { dir: dir.to_owned(), reason: format!("{} exists already: name a new file", target.display()) });
    }
    copy_database(&path, target)
}

/// `VACUUM INTO` from `source` (with its write-ahead log, as SQLite reads
/// it) into the new file `target`, synced; removed again if anything fails.
fn copy_database(source: &Path, target: &Path) -> Result<(), OpenError> {
    let sqlite = |e: rusqlite::Error| OpenError::Sqlite { path: source.to_owned(), reason: e.to_string() };
    let copied = (|| {
        let conn = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(sqlite)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sqlite)?;
        conn.execute("VACUUM INTO ?1", [target.to_string_lossy()]).map_err(sqlite)?;
        // VACUUM INTO does not sync what it wrote.
        File::open(target).and_then(|f| f.sync_all()).map_err(|e| OpenError::Io { dir: target.to_owned(), reason: e.to_string() })
    })();
    if copied.is_err() {
        let _ = std::fs::remove_file(target);
    }
    copied
}

/// Replaces the database of `dir` with the backup `source` (the gateway
/// must be stopped: the directory's lock is taken). The backup is copied
/// (consistently, its write-ahead log included) to a staging file, and the
/// staged copy is checked — a Herald database of a schema this build knows,
/// `quick_check` ok — before it is renamed into place.
pub fn restore(dir: &Path, source: &Path) -> Result<(), OpenError> {
    let _lock = lock_directory(dir)?;
    let io = |e: std::io::Error| OpenError::Io { dir: dir.to_owned(), reason: e.to_string() };
    let staged = dir.join(format!("{DATABASE_FILE}.restoring"));
    match std::fs::remove_file(&staged) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    copy_database(source, &staged)?;
    let checked = check_backup(&staged, source);
    if checked.is_err() {
        let _ = std::fs::remove_file(&staged);
    }
    checked?;
    for stale in ["-wal", "-shm"] {
        match std::fs::remove_file(dir.join(format!("{DATABASE_FILE}{stale}"))) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
    }
    std::fs::rename(&staged, dir.join(DATABASE_FILE)).map_err(io)?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
    Ok(())
}

/// The staged copy of `source` is a Herald database this build can open.
fn check_backup(staged: &Path, source: &Path) -> Result<(), OpenError> {
    let sqlite = |e: rusqlite::Error| OpenError::Sqlite { path: source.to_owned(), reason: e.to_string() };
    let copy = Connection::open_with_flags(staged, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(sqlite)?;
    let version = schema::version(&copy).map_err(sqlite)?;
    if version == 0 {
        return Err(OpenError::Sqlite { path: source.to_owned(), reason: "not a Herald database (no schema version)".into() });
    }
    if version > schema::KNOWN_VERSION {
        return Err(OpenError::TooNew { path: source.to_owned(), found: version, known: schema::KNOWN_VERSION });
    }
    let check: String = copy.query_row("PRAGMA quick_check", [], |row| row.get(0)).map_err(sqlite)?;
    if check != "ok" {
        return Err(OpenError::Sqlite { path: source.to_owned(), reason: format!("integrity check failed: {check}") });
    }
    Ok(())
}

/// The documents (`body` column first) the query finds, in its order.
pub fn documents<T: serde::de::DeserializeOwned>(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<Vec<T>> {
    let mut statement = conn.prepare_cached(sql)?;
    let rows = statement.query_map(params, |row| row.get::<_, String>(0))?;
    rows.map(|row| row.and_then(|text| from_json(&text))).collect()
}

/// The one document the query finds, if any.
pub fn document<T: serde::de::DeserializeOwned>(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<Option<T>> {
    use rusqlite::OptionalExtension as _;
    let text: Option<String> = conn.prepare_cached(sql)?.query_row(params, |row| row.get(0)).optional()?;
    text.map(|text| from_json(&text)).transpose()
}

/// A count the query finds (`SELECT count(*) FROM (... LIMIT n)`).
pub fn count(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
    let n: i64 = conn.prepare_cached(sql)?.query_row(params, |row| row.get(0))?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// A limit for a `LIMIT` clause.
pub fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A conditional write's outcome: applied, or a conflict.
pub fn applied(applied: bool) -> Result<(), crate::domain::WriteError> {
    if applied {
        Ok(())
    } else {
        Err(crate::domain::WriteError::Conflict)
    }
}

#[async_trait::async_trait]
impl crate::domain::StoreHealth for Database {
    async fn check(&self) -> Result<(), StoreError> {
        Database::check(self).await
    }
}

/// The `(tenant, id)` of the rows of `table` whose `due_at` is at or before
/// `now`, oldest first (its `due_at, tenant, id` index), ids parsed by `id`.
pub fn due<I, E>(conn: &Connection, table: &str, now: crate::domain::Timestamp, max: usize, id: impl Fn(&str) -> Result<I, E>) -> rusqlite::Result<Vec<(crate::domain::TenantId, I)>>
where
    E: std::error::Error + Send + Sync + 'static,
{
    let sql = format!("SELECT tenant, id FROM {table} WHERE due_at IS NOT NULL AND due_at <= ?1 ORDER BY due_at, tenant, id LIMIT ?2");
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map(rusqlite::params![now.as_millis(), limit(max)], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))?;
    rows.map(|row| {
        let (tenant, found) = row?;
        Ok((crate::domain::TenantId::parse(&tenant).map_err(corrupt)?, id(&found).map_err(corrupt)?))
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database an older build wrote (version 1, with rows) is migrated
    /// when a newer one opens it: rows kept, the rebuilt tables' old pages
    /// handed back to the file system.
    #[tokio::test]
    async fn an_older_database_is_migrated_at_open() {
        let dir = temp_dir();
        std::fs::create_dir_all(&dir).unwrap();
        {
            let conn = Connection::open(dir.join(DATABASE_FILE)).unwrap();
            conn.pragma_update(None, "auto_vacuum", "INCREMENTAL").unwrap();
            conn.pragma_update(None, "journal_mode", "WAL").unwrap();
            schema::migrate_to(&conn, 1).unwrap();
            let mut insert = conn.prepare("INSERT INTO notifications VALUES ('t', ?1, 1, NULL, ?2)").unwrap();
            for n in 0..500 {
                insert.execute(rusqlite::params![format!("n{n}"), "x".repeat(1500)]).unwrap();
            }
        }
        let db = Database::open(&Location::Directory(dir), Durability::Full).unwrap();
        let (version, rows, free): (i64, i64, i64) = db
            .read(|conn| {
                Ok((
                    schema::version(conn)?,
                    conn.query_row("SELECT count(*) FROM notifications WHERE length(body) = 1500", [], |row| row.get(0))?,
                    conn.query_row("PRAGMA freelist_count", [], |row| row.get(0))?,
                ))
            })
            .await
            .unwrap();
        assert_eq!((version, rows, free), (schema::KNOWN_VERSION, 500, 0));
    }

    fn temp_dir() -> PathBuf {
        std::env::temp_dir().join("herald-db-tests").join(uuid::Uuid::new_v4().to_string())
    }

    /// A statement used again with new values is not compiled again, on
    /// the writer's connection nor on a reader's (SQLite would, at every
    /// use, for one whose plan it thinks a value could change; the bus's
    /// range query over a channel is one).
    #[tokio::test]
    async fn cached_statements_are_not_compiled_again() {
        const SQL: &str = "SELECT seq FROM bus_messages WHERE tenant = ?1 AND channel = ?2 AND seq > ?3 AND expires_at > ?4 AND published_at >= ?5 ORDER BY seq LIMIT 1";
        fn run(conn: &Connection, n: i64) -> rusqlite::Result<i32> {
            let mut statement = conn.prepare_cached(SQL)?;
            statement.query_row(rusqlite::params!["t", "c", n, n, n], |_| Ok(())).optional()?;
            Ok(statement.get_status(rusqlite::StatementStatus::RePrepare))
        }
        use rusqlite::OptionalExtension as _;
        let db = Database::open(&Location::Directory(temp_dir()), Durability::Normal).unwrap();
        for n in 0..20 {
            db.write(move |conn| conn.execute("INSERT INTO bus_messages (tenant, channel, seq, published_at, expires_at, body) VALUES ('t', 'c', ?1, ?1, ?1, '{}')", [n]).map(|_| ())).await.unwrap();
            assert_eq!(db.read(move |conn| run(conn, n)).await.unwrap(), 0, "a reader compiled it again");
            assert_eq!(db.write(move |conn| run(conn, n)).await.unwrap(), 0, "the writer compiled it again");
        }
    }

    #[tokio::test]
    async fn a_data_directory_is_synced_at_every_commit_and_can_shrink() {
        let dir = temp_dir();
        let db = Database::open(&Location::Directory(dir.clone()), Durability::Full).unwrap();
        let pragma = |name: &'static str| db.write(move |conn| conn.query_row(&format!("PRAGMA {name}"), [], |row| row.get::<_, rusqlite::types::Value>(0)));
        assert_eq!(pragma("synchronous").await.unwrap(), rusqlite::types::Value::Integer(2), "FULL");
        assert_eq!(pragma("journal_mode").await.unwrap(), rusqlite::types::Value::Text("wal".into()));
        assert_eq!(pragma("auto_vacuum").await.unwrap(), rusqlite::types::Value::Integer(2), "INCREMENTAL");
        drop(db);
        let normal = Database::open(&Location::Directory(temp_dir()), Durability::Normal).unwrap();
        let synchronous = normal.write(|conn| conn.query_row("PRAGMA synchronous", [], |row| row.get::<_, i64>(0))).await.unwrap();
        assert_eq!(synchronous, 1, "NORMAL");
    }

    #[tokio::test]
    async fn a_second_open_of_a_data_directory_is_refused_with_the_holders_pid() {
        let dir = temp_dir();
        let _first = Database::open(&Location::Directory(dir.clone()), Durability::Full).unwrap();
        match Database::open(&Location::Directory(dir), Durability::Full) {
            Err(OpenError::Held { pid, .. }) => assert_eq!(pid, std::process::id().to_string()),
            Err(other) => panic!("refused for another reason: {other}"),
            Ok(_) => panic!("opened twice"),
        }
    }

    /// A write whose error ends the whole transaction (as a full disk
    /// does) is answered with an error, nothing of it stays, and the writer
    /// goes on with the next batch.
    #[tokio::test]
    async fn a_write_that_loses_the_transaction_is_answered_with_an_error() {
        let db = Database::in_memory();
        db.write(|conn| conn.execute_batch("CREATE TABLE t (n INTEGER)")).await.unwrap();
        let lost = db
            .write(|conn| {
                conn.execute("INSERT INTO t VALUES (1)", [])?;
                // What SQLite does on SQLITE_FULL: the transaction is gone.
                conn.execute_batch("ROLLBACK")
            })
            .await;
        assert!(lost.is_err(), "answered Ok though nothing was committed");
        db.write(|conn| conn.execute("INSERT INTO t VALUES (2)", []).map(|_| ())).await.unwrap();
        let rows: Vec<i64> = db
            .read(|conn| {
                let mut statement = conn.prepare("SELECT n FROM t ORDER BY n")?;
                let rows = statement.query_map([], |row| row.get(0))?;
                rows.collect()
            })
            .await
            .unwrap();
        assert_eq!(rows, [2]);
    }

    #[tokio::test]
    async fn a_failing_write_rolls_back_alone() {
        let db = Database::in_memory();
        db.write(|conn| conn.execute_batch("CREATE TABLE t (n INTEGER PRIMARY KEY)")).await.unwrap();
        let (a, b, c) = tokio::join!(
            db.write(|conn| conn.execute("INSERT INTO t VALUES (1)", []).map(|_| ())),
            db.write(|conn| {
                conn.execute("INSERT INTO t VALUES (2)", [])?;
                conn.execute("INSERT INTO t VALUES (1)", []).map(|_| ())
            }),
            db.write(|conn| conn.execute("INSERT INTO t VALUES (3)", []).map(|_| ())),
        );
        assert!(a.is_ok() && b.is_err() && c.is_ok(), "{a:?} {b:?} {c:?}");
        let count = db.read(|conn| count(conn, "SELECT count(*) FROM t", [])).await.unwrap();
        assert_eq!(count, 2, "1 and 3; nothing of the failed write");
    }
}
