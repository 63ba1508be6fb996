//! `password`: a confidential service trading a user's credentials for tokens.
//! Argon2 runs on the blocking pool between two short database steps, so no
//! connection is held while hashing.
use std::sync::Arc;

use actix_web::web;
use chrono::{Duration, NaiveDateTime};

use super::{IdTokenRequest, Issued};
use crate::oauth2::access_token::Grantable;
use crate::oauth2::client_auth::{self, PresentedClient};
use crate::oauth2::error::OAuthError;
use crate::oauth2::form::OAuthForm;
use crate::oauth2::throttle::{self, Limits};
use crate::oauth2::{grants, refresh_tokens, scope};
use crate::registry::model::Service;
use crate::scopes::{Requested, OFFLINE_ACCESS, OPENID};
use crate::startup::AppState;
use crate::users::model::User;
use crate::users::repo as users_repo;

const WRONG_CREDENTIALS: &str = "wrong username or password";
const LOCKED: &str = "too many failed attempts; try again later";

struct Checked {
    service: Arc<Service>,
    user: Option<User>,
    entries: Vec<String>,
    requested: Requested,
}

pub async fn grant(
    state: &web::Data<AppState>,
    presented: Option<PresentedClient>,
    form: &OAuthForm,
    now: NaiveDateTime,
) -> Result<Issued, OAuthError> {
    let presented = client_auth::require_client(presented)?;
    let username = form.require("username")?.to_owned();
    let plain = form.require("password")?.to_owned();
    let scope_text = form.get("scope").map(str::to_owned);
    let offline_by_hub = form.get("access_type") == Some("offline");
    let grant_enabled = state.settings.password_grant_enabled;
    let user_limits = Limits::for_users(&state.settings);
    let client_limits = Limits::for_clients(&state.settings);

    let services = Arc::clone(&state.services);
    let checked = crate::oauth2::run(&state.pool, move |conn| {
        let client = client_auth::authenticate(conn, &services, &presented)?;
        if !client.confidential {
            return Err(OAuthError::unauthorized_client(
                "public clients cannot use the password grant",
            ));
        }
        if !grant_enabled || !client.service.password_flow_enabled {
            return Err(OAuthError::unauthorized_client(
                "the password grant is turned off for this service",
            ));
        }
        let (entries, requested) = scope::for_user(conn, scope_text.as_deref())?;
        if throttle::is_locked(conn, &throttle::client_subject(&client.service.id), now)? {
            return Err(OAuthError::invalid_grant(LOCKED));
        }
        let user = users_repo::find_by_identifier(conn, &username)?.filter(|u| !u.guest);
        if let Some(user) = &user {
            if throttle::is_locked(conn, &throttle::user_subject(&user.id), now)? {
                return Err(OAuthError::invalid_grant(LOCKED));
            }
        }
        Ok(Checked {
            service: client.service,
            user,
            entries,
            requested,
        })
    })
    .await?;

    let stored_hash = checked.user.as_ref().and_then(|u| u.password_hash.clone());
    let verified = state
        .hasher
        .run(move |hasher| hasher.check(&plain, stored_hash.as_deref()))
        .await?;

    let refresh_ttl = Duration::seconds(state.settings.refresh_token_ttl_secs);
    crate::oauth2::run(&state.pool, move |conn| {
        let Checked {
            service,
            user,
            entries,
            requested,
        } = checked;
        let user = match user {
            Some(user) if verified => user,
            other => {
                if let Some(user) = other {
                    throttle::record_failure(
                        conn,
                        &throttle::user_subject(&user.id),
                        user_limits,
                        now,
                    )?;
                }
                throttle::record_failure(
                    conn,
                    &throttle::client_subject(&service.id),
                    client_limits,
                    now,
                )?;
                return Err(OAuthError::invalid_grant(WRONG_CREDENTIALS));
            }
        };
        if user.banned {
            return Err(OAuthError::invalid_grant("the user is banned"));
        }
        throttle::clear(conn, &throttle::user_subject(&user.id))?;
        let scope_string = crate::scopes::join(&entries);
        let grant = grants::create(conn, &service.id, Some(&user.id), &scope_string, now)?;
        let offline = offline_by_hub || requested.has(OFFLINE_ACCESS);
        let refresh_token = if offline {
            Some(refresh_tokens::issue(
                conn,
                &grant.id,
                &scope_string,
                refresh_ttl,
                now,
            )?)
        } else {
            None
        };
        let id_token = requested.has(OPENID).then(|| IdTokenRequest {
            user: user.clone(),
            auth_time: now,
            nonce: None,
        });
        Ok(Issued {
            client_id: service.id.clone(),
            id_token,
            grantable: Grantable {
                subject: user.id,
                audience: scope::audience(&requested, &service.id),
                scope: entries,
                grant_id: Some(grant.id),
            },
            refresh_token,
        })
    })
    .await
}
