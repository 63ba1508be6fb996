//! Leases: work that one instance at a time does, held by whoever renewed
//! it last until it expires, so that when the holder stops another instance
//! takes over within one lease. Plain rows, so SQLite and PostgreSQL share
//! the code (an advisory lock would be PostgreSQL's alone).
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::leases;
use super::DbConn;
use crate::error::StoreError;

/// Takes or renews the lease `name` for `holder` until `until`; whether
/// `holder` holds it now.
pub fn try_hold(
    conn: &mut DbConn,
    name: &str,
    holder: &str,
    until: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    // ON CONFLICT DO NOTHING, not a caught duplicate: PostgreSQL would log
    // an error for every pass of every instance.
    let insert = diesel::insert_into(leases::table)
        .values((
            leases::name.eq(name),
            leases::holder.eq(holder),
            leases::expires_at.eq(until),
        ))
        .on_conflict_do_nothing();
    let inserted = match conn {
        DbConn::Postgresql(pg) => insert.execute(pg)?,
        DbConn::Sqlite(sqlite) => insert.execute(sqlite)?,
    };
    if inserted == 1 {
        return Ok(true);
    }
    let taken = diesel::update(
        leases::table
            .find(name)
            .filter(leases::holder.eq(holder).or(leases::expires_at.lt(now))),
    )
    .set((leases::holder.eq(holder), leases::expires_at.eq(until)))
    .execute(conn)?;
    Ok(taken == 1)
}
