//! `idhub housekeeping`: one pass now, as the server runs every
//! `housekeeping_interval_secs` (for a server that runs with it at 0, from
//! cron or a Kubernetes CronJob). Revoked grants, refresh tokens and audit
//! events are left alone unless `--all` says this run has the server's
//! settings: with shorter lifetimes or retention than the server's, it
//! would delete revocations still needed, tokens whose reuse must still be
//! noticed, or events the server keeps.
use crate::clock;
use crate::config::Settings;
use crate::error::cause_chain;
use crate::housekeeping::{run_pass, Cutoffs, Pace};
use crate::state::AppState;

pub fn run(state: &AppState, settings: &Settings, all: bool) -> anyhow::Result<String> {
    let cutoffs = Cutoffs::new(settings, clock::now());
    let (cutoffs, left_alone) = match all {
        true => (cutoffs, Vec::new()),
        false => {
            let cutoffs = cutoffs.without_server_settings();
            let left_alone = cutoffs.tables_left_alone();
            (cutoffs, left_alone)
        }
    };
    let report = run_pass(&state.pool, &cutoffs, Pace::AtOnce)
        .map_err(|e| anyhow::anyhow!("housekeeping failed: {}", cause_chain(&e)))?;
    let shown: Vec<_> = report
        .iter()
        .filter(|(table, _)| !left_alone.contains(table))
        .collect();
    let width = shown
        .iter()
        .map(|(table, _)| table.len())
        .max()
        .unwrap_or(0);
    let mut lines: Vec<String> = shown
        .iter()
        .map(|(table, rows)| format!("{table:<width$}  {rows} deleted"))
        .collect();
    if !left_alone.is_empty() {
        lines.push(format!(
            "{} left alone: with the server's settings (ACCESS_TOKEN_TTL_SECS, \
             REFRESH_TOKEN_TTL_SECS, AUDIT_RETENTION_DAYS), add --all",
            left_alone.join(", ")
        ));
    }
    Ok(lines.join("\n"))
}
