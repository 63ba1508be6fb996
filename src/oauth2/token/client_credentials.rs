//! `client_credentials`: a trusted service acting as itself, or, with
//! `impersonation` on, as a user named by a `user:<id|login>` scope.
use chrono::NaiveDateTime;

use super::Issued;
use crate::db::DbConn;
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
    let scope = form.get("scope").map(str::to_owned);
    crate::oauth2::run(&state.pool, move |conn| {
        decide(conn, &presented, scope.as_deref())
    })
    .await
}

fn decide(
    conn: &mut DbConn,
    presented: &PresentedClient,
    scope_text: Option<&str>,
) -> Result<Issued, OAuthError> {
    let client = client_auth::authenticate(conn, presented)?;
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
    let entries = scope::parse(scope_text)?;
    let requested = Requested::from_entries(entries.clone());
    if !requested.oidc.is_empty() {
        return Err(OAuthError::invalid_scope(
            "OpenID Connect scopes need a user; client_credentials has none",
        ));
    }
    scope::require_registered(conn, &requested.services)?;
    let subject = match requested.users.as_slice() {
        [] => service.id.clone(),
        [_] if !service.impersonation => {
            return Err(OAuthError::invalid_scope(
                "this service may not act as users (impersonation is off)",
            ));
        }
        [who] => {
            let user = users_repo::find_by_identifier(conn, who)?
                .filter(|u| !u.banned && !u.guest)
                .ok_or_else(|| OAuthError::invalid_scope("the user: scope names no active user"))?;
            user.id
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
