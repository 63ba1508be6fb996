//! Refresh tokens: opaque, stored as SHA-256, rotated on every use. A token is
//! consumed by one conditional UPDATE so two racing uses issue new tokens once;
//! presenting a used token again revokes its whole grant.
use chrono::{Duration, NaiveDateTime};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment};
use diesel::sql_types::{Array, Bool, Nullable, Text, Timestamp};

use super::grants::Grant;
use super::single_use::SingleUse;
use crate::db::schema::{grants as grants_table, refresh_tokens};
use crate::db::unexpired::unexpired;
use crate::db::DbConn;
use crate::error::StoreError;
use crate::secrets;
use crate::users::cache::UserCache;
use crate::users::model::User;

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

/// A refresh token about to be stored (in the same statement as the use of
/// what it is issued for).
#[derive(Debug)]
pub struct NewRefreshToken {
    pub plain: String,
    pub token_hash: String,
    pub grant_id: String,
    pub scope: String,
    pub jkt: Option<String>,
    pub expires_at: NaiveDateTime,
}

impl NewRefreshToken {
    pub fn generate(
        grant_id: &str,
        scope: &str,
        jkt: Option<&str>,
        ttl: Duration,
        now: NaiveDateTime,
    ) -> Self {
        let plain = secrets::generate();
        Self {
            token_hash: secrets::hash(&plain),
            plain,
            grant_id: grant_id.to_owned(),
            scope: scope.to_owned(),
            jkt: jkt.map(str::to_owned),
            expires_at: now + ttl,
        }
    }

    pub fn insert(&self, conn: &mut DbConn, now: NaiveDateTime) -> Result<(), StoreError> {
        insert(
            conn,
            &self.token_hash,
            &self.grant_id,
            &self.scope,
            self.jkt.as_deref(),
            self.expires_at,
            now,
        )
    }
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
    insert(
        conn,
        &secrets::hash(&plain),
        grant_id,
        scope,
        jkt,
        now + ttl,
        now,
    )?;
    Ok(plain)
}

fn insert(
    conn: &mut DbConn,
    token_hash: &str,
    grant_id: &str,
    scope: &str,
    jkt: Option<&str>,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::insert_into(refresh_tokens::table)
        .values(RefreshToken {
            token_hash: token_hash.to_owned(),
            grant_id: grant_id.to_owned(),
            scope: scope.to_owned(),
            created: now,
            expires_at,
            used_at: None,
            jkt: jkt.map(str::to_owned),
        })
        .execute(conn)?;
    Ok(())
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

/// A refresh request, as the rotation judges it: the presented token, who
/// presents it with which DPoP key, the scope asked for, and what its
/// successor is bound to.
#[derive(Debug, Clone, Copy)]
pub struct RotationRequest<'a> {
    pub plain: &'a str,
    pub client_id: &'a str,
    /// The thumbprint of the request's checked DPoP proof, if it sent one.
    pub dpop_jkt: Option<&'a str>,
    /// The entries asked for; each must be one of the token's. `None` keeps
    /// the token's scope.
    pub narrowed_to: Option<&'a [String]>,
    /// The key the successor of an unbound token is bound to: a public
    /// client's proof (RFC 9449 §5).
    pub bind_unbound_to: Option<&'a str>,
    /// A service this client may not use (`scope_rules::refused_service`):
    /// a token whose scope holds it rotates only narrowed to leave it out.
    pub refused_service: Option<&'a str>,
    pub ttl: Duration,
    pub now: NaiveDateTime,
}

/// Why a request may not use a token; the token is left unused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    OtherClient,
    GrantRevoked,
    /// The token is bound to a DPoP key the request did not prove.
    OtherKey,
    /// This entry was asked for and not granted.
    ScopeWidened(String),
    /// The scope holds a service this client may not use.
    ServiceRefused(String),
    UserGone,
    /// The database did not admit what `refusal` admits. The PostgreSQL
    /// statement states the same rules in SQL; this answers safely should
    /// the two ever disagree.
    NotAdmitted,
}

