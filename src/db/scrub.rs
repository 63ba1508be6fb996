//! Leaving no old copy of a secret in the database files after it was
//! rewritten (signing keys encrypted at rest). SQLite connections run with
//! `secure_delete` on, so space a write frees is zeroed; a rewrite is then
//! followed by `VACUUM` (the file rebuilt from live rows only, which also
//! clears what older versions left in free pages) and a checkpoint that
//! truncates the write-ahead log, which holds page images until then.
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

/// What scrubbing achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scrubbed {
    /// The file and its log hold live rows only.
    Clean,
    /// A reader (a running server) kept the log from being truncated: the
    /// old pages go at that server's next checkpoint.
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
    let checkpoint: Checkpoint =
        diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)").get_result(sqlite)?;
    Ok(match checkpoint.busy {
        0 => Scrubbed::Clean,
        _ => Scrubbed::LogInUse,
    })
}
