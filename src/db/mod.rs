//! Storage: one diesel code path over SQLite and PostgreSQL.
pub mod backup;
pub mod change_feed;
pub mod lease;
pub mod migrations;
pub mod numbered;
pub mod schema;
pub mod scrub;
pub mod server_secrets;
pub mod unexpired;
pub mod visits;

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, Pool, R2D2Connection};

use crate::config::redact_url;
use crate::error::{AppError, StoreError};
use crate::telemetry;

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// The connection pool, with how long a request may wait for the database
/// and when the database last refused a write for lack of space.
#[derive(Clone)]
pub struct DbPool {
    pool: Pool<DbManager>,
    timeout: Duration,
    out_of_space_at: Arc<Mutex<Option<Instant>>>,
}

impl Deref for DbPool {
    type Target = Pool<DbManager>;

    fn deref(&self) -> &Pool<DbManager> {
        &self.pool
    }
}

/// How long a refused write keeps the instance "not ready": a write that
/// happens to fit in space the database already holds proves little.
const OUT_OF_SPACE_REMEMBERED: Duration = Duration::from_secs(5);

impl DbPool {
    /// The longest a request waits for a connection and its answer.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// True when a write failed for lack of space in the last few seconds.
    pub fn out_of_space_recently(&self) -> bool {
        self.out_of_space_at
            .lock()
            .ok()
            .and_then(|at| *at)
            .is_some_and(|at| at.elapsed() < OUT_OF_SPACE_REMEMBERED)
    }

    fn note(&self, error: &AppError) {
        if matches!(error, AppError::Store(StoreError::OutOfSpace(_))) {
            if let Ok(mut at) = self.out_of_space_at.lock() {
                *at = Some(Instant::now());
            }
        }
    }
}

/// The database did not answer within the pool's timeout.
#[derive(Debug, thiserror::Error)]
#[error("the database did not answer within {} ms", .0.as_millis())]
pub struct TimedOut(pub Duration);

/// Where the data lives, decided once from the URL scheme so that a failed
/// PostgreSQL connect can never fall through to creating a SQLite file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseLocation {
    Sqlite(String),
    Postgres(String),
}

impl DatabaseLocation {
    /// Where it is, as a person needs to read it: a SQLite file's absolute
    /// path (a relative one is relative to the working directory, so a
    /// server started elsewhere opens another file), a PostgreSQL URL
    /// without its password.
    pub fn shown(&self) -> String {
        match self {
            Self::Sqlite(path) => std::path::absolute(path)
                .map(|absolute| absolute.display().to_string())
                .unwrap_or_else(|_| path.clone()),
            Self::Postgres(url) => redact_url(url),
        }
    }

    pub fn parse(url: &str) -> Result<Self, String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("sqlite:// needs a file path".into());
            }
            return Ok(Self::Sqlite(path.to_owned()));
        }
        if let Some(path) = url.strip_prefix("sqlite:") {
            if !path.is_empty() {
                return Ok(Self::Sqlite(path.to_owned()));
            }
        }
        Err(format!(
            "unsupported database URL scheme in '{}': use sqlite://PATH or postgres://…",
            redact_url(url)
        ))
    }
}

#[derive(Debug)]
pub struct DbManager {
    location: DatabaseLocation,
    timeout: Duration,
}

impl DbManager {
    pub fn new(location: DatabaseLocation, timeout: Duration) -> Self {
        Self { location, timeout }
    }
}

/// A pooled connection and when it was last known to answer. r2d2 tests a
/// connection on every checkout; on PostgreSQL that is a round trip per request,
/// as costly as the query itself. Testing at most once a second per connection
/// still finds a dead one (within that second) and lets the pool replace it.
pub struct CheckedConn {
    conn: DbConn,
    answered: Instant,
}

impl Deref for CheckedConn {
    type Target = DbConn;

    fn deref(&self) -> &DbConn {
        &self.conn
    }
}

impl DerefMut for CheckedConn {
    fn deref_mut(&mut self) -> &mut DbConn {
        &mut self.conn
    }
}

const RECHECK_AFTER: Duration = Duration::from_secs(1);

impl ManageConnection for DbManager {
    type Connection = CheckedConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<CheckedConn, r2d2::Error> {
        self.open().map(|conn| CheckedConn {
            conn,
            answered: Instant::now(),
        })
    }

