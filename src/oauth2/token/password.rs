//! `password`: a confidential service trading a user's credentials for tokens.
//! The credentials are checked by the same sign-in rule, lockout included, as
//! the sign-in page; failures also count against the client.

use chrono::NaiveDateTime;
use serde::Deserialize;

use super::context::GrantDeps;
use super::issued::{IdTokenRequest, Issued};
use crate::oauth2::access_token::{Grantable, SignedIn};
use crate::oauth2::client_auth::PresentedClient;
use crate::oauth2::error::OAuthError;
use crate::oauth2::{grants, refresh_tokens, scope_rules};
use crate::scope::{OFFLINE_ACCESS, OPENID};
use crate::sessions::lockout::Source;

/// A password grant's sign-in method: the password alone.
const PASSWORD_ONLY: &str = crate::oidc::id_token::PWD;
use crate::sessions::sign_in::{self, Attempt, Outcome, Via};

const WRONG_CREDENTIALS: &str = "wrong username or password";
const LOCKED: &str = "too many failed attempts; try again later";

// No `Debug`: it holds a password.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct PasswordRequest {
    pub username: String,
    pub password: String,
    pub scope: Option<String>,
    /// Hub's way to ask for a refresh token (`offline_access` works too).
    pub access_type: Option<String>,
}

pub async fn grant(
    deps: &GrantDeps<'_>,
    presented: PresentedClient,
    request: PasswordRequest,
    now: NaiveDateTime,
) -> Result<Issued, OAuthError> {
    let PasswordRequest {
        username,
        password,
        scope,
        access_type,
    } = request;
    let grant_enabled = deps.policy.password_grant_enabled;
    let (service, entries, requested) = deps
        .run_for_client(presented, move |conn, _, client| {
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
            let (entries, requested) = scope_rules::for_user(&client.service, scope.as_deref())?;
            scope_rules::registered_names(conn, &requested.services)?;
            Ok((client.service, entries, requested))
        })
        .await?;

    let attempt = Attempt {
        identifier: username,
        password,
        source: Source::Client(service.id.clone()),
        origin: deps.origin.clone(),
        via: Via::PasswordGrant(service.id.clone()),
        device: None,
        policy: deps.second_factor_policy,
    };
    let user = match sign_in::check(
        deps.pool,
        deps.hasher,
        deps.lockout,
        deps.audit,
        attempt,
        now,
    )
    .await?
    {
        Outcome::Verified(user, _) => user,
        Outcome::SecondFactorNeeded(..) | Outcome::EnrolFirst(..) => {
            return Err(OAuthError::invalid_grant(
                "this user signs in with a second factor, which the password grant cannot ask for: use the authorization code flow",
            ))
        }
        Outcome::WrongCredentials => return Err(OAuthError::invalid_grant(WRONG_CREDENTIALS)),
        Outcome::Locked => return Err(OAuthError::invalid_grant(LOCKED)),
    };
    if user.banned {
        return Err(OAuthError::invalid_grant("the user is banned"));
    }

    let offline = access_type.as_deref() == Some("offline") || requested.has(OFFLINE_ACCESS);
    let refresh_ttl = deps.policy.refresh_token_ttl;
    crate::oauth2::run(deps.pool, move |conn| {
        let scope_text = crate::scope::join(&entries);
        let grant = grants::create(
            conn,
            &service.id,
            Some(&user.id),
            &scope_text,
            grants::SignIn {
                sid: None,
                amr: Some(PASSWORD_ONLY),
                auth_time: Some(now),
            },
            now,
        )?;
        let refresh_token = match offline {
            true => Some(refresh_tokens::issue(
                conn,
                &grant.id,
                &scope_text,
                None,
                refresh_ttl,
                now,
            )?),
            false => None,
        };
        let id_token = requested.has(OPENID).then(|| IdTokenRequest {
            sid: None,
            groups: None,
            amr: Some(PASSWORD_ONLY.to_owned()),
            user: user.clone(),
            auth_time: now,
            nonce: None,
        });
        Ok(Issued {
            client_id: service.id.clone(),
            id_token,
            grantable: Grantable {
                subject: user.id,
                audience: scope_rules::audience(&requested, &service.id),
                scope: entries,
                grant_id: Some(grant.id),
                signed_in: SignedIn::of(now, Some(PASSWORD_ONLY)),
                ..Grantable::default()
            },
            refresh_token,
        })
    })
    .await
}
