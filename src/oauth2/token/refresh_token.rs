//! `refresh_token`: rotate the presented token and issue new tokens, with the
//! same or a narrower scope. Reuse of a used token revokes the whole grant.
use chrono::{Duration, NaiveDateTime};
use serde::Deserialize;

use super::context::{GrantCaches, GrantDeps};
use super::issued::{IdTokenRequest, Issued};
use crate::audit::{self, Kind};
use crate::db::DbConn;
use crate::oauth2::access_token::Grantable;
use crate::oauth2::client_auth::{Client, PresentedClient};
use crate::oauth2::error::OAuthError;
use crate::oauth2::scope_rules;
use crate::oauth2::single_use::SingleUse;
use crate::oauth2::{grants, refresh_tokens};
use crate::scope::{Requested, StoredScope, OPENID};
use crate::users::model::User;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
    pub scope: Option<String>,
}

pub async fn grant(
    deps: &GrantDeps<'_>,
    presented: PresentedClient,
    request: RefreshRequest,
    now: NaiveDateTime,
) -> Result<Issued, OAuthError> {
    let ttl = deps.policy.refresh_token_ttl;
    deps.run_for_client(presented, move |conn, caches, client| {
        rotate(conn, caches, &client, &request, ttl, now)
    })
    .await
}

fn rotate(
    conn: &mut DbConn,
    caches: GrantCaches<'_>,
    client: &Client,
    request: &RefreshRequest,
    ttl: Duration,
    now: NaiveDateTime,
) -> Result<Issued, OAuthError> {
    let (token, grant) = refresh_tokens::find(conn, &request.refresh_token)?
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
    if token.jkt.is_some() && token.jkt.as_deref() != caches.dpop_jkt {
        return Err(OAuthError::invalid_grant(
            "the refresh token is bound to a DPoP key; send a proof signed with it",
        ));
    }
    // A bound token stays bound to its key; a public client's token is
    // bound to the key of its first proof (RFC 9449 §5).
    let binding = token.jkt.clone().or_else(|| {
        caches
            .dpop_jkt
            .filter(|_| !client.confidential)
            .map(str::to_owned)
    });
    let granted = StoredScope(&token.scope).to_vec();
    let entries = match request.scope.as_deref() {
        None => granted.clone(),
        Some(text) => {
            let asked = scope_rules::parse(Some(text))?;
            if let Some(extra) = asked.iter().find(|s| !granted.contains(s)) {
                return Err(OAuthError::invalid_scope(format!(
                    "'{extra}' was not granted; scope may only narrow"
                )));
            }
            asked
        }
    };
    let requested = Requested::from_entries(entries.clone());
    scope_rules::hub_allowed(&client.service, &requested.services)?;
    let user_id = grant.user_id.clone();
    let user = match &user_id {
        Some(user_id) => match caches.users.lookup(conn, user_id)? {
            Some(user) if !user.banned => Some(user),
            _ => return Err(OAuthError::invalid_grant("the user is banned or gone")),
        },
        None => None,
    };
    // Commit the consumption even when it ends in a refusal: a replay must stay revoked.
    let outcome = crate::db::transaction(conn, |conn| {
        Ok::<_, OAuthError>(
            match refresh_tokens::consume(conn, caches.revoked, &token, now)? {
                SingleUse::Won => Ok(refresh_tokens::issue(
                    conn,
                    &grant.id,
                    &token.scope,
                    binding.as_deref(),
                    ttl,
                    now,
                )?),
                SingleUse::Replayed => {
                    let event =
                        grants::replay_event(Kind::RefreshTokenReused, &grant, caches.origin);
                    audit::store::record(conn, &event, now)?;
                    Err(OAuthError::invalid_grant(
                        "the refresh token was already used; its grant is revoked",
                    ))
                }
                SingleUse::Expired => {
                    Err(OAuthError::invalid_grant("the refresh token has expired"))
                }
            },
        )
    })?;
    let new_refresh_token = outcome?;
    let id_token = match (user, requested.has(OPENID)) {
        (Some(user), true) => Some(IdTokenRequest {
            user: User::clone(&user),
            // The grant was made when the user signed in.
            auth_time: grant.created,
            nonce: None,
            sid: grant.sid.clone(),
        }),
        _ => None,
    };
    Ok(Issued {
        id_token,
        client_id: client.service.id.clone(),
        grantable: Grantable {
            subject: user_id.unwrap_or_else(|| client.service.id.clone()),
            audience: scope_rules::audience(&requested, &client.service.id),
            scope: entries,
            grant_id: Some(grant.id),
            ..Grantable::default()
        },
        refresh_token: Some(new_refresh_token),
    })
}