impl RotationRequest<'_> {
    /// The first rule the request breaks, in the order they are reported.
    /// `ROTATE_SQL`'s `admitted` is the same rules: change both together.
    pub fn refusal(
        &self,
        token: &RefreshToken,
        grant: &Grant,
        user: Option<&User>,
    ) -> Option<Refusal> {
        if grant.service_id != self.client_id {
            return Some(Refusal::OtherClient);
        }
        if grant.revoked_at.is_some() {
            return Some(Refusal::GrantRevoked);
        }
        if token.jkt.is_some() && token.jkt.as_deref() != self.dpop_jkt {
            return Some(Refusal::OtherKey);
        }
        // Split on single spaces exactly as `ROTATE_SQL`'s `string_to_array`
        // does (stored scopes are entries joined by one space), so the two
        // judgements cannot differ on a scope written some other way.
        let granted: Vec<&str> = token.scope.split(' ').collect();
        let is_granted = |entry: &str| granted.contains(&entry);
        if let Some(extra) = self
            .narrowed_to
            .and_then(|asked| asked.iter().find(|s| !is_granted(s)))
        {
            return Some(Refusal::ScopeWidened(extra.clone()));
        }
        if let Some(refused) = self.refused_service {
            let kept = match self.narrowed_to {
                Some(asked) => asked.iter().any(|s| s == refused),
                None => is_granted(refused),
            };
            if kept {
                return Some(Refusal::ServiceRefused(refused.to_owned()));
            }
        }
        if grant.user_id.is_some() && user.is_none_or(|u| u.banned) {
            return Some(Refusal::UserGone);
        }
        None
    }
}

/// What presenting a token came to.
#[derive(Debug)]
pub enum Outcome {
    /// This call used it; its successor, in plain text.
    Rotated(String),
    /// Not used, for this reason.
    Refused(Refusal),
    /// Used before (or by a racing call): a replay. The caller revokes the grant.
    Replayed,
    /// Unused but past its expiry.
    Expired,
}

/// The token as it was before this call, its grant and user, and the outcome.
#[derive(Debug)]
pub struct Rotation {
    pub token: RefreshToken,
    pub grant: Grant,
    /// The grant's user (none for a client's own grant, or if the user is
    /// gone).
    pub user: Option<User>,
    pub outcome: Outcome,
}

/// What the storage found and did.
struct Found {
    token: RefreshToken,
    grant: Grant,
    user: Option<User>,
    /// The database judged the request's rules kept.
    admitted: bool,
    /// The token was used and its successor stored, together.
    rotated: bool,
}

