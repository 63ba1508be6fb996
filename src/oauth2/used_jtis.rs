//! JWT ids accepted once across every instance: client assertions (RFC 7523)
//! and DPoP proofs (RFC 9449). Each id is kept, hashed, for as long as its
//! JWT could still be accepted; the insert that finds it taken is a replay.
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::used_jtis;
use crate::db::DbConn;
use crate::error::StoreError;
use crate::secrets;

/// What a JWT id is used for, so one kind can never replay as another.
#[derive(Debug, Clone, Copy)]
pub enum Use {
    ClientAssertion,
    DpopProof,
}

/// Records `jti` of `issuer` (the client, or the DPoP key's thumbprint) until
/// `accepted_until`. False when it was already used.
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
    diesel::delete(used_jtis::table.filter(used_jtis::expires_at.lt(now))).execute(conn)?;
    // Not for use inside a transaction: on PostgreSQL a duplicate would
    // abort it.
    let inserted = diesel::insert_into(used_jtis::table)
        .values((
            used_jtis::jti_hash.eq(jti_hash),
            used_jtis::expires_at.eq(accepted_until),
        ))
        .execute(conn);
    match inserted.map_err(StoreError::from) {
        Ok(_) => Ok(true),
        Err(StoreError::Duplicate(_)) => Ok(false),
        Err(other) => Err(other),
    }
}
