//! A copy of the database to keep. On SQLite, `VACUUM INTO` a new file: a
//! consistent snapshot taken while servers run (it holds a read
//! transaction; their reads and writes go on), with every committed write,
//! the write-ahead log's included, in one self-contained file that is
//! restored by using it as the database. The file is created with mode 0600
//! before a byte is written, since it holds what the database holds
//! (password hashes, signing keys), and an existing file is never
//! overwritten. PostgreSQL has `pg_dump`, which idhub does not redo.
use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use diesel::prelude::*;
use diesel::sql_types::Text;

use super::DbConn;
use crate::error::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} exists: a backup never overwrites a file, choose a new name")]
    Exists(String),
    #[error("cannot create {path}: {source}")]
    Create {
        path: String,
        source: std::io::Error,
    },
    #[error("the copy failed: {0}")]
    Store(#[from] StoreError),
    #[error(
        "a PostgreSQL database is backed up with its own tools: \
         pg_dump --format=custom --file=idhub.dump \"$DATABASE_URL\", restored into an \
         empty database with pg_restore --no-owner --dbname=\"$DATABASE_URL\" idhub.dump"
    )]
    UsePgDump,
}

/// Writes a consistent copy of the SQLite database to `to`, a new file;
/// returns its size in bytes.
pub fn backup(conn: &mut DbConn, to: &Path) -> Result<u64, BackupError> {
    let DbConn::Sqlite(sqlite) = conn else {
        return Err(BackupError::UsePgDump);
    };
    let shown = to.display().to_string();
    let path = to.to_str().ok_or_else(|| BackupError::Create {
        path: shown.clone(),
        source: std::io::Error::other("the path is not UTF-8"),
    })?;
    // SQLite writes into an empty file it finds, keeping its mode.
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(to)
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::AlreadyExists => BackupError::Exists(shown.clone()),
            _ => BackupError::Create {
                path: shown.clone(),
                source,
            },
        })?;
    let copied = diesel::sql_query("VACUUM INTO ?")
        .bind::<Text, _>(path)
        .execute(sqlite)
        .map_err(StoreError::from);
    if let Err(error) = copied {
        // Half a copy is worse than none: it would pass for a backup.
        let _ = std::fs::remove_file(to);
        return Err(error.into());
    }
    std::fs::metadata(to)
        .map(|meta| meta.len())
        .map_err(|source| BackupError::Create {
            path: shown,
            source,
        })
}
