//! `client_credentials`: a trusted service acting as itself, or, with
//! `impersonation` on, as a user named by a `user:<id|login>` scope. With the
//! services cached this path reads nothing from the database (hot path).
use chrono::NaiveDateTime;

use super::Issued;
use crate::oauth2::access_token::Grantable;
use crate::oauth2::client_auth::{self, PresentedClient};
use crate::oauth2::error::OAuthError;
use crate::oauth2::form::OAuthForm;
use crate::oauth2::scope;
use crate::scopes::Requested;
use crate::startup::AppState;
use crate::users::repo as users_repo;

pub async fn grant(
    state: &AppState,
    presented: Option<PresentedClient>,
    form: &OAuthForm,
    _now: NaiveDateTime,
) -> Result<Issued, OAuthError> {
    let presented = client_auth::require_client(presented)?;
    let client = client_auth::authenticate_cached(state, &presented).await?;
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
    let entries = scope::parse(form.get("scope"))?;
    let requested = Requested::from_entries(entries.clone());
    if !requested.oidc.is_empty() {
        return Err(OAuthError::invalid_scope(
            "OpenID Connect scopes need a user; client_credentials has none",
        ));
    }
    scope::require_registered_cached(state, &requested.services).await?;
    let subject = match requested.users.as_slice() {
        [] => service.id.clone(),
        [_] if !service.impersonation => {
            return Err(OAuthError::invalid_scope(
                "this service may not act as users (impersonation is off)",
            ));
        }
        [who] => {
            let who = who.clone();
            let user = crate::oauth2::run(&state.pool, move |conn| {
                Ok(users_repo::find_by_identifier(conn, &who)?)
            })
            .await?;
            user.filter(|u| !u.banned && !u.guest)
                .ok_or_else(|| OAuthError::invalid_scope("the user: scope names no active user"))?
                .id
        }
        _ => return Err(OAuthError::invalid_scope("at most one user: scope")),
    };
    let audience = if requested.services.is_empty() {
        vec![service.id.clone()]
    } else {
        requested.services
    };
    Ok(Issued {
        client_id: service.id.clone(),
        grantable: Grantable {
            subject,
            audience,
            scope: entries,
            grant_id: None,
        },
        refresh_token: None,
        id_token: None,
    })
}
