//! JWT access tokens in the RFC 9068 profile, and the revocation state that
//! introspection, userinfo and the REST API check on every use: from memory
//! (`revoked_set` and the caches) when it can tell, else from the database.
use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use diesel::dsl::exists;

use crate::db::schema::{grants, revoked_access_tokens, users};
use crate::db::{DbConn, DbPool};
use crate::error::{AppError, StoreError};
use crate::oauth2::revoked_set::{RevokedSet, Verdict};
use crate::oidc::jwt::{self, Rejected, ACCESS_TOKEN_TYPE};
use crate::oidc::keystore::KeySet;
use crate::registry::cache::ServiceCache;
use crate::scope::{ServiceId, StoredScope};
use crate::secrets;
use crate::users::cache::UserCache;
use crate::users::model::User;

/// `aud`: one string when there is one audience, else an array (RFC 7519 §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub fn new(mut ids: Vec<String>) -> Self {
        if ids.len() == 1 {
            Self::One(ids.remove(0))
        } else {
            Self::Many(ids)
        }
    }

    pub fn contains(&self, id: &str) -> bool {
        match self {
            Self::One(one) => one == id,
            Self::Many(many) => many.iter().any(|a| a == id),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: Audience,
    pub client_id: String,
    pub scope: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    /// The grant this token belongs to, so revoking the grant ends the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<String>,
    /// The DPoP key the token is bound to (RFC 9449 §6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
    /// Who acts for the subject, from a token exchange (RFC 8693 §4.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<ActingParty>,
    /// RFC 9068 §2.2.1: when and how the user signed in, for a user's
    /// token from a sign-in (none for a service's own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
}

/// `cnf`: the SHA-256 thumbprint of the key a proof must be signed with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = KeyConfirmation)]
pub struct Confirmation {
    pub jkt: String,
}

/// `act`: the service acting, and who acted before it, if anyone did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ActingParty {
    pub sub: String,
    // A reference to itself; utoipa would otherwise collect it for ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(no_recursion)]
    pub act: Option<Box<ActingParty>>,
}

impl ActingParty {
    /// How many parties act, this one included.
    pub fn depth(&self) -> usize {
        std::iter::successors(Some(self), |party| party.act.as_deref()).count()
    }
}

impl AccessClaims {
    /// Client-credentials tokens act for the service itself; all others for a user.
    pub fn user_id(&self) -> Option<&str> {
        (self.sub != self.client_id).then_some(self.sub.as_str())
    }

    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        StoredScope(&self.scope).entries()
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        StoredScope(&self.scope).contains(scope)
    }

    /// The thumbprint of the DPoP key the token is bound to, if it is.
    pub fn jkt(&self) -> Option<&str> {
        self.cnf.as_ref().map(|c| c.jkt.as_str())
    }
}

/// What a grant decided to issue, before signing.
#[derive(Debug, Clone, Default)]
pub struct Grantable {
    pub subject: String,
    pub audience: Vec<ServiceId>,
    pub scope: Vec<String>,
    pub grant_id: Option<String>,
    /// Bound to this DPoP key's thumbprint.
    pub jkt: Option<String>,
    /// Acting for the subject, from a token exchange.
    pub act: Option<ActingParty>,
    /// Expires no later than this (Unix seconds), whatever the lifetime.
    pub not_after: Option<i64>,
    /// When and how the user signed in, when the grant records it.
    pub signed_in: Option<SignedIn>,
}

/// When and how a user signed in (`amr` values, space-separated).
#[derive(Debug, Clone, Default)]
pub struct SignedIn {
    pub auth_time: NaiveDateTime,
    pub amr: String,
}

impl SignedIn {
    /// From what a grant keeps: nothing when it did not record the methods.
    pub fn of(auth_time: NaiveDateTime, amr: Option<&str>) -> Option<Self> {
        amr.map(|amr| Self {
            auth_time,
            amr: amr.to_owned(),
        })
    }
}

pub fn sign(
    keys: &KeySet,
    issuer: &str,
    client_id: &str,
    grantable: &Grantable,
    ttl_secs: i64,
    now: NaiveDateTime,
) -> Result<String, AppError> {
    let iat = now.and_utc().timestamp();
    let claims = AccessClaims {
        iss: issuer.to_owned(),
        sub: grantable.subject.clone(),
        aud: Audience::new(
            grantable
                .audience
                .iter()
                .map(|id| id.as_str().to_owned())
                .collect(),
        ),
        client_id: client_id.to_owned(),
        scope: crate::scope::join(&grantable.scope),
        iat,
        exp: expiry(iat, ttl_secs, grantable.not_after),
        jti: secrets::generate(),
        gid: grantable.grant_id.clone(),
        cnf: grantable.jkt.clone().map(|jkt| Confirmation { jkt }),
        act: grantable.act.clone(),
        auth_time: grantable
            .signed_in
            .as_ref()
            .map(|signed| signed.auth_time.and_utc().timestamp()),
        acr: grantable
            .signed_in
            .as_ref()
            .map(|signed| crate::factors::amr::acr_of(&signed.amr).to_owned()),
        amr: grantable
            .signed_in
            .as_ref()
            .map(|signed| signed.amr.split_whitespace().map(str::to_owned).collect()),
    };
    jwt::encode(&keys.current, ACCESS_TOKEN_TYPE, &claims)
}

