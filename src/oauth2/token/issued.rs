//! What a grant decided to issue, and its signing into the RFC 6749 §5.1
//! response.
use chrono::NaiveDateTime;
use serde::Serialize;

use crate::audit::{Actor, Event, Kind, Origin};
use crate::oauth2::access_token::{self, Grantable};
use crate::oauth2::error::OAuthError;
use crate::oidc::id_token::{self, IdTokenFor};
use crate::oidc::keystore::KeySet;
use crate::users::model::User;

/// What a grant decided: the token to sign, a refresh token if one was issued,
/// and an ID token to sign when the scope has `openid` and a user signed in.
#[derive(Debug)]
pub struct Issued {
    pub client_id: String,
    pub grantable: Grantable,
    pub refresh_token: Option<String>,
    pub id_token: Option<IdTokenRequest>,
}

#[derive(Debug)]
pub struct IdTokenRequest {
    pub user: User,
    pub auth_time: NaiveDateTime,
    pub nonce: Option<String>,
    /// The session that signed in, from the grant.
    pub sid: Option<String>,
    /// The `groups` claim, filled in by the endpoint when the scope asks.
    pub groups: Option<Vec<String>>,
    /// How the user signed in (`amr` values, space-separated), if known.
    pub amr: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// `DPoP` when the token is bound to a key, else `Bearer`.
    pub token_type: &'static str,
    /// Token exchange only (RFC 8693 §2.2.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<&'static str>,
    pub expires_in: i64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

impl Issued {
    /// The user the token acts for; none when the client acts for itself.
    pub fn user_id(&self) -> Option<&str> {
        (self.grantable.subject != self.client_id).then_some(self.grantable.subject.as_str())
    }

    /// The audit event of this issue: who got what, never the token.
    pub fn audit_event(&self, grant_type: &str, origin: Origin) -> Event {
        let user = self.user_id();
        let actor = match user {
            Some(user) => Actor::User(user.to_owned()),
            None => Actor::Service(self.client_id.clone()),
        };
        let event = Event::new(Kind::TokenIssued, actor, origin)
            .service(&self.client_id)
            .detail("grantType", grant_type)
            .detail("scope", crate::scope::join(&self.grantable.scope))
            .detail("refreshToken", self.refresh_token.is_some());
        match user {
            Some(user) => event.user(user),
            None => event,
        }
    }
}

/// Signs what a grant decided into the §5.1 response.
pub fn sign(
    keys: &KeySet,
    issuer: &str,
    issued: Issued,
    ttl_secs: i64,
    now: NaiveDateTime,
) -> Result<TokenResponse, OAuthError> {
    let access_token = access_token::sign(
        keys,
        issuer,
        &issued.client_id,
        &issued.grantable,
        ttl_secs,
        now,
    )?;
    let id_token = match &issued.id_token {
        Some(request) => {
            let subject = IdTokenFor {
                user: &request.user,
                client_id: &issued.client_id,
                scope: &issued.grantable.scope,
                auth_time: request.auth_time,
                nonce: request.nonce.as_deref(),
                access_token: Some(&access_token),
                code: None,
                sid: request.sid.as_deref(),
                groups: request.groups.clone(),
                amr: request.amr.as_deref(),
            };
            Some(id_token::sign(keys, issuer, subject, ttl_secs, now)?)
        }
        None => None,
    };
    let iat = now.and_utc().timestamp();
    let expires_in =
        access_token::expiry(iat, ttl_secs, issued.grantable.not_after).saturating_sub(iat);
    Ok(TokenResponse {
        access_token,
        token_type: match issued.grantable.jkt {
            Some(_) => "DPoP",
            None => "Bearer",
        },
        issued_token_type: issued
            .grantable
            .act
            .as_ref()
            .map(|_| crate::grant_types::ACCESS_TOKEN_TYPE),
        expires_in,
        scope: crate::scope::join(&issued.grantable.scope),
        refresh_token: issued.refresh_token,
        id_token,
    })
}
