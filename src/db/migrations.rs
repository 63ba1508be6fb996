//! Two embedded migration sets with the same names, one per SQL dialect.
use diesel::connection::SimpleConnection;
use diesel::RunQueryDsl;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::DbConn;

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(diesel::QueryableByName)]
struct CurrentSetting {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

type MigrationResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Applies every pending migration; returns the names applied.
pub fn run_pending(conn: &mut DbConn) -> MigrationResult<Vec<String>> {
    let applied = match conn {
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE)?,
        DbConn::Postgresql(c) => {
            // A migration over a big table may take longer than a request may.
            let previous: CurrentSetting =
                diesel::sql_query("SELECT current_setting('statement_timeout') AS value")
                    .get_result(c)?;
            c.batch_execute("SET statement_timeout = 0")?;
            let applied = c
                .run_pending_migrations(POSTGRES)
                .map(|versions| versions.iter().map(|v| v.to_string()).collect::<Vec<_>>());
            c.batch_execute(&format!(
                "SET statement_timeout = '{}'",
                previous.value.replace('\'', "")
            ))?;
            return applied;
        }
    };
    Ok(applied.iter().map(|v| v.to_string()).collect())
}

/// Whether no migration ever ran here: a database made just now.
pub fn none_applied(conn: &mut DbConn) -> MigrationResult<bool> {
    Ok(match conn {
        DbConn::Sqlite(c) => c.applied_migrations()?.is_empty(),
        DbConn::Postgresql(c) => c.applied_migrations()?.is_empty(),
    })
}

/// Reverts every applied migration (used by the up/down/up test and by operators).
pub fn revert_all(conn: &mut DbConn) -> MigrationResult<Vec<String>> {
    let reverted = match conn {
        DbConn::Sqlite(c) => c.revert_all_migrations(SQLITE)?,
        DbConn::Postgresql(c) => c.revert_all_migrations(POSTGRES)?,
    };
    Ok(reverted.iter().map(|v| v.to_string()).collect())
}