    fn is_valid(&self, checked: &mut CheckedConn) -> Result<(), r2d2::Error> {
        if checked.answered.elapsed() < RECHECK_AFTER {
            return Ok(());
        }
        R2D2Connection::ping(&mut checked.conn).map_err(r2d2::Error::QueryError)?;
        checked.answered = Instant::now();
        Ok(())
    }

    fn has_broken(&self, checked: &mut CheckedConn) -> bool {
        // A connection left inside a failed transaction must not go back to the pool.
        std::thread::panicking() || R2D2Connection::is_broken(&mut checked.conn)
    }
}

impl DbManager {
    fn open(&self) -> Result<DbConn, r2d2::Error> {
        connect(&self.location, self.timeout)
    }
}

/// Opens a PostgreSQL connection. OpenSSL is set up first without its exit
/// handler: libpq would otherwise register one, and at process exit it frees
/// OpenSSL's state under threads still talking TLS to the database (the pool's,
/// the id writer's), which corrupts the heap.
pub fn establish_postgres(url: &str) -> ConnectionResult<diesel::PgConnection> {
    openssl_sys::init();
    diesel::PgConnection::establish(url)
}

/// One connection, set up the way the pool sets up each of its own.
pub fn connect(location: &DatabaseLocation, timeout: Duration) -> Result<DbConn, r2d2::Error> {
    {
        match location {
            DatabaseLocation::Postgres(url) => {
                let url = with_connect_timeout(url, timeout);
                let mut conn = establish_postgres(&url).map_err(r2d2::Error::ConnectionError)?;
                // The server gives up on a statement when the request has.
                conn.batch_execute(&format!("SET statement_timeout = {}", timeout.as_millis()))
                    .map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Postgresql(conn))
            }
            DatabaseLocation::Sqlite(path) => {
                owner_only(path)?;
                let mut conn = diesel::SqliteConnection::establish(path)
                    .map_err(r2d2::Error::ConnectionError)?;
                // Per connection: SQLite forgets these on every open.
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA secure_delete = ON;",
                    timeout.as_millis()
                ))
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }
}

/// libpq's `connect_timeout` (whole seconds, at least 2) unless the URL sets
/// one: an unreachable server fails the connect instead of hanging it.
pub fn with_connect_timeout(url: &str, timeout: Duration) -> String {
    if url.contains("connect_timeout=") {
        return url.to_owned();
    }
    let seconds = timeout.as_secs().max(2);
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}connect_timeout={seconds}")
}

