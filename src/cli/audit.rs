//! `idhub audit tail`: the latest events of the audit trail.
use clap::Subcommand;

use super::common::{fail, with_conn, Output};
use crate::audit::event::EventView;
use crate::audit::query::AuditQuery;
use crate::audit::store;
use crate::paging::{Page, MAX_TOP};
use crate::state::AppState;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Print the latest events, oldest first.
    Tail {
        /// How many events.
        #[arg(long, short = 'n', default_value_t = 20)]
        lines: i64,
        /// Only events matching this query (as the REST API's `query`, e.g.
        /// "type: signin.failed user: ID").
        #[arg(long, default_value = "")]
        query: String,
        #[command(flatten)]
        output: Output,
    },
}

pub fn run(command: AuditCommand, state: &AppState) -> anyhow::Result<String> {
    let AuditCommand::Tail {
        lines,
        query,
        output,
    } = command;
    let query = AuditQuery::parse(&query).map_err(fail)?;
    let page = Page {
        skip: 0,
        top: lines.clamp(1, MAX_TOP),
        count_total: false,
    };
    let (mut events, _) = with_conn(state, |conn| Ok(store::list(conn, &query, page, None)?))?;
    events.reverse();
    let printed: Vec<String> = events
        .iter()
        .map(|event| match output.json {
            true => serde_json::to_string(event).unwrap_or_default(),
            false => line(event),
        })
        .collect();
    Ok(printed.join("\n"))
}

/// One event on one line: time, type, then whatever it names.
fn line(event: &EventView) -> String {
    let time = chrono::DateTime::from_timestamp_millis(event.timestamp)
        .map(|t| crate::clock::shown(t.naive_utc()))
        .unwrap_or_default();
    let mut line = format!("{time} {}", event.kind);
    for (name, value) in [
        ("actor", &event.actor),
        ("user", &event.user_id),
        ("service", &event.service_id),
        ("ip", &event.ip),
    ] {
        if let Some(value) = value {
            line.push_str(&format!(" {name}={value}"));
        }
    }
    if event.details.as_object().is_some_and(|d| !d.is_empty()) {
        line.push_str(&format!(" {}", event.details));
    }
    line
}