/// Uses the token and stores its successor if the request keeps every rule
/// (`RotationRequest::refusal`) and the token is unused and unexpired; `None`
/// for an unknown token. Either both writes happen or neither: a token is
/// never used up without a successor. A refused request changes nothing.
///
/// On PostgreSQL this is one statement (one round trip, no transaction to
/// begin and commit), which reads the user with the token and checks the
/// ban in the same statement as the use (a ban committed while it runs may
/// be missed, as between a read and a write before). SQLite has no
/// data-modifying CTE, so there it is a read and a transaction of the UPDATE and the INSERT, as
/// it always was, with the user from `users`: in-process these cost no
/// round trips. The judgement of the outcome is shared.
pub fn rotate(
    conn: &mut DbConn,
    users: &UserCache,
    request: &RotationRequest<'_>,
) -> Result<Option<Rotation>, StoreError> {
    let successor = secrets::generate();
    let successor_hash = secrets::hash(&successor);
    let found = match &mut *conn {
        DbConn::Postgresql(pg) => rotate_in_one_statement(pg, request, successor_hash)?,
        DbConn::Sqlite(_) => rotate_in_a_transaction(conn, users, request, &successor_hash)?,
    };
    let Some(found) = found else {
        return Ok(None);
    };
    // Either judgement refuses. Should the statement's SQL ever admit what
    // `refusal` refuses, the token is used up and nothing issued (its next
    // use reads as a replay and revokes the grant): never tokens against the
    // rules, and the disagreement is logged as the bug it is.
    let refusal = request.refusal(&found.token, &found.grant, found.user.as_ref());
    if refusal.is_some() && found.rotated {
        tracing::error!(
            grant = %found.grant.id,
            "refresh rotation: the database admitted a request the rules refuse; the token is used up"
        );
    }
    let outcome = match (refusal, found.admitted) {
        (Some(refusal), _) => Outcome::Refused(refusal),
        (None, false) => Outcome::Refused(Refusal::NotAdmitted),
        (None, true) => match SingleUse::judge(
            found.rotated,
            found.token.used_at.is_some(),
            found.token.expires_at,
            request.now,
        ) {
            SingleUse::Won => Outcome::Rotated(successor),
            SingleUse::Replayed => Outcome::Replayed,
            SingleUse::Expired => Outcome::Expired,
        },
    };
    Ok(Some(Rotation {
        token: found.token,
        grant: found.grant,
        user: found.user,
        outcome,
    }))
}

/// SQLite: the read, then the UPDATE and the INSERT in one transaction. The
/// read stays outside it, as reads on SQLite need no lock: the transaction
/// holds the database's one write lock, and every moment it holds it more
/// another writer (the audit and DPoP id writers) sleeps in the busy handler.
/// The user comes from the cache, not from a join: with STAT4 (on in the
/// bundled SQLite) a statement whose parameter meets an index is compiled
/// again whenever the value changes, and the read joining users recompiled
/// at 530,000 instructions a rotation against 170,000 for `find`
/// (callgrind), 15 % fewer rotations a second at 32 connections.
/// What the read judged may change before the UPDATE, as with any read; the
/// UPDATE's own conditions decide which of two racing uses wins.
fn rotate_in_a_transaction(
    conn: &mut DbConn,
    users: &UserCache,
    request: &RotationRequest<'_>,
    successor_hash: &str,
) -> Result<Option<Found>, StoreError> {
    let now = request.now;
    let Some((token, grant)) = find(conn, request.plain)? else {
        return Ok(None);
    };
    let user = match &grant.user_id {
        Some(id) => users.lookup(conn, id)?.map(|user| User::clone(&user)),
        None => None,
    };
    let admitted = request.refusal(&token, &grant, user.as_ref()).is_none();
    let rotated = admitted
        && crate::db::transaction(conn, |conn| {
            let used = diesel::update(
                refresh_tokens::table
                    .filter(refresh_tokens::token_hash.eq(&token.token_hash))
                    .filter(refresh_tokens::used_at.is_null())
                    .filter(unexpired(refresh_tokens::expires_at, now)),
            )
            .set(refresh_tokens::used_at.eq(now))
            .execute(conn)?;
            if used != 1 {
                return Ok::<_, StoreError>(false);
            }
            insert(
                conn,
                successor_hash,
                &token.grant_id,
                &token.scope,
                token.jkt.as_deref().or(request.bind_unbound_to),
                now + request.ttl,
                now,
            )?;
            Ok(true)
        })?;
    Ok(Some(Found {
        token,
        grant,
        user,
        admitted,
        rotated,
    }))
}

