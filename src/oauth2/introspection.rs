//! Token introspection (RFC 7662). The caller authenticates as a service and
//! may see tokens issued to it or whose audience names it; anything else, and
//! any revoked or expired token, is `{"active": false}`.
use std::sync::Arc;

use chrono::NaiveDateTime;
use serde::Serialize;
use utoipa::ToSchema;

use super::access_token::{self, AccessClaims, ActingParty, Audience, Confirmation, TokenChecks};
use super::client_auth::{self, PresentedClient};
use super::error::OAuthError;
use super::refresh_tokens;
use super::revoked_set::RevokedSet;
use super::verified::VerifiedTokens;
use crate::db::{DbConn, DbPool};
use crate::oidc::keystore::KeySet;
use crate::registry::cache::ServiceCache;
use crate::users::cache::UserCache;

/// RFC 7662 §2.2: `{"active": false}` alone for a token that is not live
/// or not the caller's.
#[derive(Debug, Default, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Introspection {
    pub active: bool,
    /// `Bearer`, `DPoP` or `refresh_token`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// The user's login, for a user's token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<Audience>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// The DPoP key the token is bound to: the resource checks the proof
    /// itself (RFC 9449 §6.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub act: Option<ActingParty>,
    /// When and how the user signed in (RFC 9068 §2.2.1), for a user's
    /// access token from a sign-in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
}

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
) -> Result<Introspection, OAuthError> {
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

fn inactive() -> Introspection {
    Introspection::default()
}

async fn access_token_state(
    deps: &IntrospectionDeps<'_>,
    caller: &str,
    claims: &AccessClaims,
) -> Result<Introspection, OAuthError> {
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
    Ok(Introspection {
        active: true,
        token_type: Some(if claims.cnf.is_some() {
            "DPoP"
        } else {
            "Bearer"
        }),
        scope: Some(claims.scope.clone()),
        client_id: Some(claims.client_id.clone()),
        sub: Some(claims.sub.clone()),
        username: user.map(|user| user.login.clone()),
        aud: Some(claims.aud.clone()),
        iss: Some(claims.iss.clone()),
        exp: Some(claims.exp),
        iat: Some(claims.iat),
        jti: Some(claims.jti.clone()),
        cnf: claims.cnf.clone(),
        act: claims.act.clone(),
        auth_time: claims.auth_time,
        acr: claims.acr.clone(),
        amr: claims.amr.clone(),
    })
}

fn refresh_token_state(
    conn: &mut DbConn,
    caller: &str,
    token: &str,
    now: NaiveDateTime,
) -> Result<Introspection, OAuthError> {
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
    Ok(Introspection {
        active: true,
        token_type: Some("refresh_token"),
        scope: Some(refresh.scope),
        sub: Some(grant.user_id.unwrap_or(grant.service_id.clone())),
        client_id: Some(grant.service_id),
        exp: Some(refresh.expires_at.and_utc().timestamp()),
        iat: Some(refresh.created.and_utc().timestamp()),
        ..Introspection::default()
    })
}
