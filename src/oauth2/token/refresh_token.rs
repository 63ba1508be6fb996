//! `refresh_token`: rotate the presented token and issue new tokens, with the
//! same or a narrower scope. Reuse of a used token revokes the whole grant.
use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};
use diesel::Connection;

use super::{IdTokenRequest, Issued};
use crate::db::DbConn;
use crate::oauth2::access_token::Grantable;
use crate::oauth2::client_auth::{self, PresentedClient};
use crate::oauth2::error::OAuthError;
use crate::oauth2::form::OAuthForm;
use crate::oauth2::refresh_tokens::{self, Consumed};
use crate::oauth2::scope;
use crate::registry::cache::ServiceCache;
use crate::scopes::{Requested, OPENID};
use crate::startup::AppState;
use crate::users::repo as users_repo;

pub async fn grant(
    state: &AppState,
    presented: Option<PresentedClient>,
    form: &OAuthForm,
    now: NaiveDateTime,
) -> Result<Issued, OAuthError> {
    let presented = client_auth::require_client(presented)?;
    let token = form.require("refresh_token")?.to_owned();
    let scope_text = form.get("scope").map(str::to_owned);
    let ttl = Duration::seconds(state.settings.refresh_token_ttl_secs);
    let services = Arc::clone(&state.services);
    crate::oauth2::run(&state.pool, move |conn| {
        rotate(
            conn,
            &services,
            &presented,
            &token,
            scope_text.as_deref(),
            ttl,
            now,
        )
    })
    .await
}

fn rotate(
    conn: &mut DbConn,
    services: &ServiceCache,
    presented: &PresentedClient,
    plain: &str,
    scope_text: Option<&str>,
    ttl: Duration,
    now: NaiveDateTime,
) -> Result<Issued, OAuthError> {
    let client = client_auth::authenticate(conn, services, presented)?;
    let (token, grant) = refresh_tokens::find(conn, plain)?
        .ok_or_else(|| OAuthError::invalid_grant("unknown refresh token"))?;
    // A token of another client is refused without being consumed.
    if grant.service_id != client.service.id {
        return Err(OAuthError::invalid_grant(
            "the refresh token was issued to another client",
        ));
    }
    if grant.revoked_at.is_some() {
        return Err(OAuthError::invalid_grant("the grant has been revoked"));
    }
    let granted: Vec<String> = token.scope.split_whitespace().map(str::to_owned).collect();
    let entries = match scope_text {
        None => granted.clone(),
        Some(text) => {
            let asked = scope::parse(Some(text))?;
            if let Some(extra) = asked.iter().find(|s| !granted.contains(s)) {
                return Err(OAuthError::invalid_scope(format!(
                    "'{extra}' was not granted; scope may only narrow"
                )));
            }
            asked
        }
    };
    let user_id = grant.user_id.clone();
    if let Some(user_id) = &user_id {
        match users_repo::find(conn, user_id) {
            Ok(user) if !user.banned => {}
            _ => return Err(OAuthError::invalid_grant("the user is banned or gone")),
        }
    }
    // Commit the consumption even when it ends in a refusal: a replay must stay revoked.
    let outcome = conn.transaction(|conn| {
        Ok::<_, OAuthError>(match refresh_tokens::consume(conn, &token, now)? {
            Consumed::Won => Ok(refresh_tokens::issue(
                conn,
                &grant.id,
                &token.scope,
                ttl,
                now,
            )?),
            Consumed::Replayed => Err(OAuthError::invalid_grant(
                "the refresh token was already used; its grant is revoked",
            )),
            Consumed::Expired => Err(OAuthError::invalid_grant("the refresh token has expired")),
        })
    })?;
    let new_refresh_token = outcome?;
    let requested = Requested::from_entries(entries.clone());
    let id_token = match (&grant.user_id, requested.has(OPENID)) {
        (Some(user_id), true) => Some(IdTokenRequest {
            user: users_repo::find(conn, user_id)?,
            // The grant was made when the user signed in.
            auth_time: grant.created,
            nonce: None,
        }),
        _ => None,
    };
    Ok(Issued {
        id_token,
        client_id: client.service.id.clone(),
        grantable: Grantable {
            subject: user_id.unwrap_or_else(|| client.service.id.clone()),
            audience: scope::audience(&requested, &client.service.id),
            scope: entries,
            grant_id: Some(grant.id),
        },
        refresh_token: Some(new_refresh_token),
    })
}