/// The rotation as one PostgreSQL statement. `found` reads the token, its
/// grant and user as they were, and whether the request keeps the rules of
/// `RotationRequest::refusal` (stored scopes are entries joined by single
/// spaces, `scope::join`); `used` consumes the token only then, with the
/// conditional UPDATE that lets one of two racing uses win (READ COMMITTED
/// rechecks `used_at IS NULL` on the row the winner wrote); `successor` is
/// inserted only from the row `used` returned, so both or neither happen.
/// `admitted` is never null: a comparison with a proof the request did not
/// send is unknown, and unknown admits nothing.
///
/// $1 the token's hash, $2 the client, $3 the proof's key, $4 the scope
/// asked for, $5 now, $6 the successor's hash, $7 its expiry, $8 the key an
/// unbound token's successor is bound to, $9 the service the client may not
/// use.
const ROTATE_SQL: &str = "\
WITH found AS (
    SELECT t.token_hash, t.grant_id, t.scope AS token_scope, t.created AS token_created,
        t.expires_at, t.used_at, t.jkt,
        g.service_id, g.user_id, g.scope AS grant_scope, g.created AS grant_created,
        g.revoked_at, g.sid, g.amr, g.auth_time AS grant_auth_time,
        u.id AS u_id, u.login AS u_login, u.name AS u_name, u.email AS u_email,
        u.password_hash AS u_password_hash, u.admin AS u_admin, u.guest AS u_guest,
        u.banned AS u_banned, u.created AS u_created, u.updated AS u_updated,
        COALESCE(g.service_id = $2
            AND g.revoked_at IS NULL
            AND (t.jkt IS NULL OR t.jkt = $3)
            AND ($4 IS NULL OR $4 <@ string_to_array(t.scope, ' '))
            AND ($9 IS NULL OR $9 <> ALL (COALESCE($4, string_to_array(t.scope, ' '))))
            AND (g.user_id IS NULL OR u.banned IS FALSE), FALSE) AS admitted
    FROM refresh_tokens t
    JOIN grants g ON g.id = t.grant_id
    LEFT JOIN users u ON u.id = g.user_id
    WHERE t.token_hash = $1
), used AS (
    UPDATE refresh_tokens t SET used_at = $5
    WHERE t.token_hash = $1 AND t.used_at IS NULL AND COALESCE(t.expires_at > $5, FALSE)
        AND (SELECT admitted FROM found)
    RETURNING t.grant_id, t.scope, t.jkt
), successor AS (
    INSERT INTO refresh_tokens (token_hash, grant_id, scope, created, expires_at, used_at, jkt)
    SELECT $6, grant_id, scope, $5, $7, NULL, COALESCE(jkt, $8) FROM used
    RETURNING 1
)
SELECT f.*, EXISTS (SELECT 1 FROM successor) AS rotated FROM found f";

fn rotate_in_one_statement(
    pg: &mut diesel::PgConnection,
    request: &RotationRequest<'_>,
    successor_hash: String,
) -> Result<Option<Found>, StoreError> {
    let statement = RotateStatement {
        token_hash: secrets::hash(request.plain),
        client_id: request.client_id.to_owned(),
        dpop_jkt: request.dpop_jkt.map(str::to_owned),
        narrowed_to: request.narrowed_to.map(<[String]>::to_vec),
        now: request.now,
        successor_hash,
        expires_at: request.now + request.ttl,
        bind_unbound_to: request.bind_unbound_to.map(str::to_owned),
        refused_service: request.refused_service.map(str::to_owned),
    };
    let row: Option<RotatedRow> = statement.get_result(pg).optional()?;
    Ok(row.map(RotatedRow::into_found))
}

/// `ROTATE_SQL` with its values, prepared once per connection
/// (`db::numbered`).
struct RotateStatement {
    token_hash: String,
    client_id: String,
    dpop_jkt: Option<String>,
    narrowed_to: Option<Vec<String>>,
    now: NaiveDateTime,
    successor_hash: String,
    expires_at: NaiveDateTime,
    bind_unbound_to: Option<String>,
    refused_service: Option<String>,
}

crate::db::numbered::prepared_once!(RotateStatement);

