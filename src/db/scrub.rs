//! Leaving no old copy of a secret in the database files after it was
//! rewritten (signing keys encrypted at rest). SQLite connections run with
//! `secure_delete` on, so space a write frees is zeroed; a rewrite is then
//! followed by `VACUUM` (the file rebuilt from live rows only, which also
//! clears what older versions left in free pages) and a checkpoint that
//! truncates the write-ahead log, which holds page images until then. Both
//! take SQLite's write lock: servers' writes wait meanwhile (on a large
//! file, long enough to answer 503).
//! PostgreSQL keeps old row versions until its own vacuum, and its WAL and
//! backups keep them longer: there the answer is a key rotation after
//! encrypting (docs/security.md).
use diesel::prelude::*;
use diesel::sql_types::Integer;

use super::DbConn;
use crate::error::StoreError;

#[derive(QueryableByName)]
struct Checkpoint {
    #[diesel(sql_type = Integer)]
    busy: i32,
}

const TRUNCATE_TRIES: u32 = 30;

/// What scrubbing achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scrubbed {
    /// The file and its log hold live rows only.
    Clean,
    /// Readers (running servers) kept the log from being truncated for
    /// three seconds: its old pages may stay until the servers stop (their
    /// own checkpoints never truncate it).
    LogInUse,
    /// PostgreSQL: nothing to do here (see the module's comment).
    NotSqlite,
}

/// Rebuilds an SQLite file from its live rows and truncates its log.
pub fn scrub(conn: &mut DbConn) -> Result<Scrubbed, StoreError> {
    let DbConn::Sqlite(sqlite) = conn else {
        return Ok(Scrubbed::NotSqlite);
    };
    diesel::sql_query("VACUUM").execute(sqlite)?;
    // A server's reads hold the log for moments at a time: try a while.
    for _ in 0..TRUNCATE_TRIES {
        if truncate_sqlite_log(sqlite)? {
            return Ok(Scrubbed::Clean);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Ok(Scrubbed::LogInUse)
}

/// Folds SQLite's write-ahead log into the database file and empties it,
/// so the file alone holds every committed write (a server does this as
/// it stops: a copy of `idhub.db` taken then is whole). False when readers
/// kept it from finishing; on PostgreSQL there is nothing to do.
pub fn truncate_log(conn: &mut DbConn) -> Result<bool, StoreError> {
    match conn {
        DbConn::Sqlite(sqlite) => truncate_sqlite_log(sqlite),
        DbConn::Postgresql(_) => Ok(true),
    }
}

fn truncate_sqlite_log(sqlite: &mut diesel::SqliteConnection) -> Result<bool, StoreError> {
    let checkpoint: Checkpoint =
        diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)").get_result(sqlite)?;
    Ok(checkpoint.busy == 0)
}
