//! Authorization codes: single use, short-lived, bound to client (through the
//! grant), redirect URI, PKCE challenge, nonce and scope; stored as SHA-256.
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::grants::{self, Grant};
use super::revoked_set::RevokedSet;
use super::single_use::SingleUse;
use crate::db::schema::{authorization_codes, grants as grants_table};
use crate::db::DbConn;
use crate::error::StoreError;
use crate::secrets;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = authorization_codes)]
pub struct AuthorizationCode {
    pub code_hash: String,
    pub grant_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
    pub auth_time: NaiveDateTime,
    pub created: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub offline: bool,
    /// The DPoP key the client named (`dpop_jkt`): the exchange needs a
    /// proof by it (RFC 9449 §10).
    pub dpop_jkt: Option<String>,
}

pub struct NewCode<'a> {
    pub grant_id: &'a str,
    pub redirect_uri: &'a str,
    pub scope: &'a str,
    pub code_challenge: Option<&'a str>,
    pub nonce: Option<&'a str>,
    pub auth_time: NaiveDateTime,
    pub offline: bool,
    pub dpop_jkt: Option<&'a str>,
}

pub fn issue(
    conn: &mut DbConn,
    new: NewCode<'_>,
    ttl: Duration,
    now: NaiveDateTime,
) -> Result<String, StoreError> {
    let plain = secrets::generate();
    diesel::insert_into(authorization_codes::table)
        .values(AuthorizationCode {
            code_hash: secrets::hash(&plain),
            grant_id: new.grant_id.to_owned(),
            redirect_uri: new.redirect_uri.to_owned(),
            scope: new.scope.to_owned(),
            code_challenge: new.code_challenge.map(str::to_owned),
            nonce: new.nonce.map(str::to_owned),
            auth_time: new.auth_time,
            created: now,
            expires_at: now + ttl,
            used_at: None,
            offline: new.offline,
            dpop_jkt: new.dpop_jkt.map(str::to_owned),
        })
        .execute(conn)?;
    Ok(plain)
}

pub fn find(
    conn: &mut DbConn,
    plain: &str,
) -> Result<Option<(AuthorizationCode, Grant)>, StoreError> {
    Ok(authorization_codes::table
        .inner_join(grants_table::table)
        .filter(authorization_codes::code_hash.eq(secrets::hash(plain)))
        .select((AuthorizationCode::as_select(), Grant::as_select()))
        .first(conn)
        .optional()?)
}

/// Uses the code with one conditional UPDATE; a replay revokes its grant.
pub fn redeem(
    conn: &mut DbConn,
    revoked: &RevokedSet,
    code: &AuthorizationCode,
    now: NaiveDateTime,
) -> Result<SingleUse, StoreError> {
    let updated = diesel::update(
        authorization_codes::table
            .filter(authorization_codes::code_hash.eq(&code.code_hash))
            .filter(authorization_codes::used_at.is_null())
            .filter(authorization_codes::expires_at.gt(now)),
    )
    .set(authorization_codes::used_at.eq(now))
    .execute(conn)?;
    let outcome = SingleUse::judge(updated == 1, code.used_at.is_some(), code.expires_at, now);
    if outcome == SingleUse::Replayed {
        grants::revoke(conn, revoked, &code.grant_id, now)?;
    }
    Ok(outcome)
}