impl QueryFragment<Pg> for RotateStatement {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        crate::db::numbered::walk(ROTATE_SQL, &mut out, |n, out| match n {
            "1" => out.push_bind_param::<Text, _>(&self.token_hash),
            "2" => out.push_bind_param::<Text, _>(&self.client_id),
            "3" => out.push_bind_param::<Nullable<Text>, _>(&self.dpop_jkt),
            "4" => out.push_bind_param::<Nullable<Array<Text>>, _>(&self.narrowed_to),
            "5" => out.push_bind_param::<Timestamp, _>(&self.now),
            "6" => out.push_bind_param::<Text, _>(&self.successor_hash),
            "7" => out.push_bind_param::<Timestamp, _>(&self.expires_at),
            "8" => out.push_bind_param::<Nullable<Text>, _>(&self.bind_unbound_to),
            "9" => out.push_bind_param::<Nullable<Text>, _>(&self.refused_service),
            other => Err(crate::db::numbered::unknown(other)),
        })
    }
}

#[derive(QueryableByName)]
struct RotatedRow {
    #[diesel(sql_type = Text)]
    token_hash: String,
    #[diesel(sql_type = Text)]
    grant_id: String,
    #[diesel(sql_type = Text)]
    token_scope: String,
    #[diesel(sql_type = Timestamp)]
    token_created: NaiveDateTime,
    #[diesel(sql_type = Timestamp)]
    expires_at: NaiveDateTime,
    #[diesel(sql_type = Nullable<Timestamp>)]
    used_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Text>)]
    jkt: Option<String>,
    #[diesel(sql_type = Text)]
    service_id: String,
    #[diesel(sql_type = Nullable<Text>)]
    user_id: Option<String>,
    #[diesel(sql_type = Text)]
    grant_scope: String,
    #[diesel(sql_type = Timestamp)]
    grant_created: NaiveDateTime,
    #[diesel(sql_type = Nullable<Timestamp>)]
    revoked_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Text>)]
    sid: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    amr: Option<String>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    grant_auth_time: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Text>)]
    u_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    u_login: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    u_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    u_email: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    u_password_hash: Option<String>,
    #[diesel(sql_type = Nullable<Bool>)]
    u_admin: Option<bool>,
    #[diesel(sql_type = Nullable<Bool>)]
    u_guest: Option<bool>,
    #[diesel(sql_type = Nullable<Bool>)]
    u_banned: Option<bool>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    u_created: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    u_updated: Option<NaiveDateTime>,
    #[diesel(sql_type = Bool)]
    admitted: bool,
    #[diesel(sql_type = Bool)]
    rotated: bool,
}

impl RotatedRow {
    fn into_found(self) -> Found {
        // The user's NOT NULL columns are all there or, without a user
        // row (LEFT JOIN), all null.
        let user = match (
            self.u_id,
            self.u_login,
            self.u_name,
            self.u_admin,
            self.u_guest,
            self.u_banned,
            self.u_created,
            self.u_updated,
        ) {
            (
                Some(id),
                Some(login),
                Some(name),
                Some(admin),
                Some(guest),
                Some(banned),
                Some(created),
                Some(updated),
            ) => Some(User {
                id,
                login,
                name,
                email: self.u_email,
                password_hash: self.u_password_hash,
                admin,
                guest,
                banned,
                created,
                updated,
            }),
            _ => None,
        };
        Found {
            grant: Grant {
                id: self.grant_id.clone(),
                service_id: self.service_id,
                user_id: self.user_id,
                scope: self.grant_scope,
                created: self.grant_created,
                revoked_at: self.revoked_at,
                sid: self.sid,
                amr: self.amr,
                auth_time: self.grant_auth_time,
            },
            token: RefreshToken {
                token_hash: self.token_hash,
                grant_id: self.grant_id,
                scope: self.token_scope,
                created: self.token_created,
                expires_at: self.expires_at,
                used_at: self.used_at,
                jkt: self.jkt,
            },
            user,
            admitted: self.admitted,
            rotated: self.rotated,
        }
    }
}
