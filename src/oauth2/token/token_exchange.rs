//! `urn:ietf:params:oauth:grant-type:token-exchange` (RFC 8693): a service
//! that received a user's access token trades it for a token to other
//! services, acting for the same user. Only services an administrator allowed
//! (`tokenExchangeEnabled`) may; the new token names them in `act`, reaches
//! only services the user has allowed some client, lives no longer than the
//! token it came from, and belongs to the same grant, so revoking that grant
//! ends both.
use chrono::NaiveDateTime;
use serde::Deserialize;

use super::context::GrantDeps;
use super::issued::Issued;
use crate::grant_types::ACCESS_TOKEN_TYPE;
use crate::oauth2::access_token::{self, ActingParty, Grantable};
use crate::oauth2::client_auth::{self, PresentedClient};
use crate::oauth2::error::{ErrorCode, OAuthError};
use crate::oauth2::{grants, scope_rules};
use crate::registry::model::HUB_SERVICE_ID;
use crate::scope::{Requested, ServiceId};

/// Services acting one for another in a token (`act`, RFC 8693 §4.1): each
/// exchange of an exchanged token adds one, and the token grows with them.
const MAX_ACTING_PARTIES: usize = 5;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ExchangeRequest {
    pub subject_token: String,
    pub subject_token_type: String,
    pub audience: Option<String>,
    pub scope: Option<String>,
    pub requested_token_type: Option<String>,
    pub actor_token: Option<String>,
    pub resource: Option<String>,
}

fn refused(why: &str) -> OAuthError {
    OAuthError::invalid_request(why)
}

pub async fn grant(
    deps: &GrantDeps<'_>,
    presented: PresentedClient,
    request: ExchangeRequest,
    _now: NaiveDateTime,
) -> Result<Issued, OAuthError> {
    let client = client_auth::authenticate_cached(deps.pool, deps.services, &presented).await?;
    let caller = client.service.id.clone();
    if !client.confidential {
        return Err(OAuthError::unauthorized_client(
            "public clients cannot exchange tokens",
        ));
    }
    if !client.service.token_exchange_enabled {
        return Err(OAuthError::unauthorized_client(
            "token exchange is not allowed for this service (tokenExchangeEnabled)",
        ));
    }
    if request.subject_token_type != ACCESS_TOKEN_TYPE {
        return Err(refused(&format!(
            "subject_token_type must be {ACCESS_TOKEN_TYPE}"
        )));
    }
    if request
        .requested_token_type
        .as_deref()
        .is_some_and(|t| t != ACCESS_TOKEN_TYPE)
    {
        return Err(refused(&format!(
            "requested_token_type must be {ACCESS_TOKEN_TYPE}"
        )));
    }
    if request.actor_token.is_some() {
        return Err(refused(
            "actor_token is not supported: the authenticated service is the actor",
        ));
    }
    if request.resource.is_some() {
        return Err(OAuthError::new(
            ErrorCode::InvalidTarget,
            "name target services by id in audience, not by resource URI",
        ));
    }
    let subject = deps
        .verified
        .verify(deps.keys, &request.subject_token, deps.issuer)
        .map_err(|_| refused("the subject_token is invalid or expired"))?;
    if !subject.aud.contains(&caller) {
        return Err(refused(
            "the subject_token was not issued for this service (aud)",
        ));
    }
    if subject.gid.is_none() {
        // Impersonation (client_credentials with user:) has no grant that
        // revoking would end: not a user's authorization to pass on.
        return Err(refused(
            "the subject_token does not come from a user's authorization",
        ));
    }
    if subject.cnf.is_some() && deps.dpop_jkt.is_none() {
        return Err(OAuthError::invalid_dpop_proof(
            "the subject_token is DPoP-bound: send a DPoP proof to bind the new token to your key",
        ));
    }
    let user = match access_token::status(deps.token_checks(), &subject).await? {
        Ok(Some(user)) => user,
        Ok(None) => return Err(refused("the subject_token does not act for a user")),
        Err(_) => return Err(refused("the subject_token has been revoked")),
    };
    let mut entries = match request.scope.as_deref() {
        Some(text) => crate::scope::parse("scope", text)
            .map_err(|e| OAuthError::invalid_scope(e.to_string()))?,
        None => Vec::new(),
    };
    let audience = match request.audience.as_deref() {
        Some(text) => crate::scope::parse("audience", text)
            .map_err(|e| OAuthError::new(ErrorCode::InvalidTarget, e.to_string()))?,
        None => Vec::new(),
    };
    for id in &audience {
        if !entries.contains(id) {
            entries.push(id.clone());
        }
    }
    let requested = Requested::from_entries(entries.clone());
    if requested.services.is_empty() {
        return Err(refused(
            "name the services the new token is for in audience or scope",
        ));
    }
    if !requested.users.is_empty() {
        return Err(OAuthError::invalid_scope(
            "user: scopes are only for the client_credentials grant",
        ));
    }
    if let Some(word) = requested.oidc.iter().find(|w| !subject.has_scope(w)) {
        return Err(OAuthError::invalid_scope(format!(
            "'{word}' is not in the subject_token's scope"
        )));
    }
    scope_rules::require_registered_cached(deps.pool, deps.services, &requested.services)
        .await
        .map_err(|e| OAuthError::new(ErrorCode::InvalidTarget, e.description))?;
    let user_id = user.id.clone();
    let granted = crate::oauth2::run(deps.pool, move |conn| {
        Ok(grants::granted_scope(conn, &user_id)?)
    })
    .await?;
    // The Hub's own API only for a subject token that already reaches it:
    // almost every user has granted the Hub to some client.
    let allowed = |s: &ServiceId| {
        subject.aud.contains(s.as_str())
            || subject.has_scope(s.as_str())
            || (s.as_str() != HUB_SERVICE_ID && granted.contains(s.as_str()))
    };
    if let Some(never) = requested.services.iter().find(|s| !allowed(s)) {
        return Err(OAuthError::new(
            ErrorCode::InvalidTarget,
            format!("the user has not allowed access to '{never}'"),
        ));
    }
    if subject
        .act
        .as_ref()
        .is_some_and(|act| act.depth() >= MAX_ACTING_PARTIES)
    {
        return Err(OAuthError::invalid_request(format!(
            "at most {MAX_ACTING_PARTIES} services may act in a chain of exchanges"
        )));
    }
    let act = ActingParty {
        sub: caller.clone(),
        act: subject.act.clone().map(Box::new),
    };
    Ok(Issued {
        client_id: caller,
        grantable: Grantable {
            subject: user.id.clone(),
            audience: requested
                .services
                .iter()
                .map(|s| ServiceId::new(s.as_str()))
                .collect(),
            scope: entries,
            grant_id: subject.gid.clone(),
            act: Some(act),
            not_after: Some(subject.exp),
            ..Grantable::default()
        },
        refresh_token: None,
        id_token: None,
    })
}
