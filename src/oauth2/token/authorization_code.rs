//! `authorization_code`: exchange a code for tokens, once. The code must come
//! from this client, with the same redirect URI and the PKCE verifier of its
//! challenge; a replayed code revokes everything issued from it.
use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};
use diesel::Connection;

use super::{IdTokenRequest, Issued};
use crate::db::DbConn;
use crate::oauth2::access_token::Grantable;
use crate::oauth2::client_auth::{self, PresentedClient};
use crate::oauth2::codes::{self, Redeemed};
use crate::oauth2::error::OAuthError;
use crate::oauth2::form::OAuthForm;
use crate::oauth2::{pkce, refresh_tokens, scope};
use crate::registry::cache::ServiceCache;
use crate::scopes::{Requested, OFFLINE_ACCESS, OPENID};
use crate::startup::AppState;
use crate::users::repo as users_repo;

struct Exchange {
    code: String,
    redirect_uri: String,
    verifier: Option<String>,
}

pub async fn grant(
    state: &AppState,
    presented: Option<PresentedClient>,
    form: &OAuthForm,
    now: NaiveDateTime,
) -> Result<Issued, OAuthError> {
    let presented = client_auth::require_client(presented)?;
    let exchange = Exchange {
        code: form.require("code")?.to_owned(),
        redirect_uri: form.require("redirect_uri")?.to_owned(),
        verifier: form.get("code_verifier").map(str::to_owned),
    };
    let ttl = Duration::seconds(state.settings.refresh_token_ttl_secs);
    let services = Arc::clone(&state.services);
    crate::oauth2::run(&state.pool, move |conn| {
        redeem(conn, &services, &presented, &exchange, ttl, now)
    })
    .await
}

fn redeem(
    conn: &mut DbConn,
    services: &ServiceCache,
    presented: &PresentedClient,
    exchange: &Exchange,
    ttl: Duration,
    now: NaiveDateTime,
) -> Result<Issued, OAuthError> {
    let client = client_auth::authenticate(conn, services, presented)?;
    let (code, grant) = codes::find(conn, &exchange.code)?
        .ok_or_else(|| OAuthError::invalid_grant("unknown authorization code"))?;
    if grant.service_id != client.service.id {
        return Err(OAuthError::invalid_grant(
            "the code was issued to another client",
        ));
    }
    if code.used_at.is_some() {
        // A second use is a replay, whatever else it gets right or wrong.
        conn.transaction(|conn| codes::redeem(conn, &code, now))?;
        return Err(OAuthError::invalid_grant(
            "the code was already used; its tokens are revoked",
        ));
    }
    if code.redirect_uri != exchange.redirect_uri {
        return Err(OAuthError::invalid_grant(
            "redirect_uri differs from the authorization request",
        ));
    }
    match (&code.code_challenge, &exchange.verifier) {
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
    let user_id = grant
        .user_id
        .clone()
        .ok_or_else(|| OAuthError::invalid_grant("the code has no user"))?;
    let user = match users_repo::find(conn, &user_id) {
        Ok(user) if !user.banned => user,
        _ => return Err(OAuthError::invalid_grant("the user is banned or gone")),
    };
    let entries: Vec<String> = code.scope.split_whitespace().map(str::to_owned).collect();
    let requested = Requested::from_entries(entries.clone());
    let offline = code.offline || requested.has(OFFLINE_ACCESS);
    // Commit a replay's revocation even though the exchange fails.
    let outcome = conn.transaction(|conn| {
        Ok::<_, OAuthError>(match codes::redeem(conn, &code, now)? {
            Redeemed::Won if grant.revoked_at.is_some() => {
                Err(OAuthError::invalid_grant("the grant has been revoked"))
            }
            Redeemed::Won if offline => Ok(Some(refresh_tokens::issue(
                conn,
                &grant.id,
                &code.scope,
                ttl,
                now,
            )?)),
            Redeemed::Won => Ok(None),
            Redeemed::Replayed => Err(OAuthError::invalid_grant(
                "the code was already used; its tokens are revoked",
            )),
            Redeemed::Expired => Err(OAuthError::invalid_grant("the code has expired")),
        })
    })?;
    let refresh_token = outcome?;
    let id_token = requested.has(OPENID).then(|| IdTokenRequest {
        user: user.clone(),
        auth_time: code.auth_time,
        nonce: code.nonce.clone(),
    });
    Ok(Issued {
        client_id: client.service.id.clone(),
        grantable: Grantable {
            subject: user.id,
            audience: scope::audience(&requested, &client.service.id),
            scope: entries,
            grant_id: Some(grant.id),
        },
        refresh_token,
        id_token,
    })
}
