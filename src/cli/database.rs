//! Which database a command works on, said on stderr; and the refusal to
//! create one by accident (a command run from another directory would
//! otherwise make a new empty SQLite file and act on it).
use std::path::Path;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::Connection;

use crate::config::Settings;
use crate::db::{with_connect_timeout, DatabaseLocation};

const POINT_ELSEWHERE: &str = "set DATABASE_URL (or database_url in the file IDHUB_CONFIG names) \
     to the server's database, or run `idhub migrate` to create one here";

pub fn announce_and_check(settings: &Settings, may_create: bool) -> anyhow::Result<()> {
    let location = DatabaseLocation::parse(&settings.database_url).map_err(anyhow::Error::msg)?;
    let shown = location.shown();
    eprintln!("idhub: database {shown}");
    match &location {
        DatabaseLocation::Sqlite(path) => {
            if !may_create && !Path::new(path).exists() {
                anyhow::bail!("there is no database at {shown}: {POINT_ELSEWHERE}");
            }
            if !may_create && !sqlite_has_idhub_tables(path) {
                anyhow::bail!("{shown} holds no idhub database: {POINT_ELSEWHERE}");
            }
        }
        DatabaseLocation::Postgres(url) => {
            if !may_create && !postgres_has_idhub_tables(url) {
                anyhow::bail!("{shown} holds no idhub database: {POINT_ELSEWHERE}");
            }
        }
    }
    Ok(())
}

const MIGRATIONS_RAN: &str = "SELECT 1 FROM __diesel_schema_migrations LIMIT 1";

/// Whether migrations ever ran in this existing file (an empty file, or
/// another program's database, is not idhub's). Opened read-only. Only the
/// answers that say so count as "no": a file busy with another process's
/// checkpoint, or any other trouble, is left to the pool to report.
fn sqlite_has_idhub_tables(path: &str) -> bool {
    let read_only = format!("file:{path}?mode=ro");
    let Ok(mut conn) = diesel::SqliteConnection::establish(&read_only) else {
        return true;
    };
    let asked = conn
        .batch_execute("PRAGMA busy_timeout = 5000")
        .and_then(|()| conn.batch_execute(MIGRATIONS_RAN));
    match asked {
        Ok(()) => true,
        Err(error) => !says_not_idhub(&error.to_string()),
    }
}

fn says_not_idhub(message: &str) -> bool {
    message.contains("no such table") || message.contains("not a database")
}

/// Whether migrations ever ran there. A database that cannot be reached
/// says so later, when the pool opens, with its own error.
fn postgres_has_idhub_tables(url: &str) -> bool {
    let url = with_connect_timeout(url, Duration::from_secs(5));
    match crate::db::establish_postgres(&url) {
        Ok(mut conn) => conn.batch_execute(MIGRATIONS_RAN).is_ok(),
        Err(_) => true,
    }
}
