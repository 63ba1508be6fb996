//! `idhub housekeeping`: one pass now, as the server runs every
//! `housekeeping_interval_secs` (for a server that runs with it at 0, from
//! cron or a Kubernetes CronJob).
use crate::clock;
use crate::config::Settings;
use crate::error::cause_chain;
use crate::housekeeping::{run_pass, Cutoffs};
use crate::state::AppState;

pub fn run(state: &AppState, settings: &Settings) -> anyhow::Result<String> {
    let cutoffs = Cutoffs::new(settings, clock::now());
    let report = run_pass(&state.pool, &cutoffs, std::time::Duration::ZERO)
        .map_err(|e| anyhow::anyhow!("housekeeping failed: {}", cause_chain(&e)))?;
    let width = report
        .iter()
        .map(|(table, _)| table.len())
        .max()
        .unwrap_or(0);
    let lines: Vec<String> = report
        .iter()
        .map(|(table, rows)| format!("{table:<width$}  {rows} deleted"))
        .collect();
    Ok(lines.join("\n"))
}
