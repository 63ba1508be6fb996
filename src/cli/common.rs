//! What every command shares: the JSON switch and running domain functions.
use clap::Args;

use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Args)]
pub struct Output {
    /// Print JSON instead of plain text.
    #[arg(long)]
    pub json: bool,
}

/// Runs `work` on a pooled connection; a domain error becomes the message.
pub fn with_conn<T>(
    state: &AppState,
    work: impl FnOnce(&mut crate::db::DbConn) -> Result<T, AppError>,
) -> anyhow::Result<T> {
    let mut conn = state.pool.get()?;
    work(&mut conn).map_err(|e| anyhow::anyhow!("{e}"))
}

/// A domain error as the CLI's error.
pub fn fail(error: AppError) -> anyhow::Error {
    anyhow::anyhow!("{error}")
}
