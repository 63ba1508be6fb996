//! Audit events in the database: written, listed newest first, purged past
//! the retention period.
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::event::{Event, EventView};
use super::query::AuditQuery;
use crate::db::schema::audit_events;
use crate::db::DbConn;
use crate::error::StoreError;
use crate::paging::Page;
use crate::validate::like_pattern;

#[derive(Insertable)]
#[diesel(table_name = audit_events, treat_none_as_default_value = false)]
struct NewRow<'a> {
    at: NaiveDateTime,
    kind: &'a str,
    actor: Option<&'a str>,
    service_id: Option<&'a str>,
    user_id: Option<&'a str>,
    ip: Option<&'a str>,
    user_agent: Option<&'a str>,
    details: String,
}

impl<'a> NewRow<'a> {
    fn of(event: &'a Event, at: NaiveDateTime) -> Self {
        Self {
            at,
            kind: event.kind.name(),
            actor: event.actor.stored(),
            service_id: event.service_id.as_deref(),
            user_id: event.user_id.as_deref(),
            ip: event.origin.ip.as_deref(),
            user_agent: event.origin.user_agent.as_deref(),
            details: serde_json::Value::Object(event.details.clone()).to_string(),
        }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_events)]
struct Row {
    seq: i64,
    at: NaiveDateTime,
    kind: String,
    actor: Option<String>,
    service_id: Option<String>,
    user_id: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    details: String,
}

impl From<Row> for EventView {
    fn from(row: Row) -> Self {
        Self {
            id: row.seq.to_string(),
            kind: row.kind,
            timestamp: row.at.and_utc().timestamp_millis(),
            actor: row.actor,
            service_id: row.service_id,
            user_id: row.user_id,
            ip: row.ip,
            user_agent: row.user_agent,
            details: serde_json::from_str(&row.details).unwrap_or(serde_json::Value::Null),
        }
    }
}

/// Writes one event; call inside the transaction of what it records.
pub fn record(conn: &mut DbConn, event: &Event, at: NaiveDateTime) -> Result<(), StoreError> {
    diesel::insert_into(audit_events::table)
        .values(NewRow::of(event, at))
        .execute(conn)?;
    Ok(())
}

/// Writes many events in one transaction, a multi-row INSERT per chunk.
pub fn record_all(conn: &mut DbConn, events: &[(Event, NaiveDateTime)]) -> Result<(), StoreError> {
    crate::db::transaction(conn, |conn| {
        for chunk in events.chunks(ROWS_PER_INSERT) {
            let rows: Vec<NewRow<'_>> = chunk
                .iter()
                .map(|(event, at)| NewRow::of(event, *at))
                .collect();
            // Multi-row INSERTs exist per backend, not through the
            // MultiConnection.
            let insert = diesel::insert_into(audit_events::table).values(rows);
            match conn {
                DbConn::Sqlite(sqlite) => insert.execute(sqlite)?,
                DbConn::Postgresql(pg) => insert.execute(pg)?,
            };
        }
        Ok(())
    })
}

/// Rows per INSERT: 8 values each, well under SQLite's 32,766 bound
/// parameters and PostgreSQL's 65,535.
const ROWS_PER_INSERT: usize = 500;

type Db = <DbConn as diesel::Connection>::Backend;

fn filtered(query: &AuditQuery) -> audit_events::BoxedQuery<'static, Db> {
    let mut boxed = audit_events::table.into_boxed();
    if !query.kinds.is_empty() {
        let names: Vec<&'static str> = query.kinds.iter().map(|k| k.name()).collect();
        boxed = boxed.filter(audit_events::kind.eq_any(names));
    }
    for user in &query.users {
        boxed = boxed.filter(audit_events::user_id.eq(user.clone()));
    }
    for service in &query.services {
        boxed = boxed.filter(audit_events::service_id.eq(service.clone()));
    }
    for actor in &query.actors {
        boxed = boxed.filter(audit_events::actor.eq(actor.clone()));
    }
    for ip in &query.ips {
        boxed = boxed.filter(audit_events::ip.eq(ip.clone()));
    }
    for word in &query.words {
        boxed = boxed.filter(
            audit_events::kind
                .like(like_pattern(&word.to_lowercase()))
                .escape('\\')
                .or(audit_events::user_id.eq(word.clone()))
                .or(audit_events::service_id.eq(word.clone()))
                .or(audit_events::actor.eq(word.clone())),
        );
    }
    boxed
}

/// A page of events, newest first; `before` (an event id) continues a
/// listing past that event, as fast deep in the trail as at its start.
pub fn list(
    conn: &mut DbConn,
    query: &AuditQuery,
    page: Page,
    before: Option<i64>,
) -> Result<(Vec<EventView>, i64), StoreError> {
    let total: i64 = match page.count_total {
        true => filtered(query).count().get_result(conn)?,
        false => 0,
    };
    let mut base = filtered(query);
    if let Some(before) = before {
        base = base.filter(audit_events::seq.lt(before));
    }
    let rows: Vec<Row> = base
        .order(audit_events::seq.desc())
        .offset(page.skip)
        .limit(page.top)
        .select(Row::as_select())
        .load(conn)?;
    Ok((rows.into_iter().map(EventView::from).collect(), total))
}

/// Deletes up to `batch` events older than `before`; returns how many.
pub fn purge(conn: &mut DbConn, before: NaiveDateTime, batch: i64) -> Result<usize, StoreError> {
    let last_of_batch: Option<i64> = audit_events::table
        .filter(audit_events::at.lt(before))
        .order(audit_events::seq.asc())
        .offset(batch.saturating_sub(1).max(0))
        .select(audit_events::seq)
        .first(conn)
        .optional()?;
    let up_to = audit_events::at.lt(before);
    let deleted = match last_of_batch {
        Some(last) => {
            diesel::delete(audit_events::table.filter(up_to.and(audit_events::seq.le(last))))
                .execute(conn)?
        }
        None => diesel::delete(audit_events::table.filter(up_to)).execute(conn)?,
    };
    Ok(deleted)
}
