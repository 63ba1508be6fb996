//! `refresh_token`: rotate the presented token and issue new tokens, with the
//! same or a narrower scope. Reuse of a used token revokes the whole grant.
use chrono::{Duration, NaiveDateTime};
use serde::Deserialize;

use super::context::{GrantCaches, GrantDeps};
use super::issued::{IdTokenRequest, Issued};
use crate::audit::{self, Kind};
use crate::db::DbConn;
use crate::oauth2::access_token::{Grantable, SignedIn};
use crate::oauth2::client_auth::{Client, PresentedClient};
use crate::oauth2::error::OAuthError;
use crate::oauth2::refresh_tokens::{self, Outcome, Refusal, RotationRequest};
use crate::oauth2::{grants, scope_rules};
use crate::scope::{Requested, StoredScope, OPENID};

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
    // A malformed scope is refused before the token is looked at; whether
    // the scope only narrows is judged with the token, before it is used.
    let asked = request
        .scope
        .as_deref()
        .map(|text| scope_rules::parse(Some(text)))
        .transpose()?;
    let rotation = refresh_tokens::rotate(
        conn,
        caches.users,
        &RotationRequest {
            plain: &request.refresh_token,
            client_id: &client.service.id,
            dpop_jkt: caches.dpop_jkt,
            narrowed_to: asked.as_deref(),
            // A bound token stays bound to its key; a public client's token is
            // bound to the key of its first proof (RFC 9449 §5).
            bind_unbound_to: caches.dpop_jkt.filter(|_| !client.confidential),
            refused_service: scope_rules::refused_service(&client.service),
            ttl,
            now,
        },
    )?
    .ok_or_else(|| OAuthError::invalid_grant("unknown refresh token"))?;
    let grant = rotation.grant;
    let new_refresh_token = match rotation.outcome {
        Outcome::Rotated(successor) => successor,
        Outcome::Refused(refusal) => return Err(refused(refusal)),
        Outcome::Replayed => {
            // The revocation and its audit event are committed together.
            crate::db::transaction(conn, |conn| {
                grants::revoke(conn, caches.revoked, &grant.id, now)?;
                let event = grants::replay_event(Kind::RefreshTokenReused, &grant, caches.origin);
                audit::store::record(conn, &event, now)
            })?;
            return Err(OAuthError::invalid_grant(
                "the refresh token was already used; its grant is revoked",
            ));
        }
        Outcome::Expired => return Err(OAuthError::invalid_grant("the refresh token has expired")),
    };
    let entries = asked.unwrap_or_else(|| StoredScope(&rotation.token.scope).to_vec());
    let requested = Requested::from_entries(entries.clone());
    let user_id = grant.user_id.clone();
    // The rotation refused a banned or deleted user.
    let id_token = match (rotation.user, requested.has(OPENID)) {
        (Some(user), true) => Some(IdTokenRequest {
            user,
            // When the user signed in for the grant (grants made before
            // that was kept: when the grant was made).
            auth_time: grant.auth_time.unwrap_or(grant.created),
            nonce: None,
            sid: grant.sid.clone(),
            groups: None,
            amr: grant.amr.clone(),
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
            signed_in: SignedIn::of(
                grant.auth_time.unwrap_or(grant.created),
                grant.amr.as_deref(),
            ),
            grant_id: Some(grant.id),
            ..Grantable::default()
        },
        refresh_token: Some(new_refresh_token),
    })
}

/// The answer to a request that may not use the token it presents.
fn refused(refusal: Refusal) -> OAuthError {
    match refusal {
        // A token of another client is refused without being consumed.
        Refusal::OtherClient => {
            OAuthError::invalid_grant("the refresh token was issued to another client")
        }
        Refusal::GrantRevoked => OAuthError::invalid_grant("the grant has been revoked"),
        Refusal::OtherKey => OAuthError::invalid_grant(
            "the refresh token is bound to a DPoP key; send a proof signed with it",
        ),
        Refusal::ScopeWidened(extra) => {
            OAuthError::invalid_scope(format!("'{extra}' was not granted; scope may only narrow"))
        }
        Refusal::ServiceRefused(service) => scope_rules::refusal_of(&service),
        Refusal::UserGone => OAuthError::invalid_grant("the user is banned or gone"),
        Refusal::NotAdmitted => {
            OAuthError::invalid_grant("the refresh token cannot be used for this request")
        }
    }
}
