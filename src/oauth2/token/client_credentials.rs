//! `client_credentials`: a trusted service acting as itself, or, with
//! `impersonation` on, as a user named by a `user:<id|login>` scope. With the
//! services cached this path reads nothing from the database (hot path).
use serde::Deserialize;

use super::context::GrantDeps;
use super::issued::Issued;
use crate::oauth2::access_token::Grantable;
use crate::oauth2::client_auth::{self, PresentedClient};
use crate::oauth2::error::OAuthError;
use crate::oauth2::scope_rules;
use crate::scope::Requested;
use crate::users::repo as users_repo;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ClientCredentialsRequest {
    pub scope: Option<String>,
}

pub async fn grant(
    deps: &GrantDeps<'_>,
    presented: PresentedClient,
    request: ClientCredentialsRequest,
) -> Result<Issued, OAuthError> {
    let client = client_auth::authenticate_cached(deps.pool, deps.services, &presented).await?;
    let service = &client.service;
    if !client.confidential {
        return Err(OAuthError::unauthorized_client(
            "public clients cannot use client_credentials",
        ));
    }
    if !service.trusted {
        return Err(OAuthError::unauthorized_client(
            "only trusted services may use client_credentials",
        ));
    }
    if !service.client_credentials_flow_enabled {
        return Err(OAuthError::unauthorized_client(
            "client_credentials is turned off for this service",
        ));
    }
    let entries = scope_rules::parse(request.scope.as_deref())?;
    let requested = Requested::from_entries(entries.clone());
    if !requested.oidc.is_empty() {
        return Err(OAuthError::invalid_scope(
            "OpenID Connect scopes need a user; client_credentials has none",
        ));
    }
    scope_rules::require_registered_cached(deps.pool, deps.services, &requested.services).await?;
    let subject = match requested.users.as_slice() {
        [] => service.id.clone(),
        [_] if !service.impersonation => {
            return Err(OAuthError::invalid_scope(
                "this service may not act as users (impersonation is off)",
            ));
        }
        [who] => {
            let who = who.clone();
            let user = crate::oauth2::run(deps.pool, move |conn| {
                Ok(users_repo::find_by_identifier(conn, &who)?)
            })
            .await?;
            user.filter(|u| !u.banned && !u.guest)
                .ok_or_else(|| OAuthError::invalid_scope("the user: scope names no active user"))?
                .id
        }
        _ => return Err(OAuthError::invalid_scope("at most one user: scope")),
    };
    Ok(Issued {
        client_id: service.id.clone(),
        grantable: Grantable {
            subject,
            audience: scope_rules::audience(&requested, &service.id),
            scope: entries,
            grant_id: None,
            ..Grantable::default()
        },
        refresh_token: None,
        id_token: None,
    })
}