/// The SQLite file holds the signing keys: it, and the `-wal` and `-shm` files
/// SQLite makes beside it (with the database file's mode), are readable by
/// their owner only. A new file is created 0600 before SQLite opens it.
fn owner_only(path: &str) -> Result<(), r2d2::Error> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let failed = |e: std::io::Error| {
            r2d2::Error::ConnectionError(diesel::ConnectionError::BadConnection(format!(
                "cannot secure the database file {path}: {e}"
            )))
        };
        if !std::path::Path::new(path).exists() {
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .open(path)
                .map_err(failed)?;
        }
        for file in [
            path.to_owned(),
            format!("{path}-wal"),
            format!("{path}-shm"),
        ] {
            if let Ok(meta) = std::fs::metadata(&file) {
                if meta.permissions().mode() & 0o077 != 0 {
                    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                        .map_err(failed)?;
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// The pool; `timeout` bounds the wait for a connection, a connect, each
/// statement (PostgreSQL) or lock wait (SQLite), and each `run`. A database
/// that cannot be reached gives one line saying why, after `timeout`.
pub fn build_pool(
    location: DatabaseLocation,
    size: u32,
    timeout: Duration,
) -> Result<DbPool, String> {
    if let DatabaseLocation::Postgres(url) = &location {
        refuse_permanent_failure(url, timeout)?;
    }
    let opened = Arc::new(AtomicBool::new(false));
    let errors = PoolErrors {
        opened: Arc::clone(&opened),
        last_logged: Mutex::default(),
    };
    let pool = Pool::builder()
        .max_size(size.max(1))
        .connection_timeout(timeout)
        .error_handler(Box::new(errors))
        .build(DbManager::new(location, timeout))
        .map_err(|e| format!("cannot open the database: {}", one_line(&e.to_string())))?;
    opened.store(true, Ordering::Relaxed);
    Ok(DbPool {
        pool,
        timeout,
        out_of_space_at: Arc::default(),
    })
}

/// The pool's failed connects: none while it opens (its caller reports why
/// it could not, once), then at most one line every ten seconds, so a
/// database that went away does not flood the log.
#[derive(Debug)]
struct PoolErrors {
    opened: Arc<AtomicBool>,
    last_logged: Mutex<Option<Instant>>,
}

const POOL_ERRORS_EVERY: Duration = Duration::from_secs(10);

impl r2d2::HandleError<r2d2::Error> for PoolErrors {
    fn handle_error(&self, error: r2d2::Error) {
        if !self.opened.load(Ordering::Relaxed) {
            return;
        }
        let Ok(mut last) = self.last_logged.lock() else {
            return;
        };
        if last.is_some_and(|at| at.elapsed() < POOL_ERRORS_EVERY) {
            return;
        }
        *last = Some(Instant::now());
        tracing::error!(error = %one_line(&error.to_string()), "cannot connect to the database");
    }
}

/// libpq's messages span lines (a hint after a newline and a tab).
/// A PostgreSQL server that answers "no such database" or "not this user"
/// will answer the same until someone acts: said at once, with the fix,
/// rather than after the pool has retried for its whole timeout. A server
/// that does not answer (down, restarting) is left to the pool's retries.
fn refuse_permanent_failure(url: &str, timeout: Duration) -> Result<(), String> {
    let Err(error) = establish_postgres(&with_connect_timeout(url, timeout)) else {
        return Ok(());
    };
    let said = one_line(&error.to_string());
    let shown = redact_url(url);
    let fix = match permanent_fix(&said, url) {
        Some(fix) => fix,
        None => return Ok(()),
    };
    Err(format!("cannot open the database {shown}: {said}; {fix}"))
}

/// The fix for a connection refusal that lasts, from libpq's message.
fn permanent_fix(said: &str, url: &str) -> Option<String> {
    let name = url::Url::parse(url)
        .ok()
        .map(|u| u.path().trim_start_matches('/').to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "idhub".to_owned());
    if said.contains("database") && said.contains("does not exist") {
        return Some(format!(
            "create it first (`createdb {name}`, or CREATE DATABASE {name}), then run \
             `idhub migrate` or start the server again"
        ));
    }
    let refused_user = [
        "password authentication failed",
        "role \"",
        "no pg_hba.conf entry",
    ];
    if refused_user.iter().any(|sign| said.contains(sign)) {
        return Some(
            "check the user and password in DATABASE_URL, and that pg_hba.conf lets \
             this user in from this host"
                .to_owned(),
        );
    }
    None
}

fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Runs blocking database work on the runtime's blocking threads; a pooled
/// connection is never held across an `.await`. The caller gets its answer, or
/// 503, within the pool's timeout even if the database stalls; work that has
/// not started by then never starts.
pub async fn run<T, F>(pool: &DbPool, work: F) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    visits::note();
    let timeout = pool.timeout;
    let deadline = Instant::now() + timeout;
    let unavailable = move || AppError::Store(StoreError::Unavailable(Box::new(TimedOut(timeout))));
    let worker_pool = pool.clone();
    let task = tokio::task::spawn_blocking(move || {
        let left = deadline
            .checked_duration_since(Instant::now())
            .filter(|left| !left.is_zero())
            .ok_or_else(unavailable)?;
        let asked = Instant::now();
        let conn = worker_pool.get_timeout(left);
        telemetry::pool_acquired(asked.elapsed(), conn.is_ok());
        let mut conn = conn.map_err(|e| StoreError::Unavailable(Box::new(e)))?;
        work(&mut conn)
    });
    let result = match tokio::time::timeout(timeout, task).await {
        Ok(finished) => finished.map_err(StoreError::Task)?,
        Err(_) => Err(unavailable()),
    };
    if let Err(error) = &result {
        pool.note(error);
    }
    result
}

/// Runs `work` in one transaction; use it for every transaction that writes.
///
/// On SQLite the transaction takes the write lock as it begins (`BEGIN
/// IMMEDIATE`), waiting for it up to the busy timeout. A plain (deferred)
/// transaction that reads and then writes is refused at its first write,
/// at once and without waiting ("database is locked"), when another
/// connection committed after its read. Nested calls are savepoints.
pub fn transaction<T, E>(
    conn: &mut DbConn,
    work: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    let DbConn::Sqlite(sqlite) = conn else {
        return conn.transaction(work);
    };
    let status = AnsiTransactionManager::transaction_manager_status_mut(sqlite);
    if status.transaction_depth()?.is_some() {
        return conn.transaction(work);
    }
    AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
    let result = work(conn);
    let DbConn::Sqlite(sqlite) = conn else {
        return Err(diesel::result::Error::BrokenTransactionManager.into());
    };
    match result {
        Ok(value) => match AnsiTransactionManager::commit_transaction(sqlite) {
            Ok(()) => Ok(value),
            Err(error) => {
                let _ = AnsiTransactionManager::rollback_transaction(sqlite);
                Err(error.into())
            }
        },
        Err(error) => {
            AnsiTransactionManager::rollback_transaction(sqlite)?;
            Err(error)
        }
    }
}

/// True when the database answers a trivial query.
pub fn ping(conn: &mut DbConn) -> bool {
    conn.batch_execute("SELECT 1").is_ok()
}

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lasting_postgres_refusals_name_their_fix() {
        let url = "postgres://u@db.example/idhub_prod";
        let missing = permanent_fix(
            "connection to server at \"db\" failed: FATAL: database \"idhub_prod\" does not exist",
            url,
        );
        assert!(missing.is_some_and(|fix| fix.contains("createdb idhub_prod")));
        let password = permanent_fix("FATAL: password authentication failed for user \"u\"", url);
        assert!(password.is_some_and(|fix| fix.contains("user and password")));
        assert_eq!(
            permanent_fix(
                "connection to server at \"db\" failed: Connection refused",
                url
            ),
            None,
            "a server that is down may come back: the pool retries"
        );
    }

    #[test]
    fn backend_comes_from_scheme() {
        assert_eq!(
            DatabaseLocation::parse("sqlite://idhub.db"),
            Ok(DatabaseLocation::Sqlite("idhub.db".into()))
        );
        assert_eq!(
            DatabaseLocation::parse("sqlite:///var/lib/idhub.db"),
            Ok(DatabaseLocation::Sqlite("/var/lib/idhub.db".into()))
        );
        assert!(matches!(
            DatabaseLocation::parse("postgres://u@h/db"),
            Ok(DatabaseLocation::Postgres(_))
        ));
        assert!(DatabaseLocation::parse("mysql://x").is_err());
        assert!(DatabaseLocation::parse("idhub.db").is_err());
    }

    /// Two connections: one reads then writes in a transaction while the
    /// other commits a write in between.
    fn read_then_write_while_another_commits(
        begin: impl FnOnce(
            &mut DbConn,
            &mut dyn FnMut(&mut DbConn) -> QueryResult<()>,
        ) -> QueryResult<()>,
    ) -> (QueryResult<()>, QueryResult<()>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("t.db").to_string_lossy().into_owned();
        let pool =
            build_pool(DatabaseLocation::Sqlite(path), 2, Duration::from_secs(5)).expect("pool");
        let mut first = pool.get().expect("connection");
        first
            .batch_execute("CREATE TABLE t (n INTEGER)")
            .expect("table");
        let other = pool.clone();
        let mut other_result = None;
        let result = begin(&mut first, &mut |conn| {
            conn.batch_execute("SELECT count(*) FROM t")?;
            let writer = std::thread::spawn({
                let other = other.clone();
                move || {
                    let mut conn = other.get().expect("connection");
                    conn.batch_execute("INSERT INTO t VALUES (1)")
                }
            });
            // The other write either commits now (deferred) or waits for
            // this transaction (immediate): give it the time to do either.
            std::thread::sleep(Duration::from_millis(200));
            let mine = conn.batch_execute("INSERT INTO t VALUES (2)");
            other_result = Some(writer);
            mine
        });
        let other_result = match other_result {
            Some(writer) => writer.join().expect("writer thread"),
            None => Ok(()),
        };
        (result, other_result)
    }

    #[test]
    fn a_sqlite_transaction_that_reads_then_writes_is_not_refused_by_another_commit() {
        let (mine, other) = read_then_write_while_another_commits(|conn, work| {
            transaction(conn, |conn| work(conn))
        });
        assert!(mine.is_ok(), "{mine:?}");
        assert!(other.is_ok(), "the other write waited: {other:?}");
        let (mine, _) =
            read_then_write_while_another_commits(|conn, work| conn.transaction(|conn| work(conn)));
        assert!(
            mine.is_err(),
            "a deferred transaction is refused: why db::transaction begins IMMEDIATE"
        );
    }
}
