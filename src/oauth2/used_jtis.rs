//! JWT ids accepted once across every instance: client assertions (RFC 7523)
//! and DPoP proofs (RFC 9449). Each id is kept, hashed, for as long as its
//! JWT could still be accepted; the insert that finds it taken is a replay.
//!
//! This write is on the path of every DPoP-bound request, so it is kept to
//! one statement: expired ids are purged at most every ten seconds per
//! process, and on PostgreSQL the insert does not wait for its WAL flush (a
//! crash may forget the last few milliseconds of ids; a proof is good for a
//! minute at most, and replaying one still needs the proof).
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::used_jtis;
use crate::db::DbConn;
use crate::error::StoreError;
use crate::secrets;

const PURGE_EVERY_SECS: i64 = 10;
/// When this process last purged expired ids (Unix seconds).
static LAST_PURGE: AtomicI64 = AtomicI64::new(0);

/// What a JWT id is used for, so one kind can never replay as another.
#[derive(Debug, Clone, Copy)]
pub enum Use {
    ClientAssertion,
    DpopProof,
}

/// Records `jti` of `issuer` (the client, or the DPoP key's thumbprint) until
/// `accepted_until`. False when it was already used. Not for use inside a
/// transaction: on PostgreSQL a duplicate would abort it.
pub fn first_use(
    conn: &mut DbConn,
    kind: Use,
    issuer: &str,
    jti: &str,
    accepted_until: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    let prefix = match kind {
        Use::ClientAssertion => "client-assertion:",
        Use::DpopProof => "dpop-proof:",
    };
    let jti_hash = secrets::hash(&format!("{prefix}{issuer}:{jti}"));
    let now_secs = now.and_utc().timestamp();
    let last = LAST_PURGE.load(Ordering::Relaxed);
    if now_secs.saturating_sub(last) >= PURGE_EVERY_SECS
        && LAST_PURGE
            .compare_exchange(last, now_secs, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        diesel::delete(used_jtis::table.filter(used_jtis::expires_at.lt(now))).execute(conn)?;
    }
    let insert = diesel::insert_into(used_jtis::table).values((
        used_jtis::jti_hash.eq(jti_hash),
        used_jtis::expires_at.eq(accepted_until),
    ));
    let inserted = match conn {
        DbConn::Postgresql(pg) => pg.transaction(|pg| {
            diesel::sql_query("SET LOCAL synchronous_commit TO OFF").execute(pg)?;
            insert.execute(pg)
        }),
        DbConn::Sqlite(sqlite) => insert.execute(sqlite),
    };
    match inserted.map_err(StoreError::from) {
        Ok(_) => Ok(true),
        Err(StoreError::Duplicate(_)) => Ok(false),
        Err(other) => Err(other),
    }
}
