//! Refresh tokens: opaque, stored as SHA-256, rotated on every use. A token is
//! consumed by one conditional UPDATE so two racing uses issue new tokens once;
//! presenting a used token again revokes its whole grant.
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::grants::{self, Grant};
use super::revoked_set::RevokedSet;
use super::single_use::SingleUse;
use crate::db::schema::{grants as grants_table, refresh_tokens};
use crate::db::DbConn;
use crate::error::StoreError;
use crate::secrets;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshToken {
    pub token_hash: String,
    pub grant_id: String,
    pub scope: String,
    pub created: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    /// A public client's token is bound to its DPoP key: only a proof
    /// signed by that key can use it (RFC 9449 §5).
    pub jkt: Option<String>,
}

/// Stores a new refresh token for the grant and returns it in plain text.
pub fn issue(
    conn: &mut DbConn,
    grant_id: &str,
    scope: &str,
    jkt: Option<&str>,
    ttl: Duration,
    now: NaiveDateTime,
) -> Result<String, StoreError> {
    let plain = secrets::generate();
    diesel::insert_into(refresh_tokens::table)
        .values(RefreshToken {
            token_hash: secrets::hash(&plain),
            grant_id: grant_id.to_owned(),
            scope: scope.to_owned(),
            created: now,
            expires_at: now + ttl,
            used_at: None,
            jkt: jkt.map(str::to_owned),
        })
        .execute(conn)?;
    Ok(plain)
}

/// The token and its grant, whatever their state.
pub fn find(conn: &mut DbConn, plain: &str) -> Result<Option<(RefreshToken, Grant)>, StoreError> {
    Ok(refresh_tokens::table
        .inner_join(grants_table::table)
        .filter(refresh_tokens::token_hash.eq(secrets::hash(plain)))
        .select((RefreshToken::as_select(), Grant::as_select()))
        .first(conn)
        .optional()?)
}

/// Uses the token with one conditional UPDATE; a replay revokes its grant.
pub fn consume(
    conn: &mut DbConn,
    revoked: &RevokedSet,
    token: &RefreshToken,
    now: NaiveDateTime,
) -> Result<SingleUse, StoreError> {
    let updated = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(&token.token_hash))
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::expires_at.gt(now)),
    )
    .set(refresh_tokens::used_at.eq(now))
    .execute(conn)?;
    let outcome = SingleUse::judge(updated == 1, token.used_at.is_some(), token.expires_at, now);
    if outcome == SingleUse::Replayed {
        grants::revoke(conn, revoked, &token.grant_id, now)?;
    }
    Ok(outcome)
}