/// `iat` plus the lifetime, capped at `not_after`.
pub fn expiry(iat: i64, ttl_secs: i64, not_after: Option<i64>) -> i64 {
    let natural = iat.saturating_add(ttl_secs);
    not_after.map_or(natural, |cap| natural.min(cap))
}

pub fn verify(keys: &KeySet, token: &str, issuer: &str) -> Result<AccessClaims, Rejected> {
    jwt::verify(keys, token, ACCESS_TOKEN_TYPE, issuer)
}

/// Why a well-signed, unexpired token is no longer honoured.
#[derive(Debug, PartialEq, Eq)]
pub enum Inactive {
    Revoked,
    GrantRevoked,
    ClientGone,
    UserGoneOrBanned,
}

/// What judging a token's state reads.
pub struct TokenChecks<'a> {
    pub pool: &'a DbPool,
    pub services: &'a Arc<ServiceCache>,
    pub users: &'a Arc<UserCache>,
    pub revoked: &'a RevokedSet,
}

/// The state a signature cannot carry: from memory when the revoked set and
/// the caches can tell, else from the database (`check_active`). Returns the
/// user the token acts for, if any.
pub async fn status(
    checks: TokenChecks<'_>,
    claims: &AccessClaims,
) -> Result<Result<Option<Arc<User>>, Inactive>, AppError> {
    if let Some(known) = from_memory(&checks, claims) {
        return Ok(known);
    }
    let (services, users) = (Arc::clone(checks.services), Arc::clone(checks.users));
    let claims = claims.clone();
    crate::db::run(checks.pool, move |conn| {
        Ok(check_active(conn, &services, &users, &claims)?)
    })
    .await
}

/// `None` when anything must be read: a token older than the revoked set
/// covers, a feed not lately proven, a service or user not freshly cached.
fn from_memory(
    checks: &TokenChecks<'_>,
    claims: &AccessClaims,
) -> Option<Result<Option<Arc<User>>, Inactive>> {
    match checks
        .revoked
        .judge(&claims.jti, claims.gid.as_deref(), claims.iat)?
    {
        Verdict::TokenRevoked => return Some(Err(Inactive::Revoked)),
        Verdict::GrantRevoked => return Some(Err(Inactive::GrantRevoked)),
        Verdict::Live => {}
    }
    if checks.services.fresh(&claims.client_id)?.is_none() {
        return Some(Err(Inactive::ClientGone));
    }
    let Some(user_id) = claims.user_id() else {
        return Some(Ok(None));
    };
    match checks.users.fresh(user_id)? {
        Some(user) if !user.banned => Some(Ok(Some(user))),
        _ => Some(Err(Inactive::UserGoneOrBanned)),
    }
}

/// Checks the state a signature cannot carry, in one round trip: the token
/// not revoked, its grant not revoked, its user not banned (all read from the
/// database, so they hold at once everywhere), and its client still
/// registered. Returns the user the token acts for, if any; the profile comes
/// from the user cache.
fn check_active(
    conn: &mut DbConn,
    services: &ServiceCache,
    users_cache: &UserCache,
    claims: &AccessClaims,
) -> Result<Result<Option<Arc<User>>, Inactive>, StoreError> {
    // Absent grant or user: an empty id matches nothing and is not looked at.
    let grant_id = claims.gid.as_deref().unwrap_or("");
    let user_id = claims.user_id();
    let (revoked, grant_live, user_active): (bool, bool, bool) = diesel::select((
        exists(revoked_access_tokens::table.find(&claims.jti)),
        exists(
            grants::table
                .find(grant_id)
                .filter(grants::revoked_at.is_null()),
        ),
        exists(
            users::table
                .find(user_id.unwrap_or(""))
                .filter(users::banned.eq(false)),
        ),
    ))
    .get_result(conn)?;
    if revoked {
        return Ok(Err(Inactive::Revoked));
    }
    if claims.gid.is_some() && !grant_live {
        return Ok(Err(Inactive::GrantRevoked));
    }
    if services.lookup(conn, &claims.client_id)?.is_none() {
        return Ok(Err(Inactive::ClientGone));
    }
    let Some(user_id) = user_id else {
        return Ok(Ok(None));
    };
    if !user_active {
        return Ok(Err(Inactive::UserGoneOrBanned));
    }
    match users_cache.lookup(conn, user_id)? {
        Some(user) => Ok(Ok(Some(user))),
        None => Ok(Err(Inactive::UserGoneOrBanned)),
    }
}

/// Revokes one access token until it would have expired anyway.
pub fn revoke(
    conn: &mut DbConn,
    revoked: &RevokedSet,
    claims: &AccessClaims,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    let expires_at = chrono::DateTime::from_timestamp(claims.exp, 0)
        .map(|t| t.naive_utc())
        .unwrap_or(now + Duration::days(1));
    // A savepoint: a duplicate must not abort a surrounding PostgreSQL
    // transaction.
    let inserted = crate::db::transaction(conn, |conn| {
        diesel::insert_into(revoked_access_tokens::table)
            .values((
                revoked_access_tokens::jti.eq(&claims.jti),
                revoked_access_tokens::expires_at.eq(expires_at),
            ))
            .execute(conn)
    });
    let newly = match inserted.map_err(StoreError::from) {
        Ok(_) => true,
        Err(StoreError::Duplicate(_)) => false,
        Err(other) => return Err(other),
    };
    revoked.note_token(&claims.jti, claims.exp);
    Ok(newly)
}
