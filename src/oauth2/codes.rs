//! Authorization codes: single use, short-lived, bound to client (through the
//! grant), redirect URI, PKCE challenge, nonce and scope; stored as SHA-256.
use chrono::{Duration, NaiveDateTime};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment};
use diesel::sql_types::{Bool, Nullable, Text, Timestamp};

use super::grants::Grant;
use super::refresh_tokens::NewRefreshToken;
use super::single_use::SingleUse;
use crate::db::schema::{authorization_codes, grants as grants_table};
use crate::db::unexpired::unexpired;
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

/// Uses the code with one conditional UPDATE and, if that wins and
/// `refresh` is given, stores the refresh token with it: both or neither.
/// On PostgreSQL that is one statement (one round trip, and no transaction
/// to begin and commit); on SQLite, without data-modifying CTEs, the UPDATE
/// alone or the two in a transaction. A replay's grant is the caller's to
/// revoke, with its audit event.
pub fn redeem(
    conn: &mut DbConn,
    code: &AuthorizationCode,
    now: NaiveDateTime,
    refresh: Option<&NewRefreshToken>,
) -> Result<SingleUse, StoreError> {
    let won = match (&mut *conn, refresh) {
        (DbConn::Postgresql(pg), Some(refresh)) => {
            RedeemIssuing {
                code_hash: code.code_hash.clone(),
                now,
                token_hash: refresh.token_hash.clone(),
                scope: refresh.scope.clone(),
                expires_at: refresh.expires_at,
                jkt: refresh.jkt.clone(),
            }
            .get_result::<Redeemed>(pg)?
            .won
        }
        (_, None) => use_code(conn, code, now)?,
        (DbConn::Sqlite(_), Some(refresh)) => crate::db::transaction(conn, |conn| {
            let won = use_code(conn, code, now)?;
            if won {
                refresh.insert(conn, now)?;
            }
            Ok::<_, StoreError>(won)
        })?,
    };
    Ok(SingleUse::judge(
        won,
        code.used_at.is_some(),
        code.expires_at,
        now,
    ))
}

/// The conditional UPDATE: true when this call used the code.
fn use_code(
    conn: &mut DbConn,
    code: &AuthorizationCode,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    let updated = diesel::update(
        authorization_codes::table
            .filter(authorization_codes::code_hash.eq(&code.code_hash))
            .filter(authorization_codes::used_at.is_null())
            .filter(unexpired(authorization_codes::expires_at, now)),
    )
    .set(authorization_codes::used_at.eq(now))
    .execute(conn)?;
    Ok(updated == 1)
}

/// The code's conditional UPDATE and the INSERT of the refresh token of an
/// offline grant, which takes its `grant_id` from the row the UPDATE changed,
/// so it happens only if the UPDATE won. $1 the code's hash, $2 now, $3 the
/// refresh token's hash, $4 its scope, $5 its expiry, $6 its DPoP key.
const REDEEM_ISSUING_SQL: &str = "\
WITH used AS (
    UPDATE authorization_codes SET used_at = $2
    WHERE code_hash = $1 AND used_at IS NULL AND COALESCE(expires_at > $2, FALSE)
    RETURNING grant_id
), successor AS (
    INSERT INTO refresh_tokens (token_hash, grant_id, scope, created, expires_at, used_at, jkt)
    SELECT $3, grant_id, $4, $2, $5, NULL, $6 FROM used
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM successor) AS won";

/// `REDEEM_ISSUING_SQL` with its values, prepared once per connection
/// (`db::numbered`).
struct RedeemIssuing {
    code_hash: String,
    now: NaiveDateTime,
    token_hash: String,
    scope: String,
    expires_at: NaiveDateTime,
    jkt: Option<String>,
}

crate::db::numbered::prepared_once!(RedeemIssuing);

impl QueryFragment<Pg> for RedeemIssuing {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        crate::db::numbered::walk(REDEEM_ISSUING_SQL, &mut out, |n, out| match n {
            "1" => out.push_bind_param::<Text, _>(&self.code_hash),
            "2" => out.push_bind_param::<Timestamp, _>(&self.now),
            "3" => out.push_bind_param::<Text, _>(&self.token_hash),
            "4" => out.push_bind_param::<Text, _>(&self.scope),
            "5" => out.push_bind_param::<Timestamp, _>(&self.expires_at),
            "6" => out.push_bind_param::<Nullable<Text>, _>(&self.jkt),
            other => Err(crate::db::numbered::unknown(other)),
        })
    }
}

#[derive(QueryableByName)]
struct Redeemed {
    #[diesel(sql_type = Bool)]
    won: bool,
}
