//! Token introspection (RFC 7662). The caller authenticates as a service and
//! may see tokens issued to it or whose audience names it; anything else, and
//! any revoked or expired token, is `{"active": false}`.
use std::sync::Arc;

use chrono::NaiveDateTime;
use serde_json::{json, Value};

use super::access_token::{self, AccessClaims, TokenChecks};
use super::client_auth::{self, PresentedClient};
use super::error::OAuthError;
use super::refresh_tokens;
use super::revoked_set::RevokedSet;
use super::verified::VerifiedTokens;
use crate::db::{DbConn, DbPool};
use crate::oidc::keystore::KeySet;
use crate::registry::cache::ServiceCache;
use crate::users::cache::UserCache;

/// What introspection reads besides the request and the clock.
pub struct IntrospectionDeps<'a> {
    pub pool: &'a DbPool,
    pub services: &'a Arc<ServiceCache>,
    pub users: &'a Arc<UserCache>,
    pub verified: &'a VerifiedTokens,
    pub revoked: &'a RevokedSet,
    pub keys: &'a KeySet,
    pub issuer: &'a str,
}

/// The introspection answer for `token`, as seen by the authenticated caller.
pub async fn introspect(
    deps: IntrospectionDeps<'_>,
    presented: PresentedClient,
    token: String,
    now: NaiveDateTime,
) -> Result<Value, OAuthError> {
    let client = client_auth::authenticate_cached(deps.pool, deps.services, &presented).await?;
    if !client.confidential {
        return Err(OAuthError::invalid_client());
    }
    let caller = client.service.id.clone();
    // Signature and expiry first, off the database.
    if let Ok(claims) = deps.verified.verify(deps.keys, &token, deps.issuer) {
        return access_token_state(&deps, &caller, &claims).await;
    }
    super::run(deps.pool, move |conn| {
        refresh_token_state(conn, &caller, &token, now)
    })
    .await
}

fn inactive() -> Value {
    json!({ "active": false })
}

async fn access_token_state(
    deps: &IntrospectionDeps<'_>,
    caller: &str,
    claims: &AccessClaims,
) -> Result<Value, OAuthError> {
    if claims.client_id != caller && !claims.aud.contains(caller) {
        return Ok(inactive());
    }
    let checks = TokenChecks {
        pool: deps.pool,
        services: deps.services,
        users: deps.users,
        revoked: deps.revoked,
    };
    let user = match access_token::status(checks, claims).await? {
        Ok(user) => user,
        Err(_) => return Ok(inactive()),
    };
    let mut answer = json!({
        "active": true,
        "token_type": if claims.cnf.is_some() { "DPoP" } else { "Bearer" },
        "scope": claims.scope,
        "client_id": claims.client_id,
        "sub": claims.sub,
        "aud": claims.aud,
        "iss": claims.iss,
        "exp": claims.exp,
        "iat": claims.iat,
        "jti": claims.jti,
    });
    if let Some(user) = user {
        answer["username"] = json!(user.login);
    }
    // The resource checks the proof itself (RFC 9449 §6.2).
    if let Some(cnf) = &claims.cnf {
        answer["cnf"] = json!(cnf);
    }
    if let Some(act) = &claims.act {
        answer["act"] = json!(act);
    }
    Ok(answer)
}

fn refresh_token_state(
    conn: &mut DbConn,
    caller: &str,
    token: &str,
    now: NaiveDateTime,
) -> Result<Value, OAuthError> {
    let Some((refresh, grant)) = refresh_tokens::find(conn, token)? else {
        return Ok(inactive());
    };
    let live = grant.service_id == caller
        && grant.revoked_at.is_none()
        && refresh.used_at.is_none()
        && refresh.expires_at > now;
    if !live {
        return Ok(inactive());
    }
    if let Some(user_id) = &grant.user_id {
        match crate::users::repo::find(conn, user_id) {
            Ok(user) if !user.banned => {}
            _ => return Ok(inactive()),
        }
    }
    Ok(json!({
        "active": true,
        "token_type": "refresh_token",
        "scope": refresh.scope,
        "client_id": grant.service_id,
        "sub": grant.user_id.unwrap_or(grant.service_id.clone()),
        "exp": refresh.expires_at.and_utc().timestamp(),
        "iat": refresh.created.and_utc().timestamp(),
    }))
}
