//! `authorization_code`: exchange a code for tokens, once. The code must come
//! from this client, with the same redirect URI and the PKCE verifier of its
//! challenge; a replayed code revokes everything issued from it.
use chrono::{Duration, NaiveDateTime};
use serde::Deserialize;

use super::context::{GrantCaches, GrantDeps};
use super::issued::{IdTokenRequest, Issued};
use crate::audit::{self, Kind};
use crate::db::DbConn;
use crate::oauth2::access_token::{Grantable, SignedIn};
use crate::oauth2::client_auth::{Client, PresentedClient};
use crate::oauth2::codes;
use crate::oauth2::error::OAuthError;
use crate::oauth2::refresh_tokens::NewRefreshToken;
use crate::oauth2::single_use::SingleUse;
use crate::oauth2::{grants, pkce, scope_rules};
use crate::scope::{Requested, StoredScope, OFFLINE_ACCESS, OPENID};
use crate::users::model::User;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CodeExchange {
    pub code: String,
    pub redirect_uri: String,
    pub code_verifier: Option<String>,
}

pub async fn grant(
    deps: &GrantDeps<'_>,
    presented: PresentedClient,
    exchange: CodeExchange,
    now: NaiveDateTime,
) -> Result<Issued, OAuthError> {
    let ttl = deps.policy.refresh_token_ttl;
    deps.run_for_client(presented, move |conn, caches, client| {
        redeem(conn, caches, &client, &exchange, ttl, now)
    })
    .await
}

fn redeem(
    conn: &mut DbConn,
    caches: GrantCaches<'_>,
    client: &Client,
    exchange: &CodeExchange,
    ttl: Duration,
    now: NaiveDateTime,
) -> Result<Issued, OAuthError> {
    let (code, grant) = codes::find(conn, &exchange.code)?
        .ok_or_else(|| OAuthError::invalid_grant("unknown authorization code"))?;
    if grant.service_id != client.service.id {
        return Err(OAuthError::invalid_grant(
            "the code was issued to another client",
        ));
    }
    if code.used_at.is_some() {
        // A second use is a replay, whatever else it gets right or wrong.
        return Err(replayed(conn, &caches, &grant, now));
    }
    if code.redirect_uri != exchange.redirect_uri {
        return Err(OAuthError::invalid_grant(
            "redirect_uri differs from the authorization request",
        ));
    }
    match (&code.code_challenge, &exchange.code_verifier) {
        (Some(challenge), Some(verifier)) if pkce::verify(verifier, challenge) => {}
        (Some(_), _) => {
            return Err(OAuthError::invalid_grant(
                "the PKCE code_verifier does not match",
            ))
        }
        (None, Some(_)) => {
            return Err(OAuthError::invalid_grant(
                "code_verifier sent for a code without a challenge",
            ))
        }
        (None, None) if !client.confidential => {
            return Err(OAuthError::invalid_grant("public clients must use PKCE"));
        }
        (None, None) => {}
    }
    if code.dpop_jkt.is_some() && code.dpop_jkt.as_deref() != caches.dpop_jkt {
        return Err(OAuthError::invalid_grant(
            "the code is bound to a DPoP key (dpop_jkt); send a proof signed with it",
        ));
    }
    let user_id = grant
        .user_id
        .clone()
        .ok_or_else(|| OAuthError::invalid_grant("the code has no user"))?;
    let user = match caches.users.lookup(conn, &user_id)? {
        Some(user) if !user.banned => User::clone(&user),
        _ => return Err(OAuthError::invalid_grant("the user is banned or gone")),
    };
    let entries = StoredScope(&code.scope).to_vec();
    let requested = Requested::from_entries(entries.clone());
    let offline = code.offline || requested.has(OFFLINE_ACCESS);
    // The refresh token of an offline grant is stored by the statement that
    // uses the code, so neither happens without the other.
    let refresh = (offline && grant.revoked_at.is_none()).then(|| {
        NewRefreshToken::generate(
            &grant.id,
            &code.scope,
            // RFC 9449 §5: a public client's refresh token is bound.
            caches.dpop_jkt.filter(|_| !client.confidential),
            ttl,
            now,
        )
    });
    let refresh_token = match codes::redeem(conn, &code, now, refresh.as_ref())? {
        SingleUse::Won if grant.revoked_at.is_some() => {
            return Err(OAuthError::invalid_grant("the grant has been revoked"))
        }
        SingleUse::Won => refresh.map(|r| r.plain),
        // Another use won the race: a replay all the same.
        SingleUse::Replayed => return Err(replayed(conn, &caches, &grant, now)),
        SingleUse::Expired => return Err(OAuthError::invalid_grant("the code has expired")),
    };
    let id_token = requested.has(OPENID).then(|| IdTokenRequest {
        user: user.clone(),
        auth_time: code.auth_time,
        nonce: code.nonce.clone(),
        sid: grant.sid.clone(),
        groups: None,
        amr: grant.amr.clone(),
    });
    Ok(Issued {
        client_id: client.service.id.clone(),
        grantable: Grantable {
            subject: user.id,
            audience: scope_rules::audience(&requested, &client.service.id),
            scope: entries,
            signed_in: SignedIn::of(code.auth_time, grant.amr.as_deref()),
            grant_id: Some(grant.id),
            ..Grantable::default()
        },
        refresh_token,
        id_token,
    })
}

/// Revokes the grant of a code used twice and records it, together; the
/// answer to the replay.
fn replayed(
    conn: &mut DbConn,
    caches: &GrantCaches<'_>,
    grant: &grants::Grant,
    now: NaiveDateTime,
) -> OAuthError {
    let revoked = crate::db::transaction(conn, |conn| {
        grants::revoke(conn, caches.revoked, &grant.id, now)?;
        let event = grants::replay_event(Kind::CodeReplayed, grant, caches.origin);
        audit::store::record(conn, &event, now)
    });
    match revoked {
        Ok(()) => OAuthError::invalid_grant("the code was already used; its tokens are revoked"),
        Err(error) => error.into(),
    }
}
