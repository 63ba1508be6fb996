//! Who is calling the REST API: a bearer token turned into a principal.
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};

use crate::audit::{Caller, Origin};
use crate::db;
use crate::error::AppError;
use crate::oauth2::access_token;
use crate::oauth2::dpop::Sent;
use crate::registry::model::{Service, HUB_SERVICE_ID};
use crate::rest::dpop;
use crate::state::AppState;
use crate::users::model::{User, GUEST_LOGIN};
use crate::users::{permanent_tokens as tokens, repo as users_repo};

/// A caller of idhub's own REST API: a user acting through a token whose scope
/// includes the Hub service, or the guest when it is enabled and no token is sent.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: User,
    pub scope: Vec<String>,
    /// Where the request came from, for the audit trail.
    pub origin: Origin,
}

impl Principal {
    /// The caller as the audit trail records it.
    pub fn caller(&self) -> Caller {
        Caller::user(&self.user.id, self.origin.clone())
    }

    pub fn is_admin(&self) -> bool {
        self.user.is_admin()
    }

    pub fn require_admin(&self) -> Result<(), AppError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(AppError::Forbidden("this needs an administrator".into()))
        }
    }

    /// For `/users/{id}/…/{item}` paths: the user acted on, and the item.
    pub fn resolve_user_item(&self, path: (String, String)) -> Result<(String, String), AppError> {
        let (user_path, item) = path;
        Ok((self.resolve_user_id(&user_path)?, item))
    }

    /// `me` or the caller's own id act on the caller; anything else needs an admin.
    pub fn resolve_user_id(&self, path_id: &str) -> Result<String, AppError> {
        if path_id == "me" || path_id == self.user.id {
            return Ok(self.user.id.clone());
        }
        self.require_admin()?;
        Ok(path_id.to_owned())
    }
}

/// A service acting for itself, with its client-credentials token for the Hub.
#[derive(Debug, Clone)]
pub struct ServicePrincipal {
    pub service: Arc<Service>,
    pub origin: Origin,
}

impl ServicePrincipal {
    pub fn caller(&self) -> Caller {
        Caller::service(&self.service.id, self.origin.clone())
    }
}

/// A caller of the resources that services use too (their permissions,
/// the permission cache): a user, or a service acting for itself.
#[derive(Debug, Clone)]
pub enum Bearer {
    User(Principal),
    Service(ServicePrincipal),
}

impl Bearer {
    pub fn caller(&self) -> Caller {
        match self {
            Bearer::User(principal) => principal.caller(),
            Bearer::Service(service) => service.caller(),
        }
    }
}

/// The token in `Authorization: Bearer …`, if the header is present.
pub fn bearer_token(req: &HttpRequest) -> Result<Option<String>, AppError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| AppError::InvalidToken("the Authorization header is not readable".into()))?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    match (scheme.eq_ignore_ascii_case("bearer"), token.trim()) {
        (true, "") => Err(AppError::InvalidToken(
            "the Bearer token in the Authorization header is empty".into(),
        )),
        (true, token) => Ok(Some(token.to_owned())),
        (false, _) => Err(AppError::InvalidToken(
            "expected 'Authorization: Bearer <token>'".into(),
        )),
    }
}

async fn authenticate(req: HttpRequest) -> Result<Bearer, AppError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::internal("application state missing"))?;
    let origin = state.origin(&req);
    Ok(match identify(&req, &state).await? {
        Bearer::User(mut principal) => {
            principal.origin = origin;
            super::request_log::note_user(&req, &principal.user.id);
            Bearer::User(principal)
        }
        Bearer::Service(mut service) => {
            service.origin = origin;
            Bearer::Service(service)
        }
    })
}

async fn identify(req: &HttpRequest, state: &web::Data<AppState>) -> Result<Bearer, AppError> {
    let sent = dpop::sent_token(req).map_err(dpop::refusal)?;
    let now = crate::clock::now();
    if let Some(sent) = sent
        .as_ref()
        .filter(|s| !s.token().starts_with(tokens::PREFIX))
    {
        return authenticate_jwt(state, req, sent).await;
    }
    let token = match sent {
        None => None,
        Some(Sent::Bearer(token)) => Some(token),
        Some(Sent::Dpop { .. }) => {
            return Err(AppError::DpopChallenge {
                code: "invalid_token".into(),
                message: "permanent tokens are not DPoP-bound; send them as Bearer".into(),
                nonce: None,
            })
        }
    };
    let user = db::run(&state.pool, move |conn| match token {
        Some(token) => {
            let (user, stored) = tokens::authenticate(conn, &token, now)?;
            let scope = crate::scope::parse("scope", &stored.scope)?;
            if !scope.iter().any(|s| s == HUB_SERVICE_ID) {
                return Err(AppError::Forbidden(format!(
                    "the token's scope does not include the Hub service {HUB_SERVICE_ID}"
                )));
            }
            Ok(Principal {
                user,
                scope,
                origin: Origin::default(),
            })
        }
        None => match users_repo::find_by_login(conn, GUEST_LOGIN)? {
            Some(guest) if guest.guest && !guest.banned => Ok(Principal {
                user: guest,
                scope: vec![HUB_SERVICE_ID.to_owned()],
                origin: Origin::default(),
            }),
            _ => Err(AppError::MissingCredentials),
        },
    })
    .await?;
    Ok(Bearer::User(user))
}

/// An OAuth access token: valid signature, unexpired, not revoked, for the Hub,
/// acting for a user who is not banned.
async fn authenticate_jwt(
    state: &AppState,
    req: &HttpRequest,
    sent: &Sent,
) -> Result<Bearer, AppError> {
    let keys = state.keys.current(&state.pool).await;
    let claims = state
        .verified
        .verify(&keys, sent.token(), &state.issuer)
        .map_err(|r| match sent {
            Sent::Bearer(_) => AppError::InvalidToken(r.0),
            Sent::Dpop { .. } => AppError::DpopChallenge {
                code: "invalid_token".into(),
                message: r.0,
                nonce: None,
            },
        })?;
    dpop::honour(state, req, &claims, sent)
        .await
        .map_err(dpop::refusal)?;
    if !claims.aud.contains(HUB_SERVICE_ID) {
        return Err(AppError::Forbidden(format!(
            "the token's audience does not include the Hub service {HUB_SERVICE_ID}"
        )));
    }
    match access_token::status(state.token_checks(), &claims).await? {
        Ok(Some(user)) => Ok(Bearer::User(Principal {
            user: User::clone(&user),
            scope: claims.scopes().map(str::to_owned).collect(),
            origin: Origin::default(),
        })),
        Ok(None) => match state.services.get(&state.pool, &claims.client_id).await? {
            Some(service) => Ok(Bearer::Service(ServicePrincipal {
                service,
                origin: Origin::default(),
            })),
            None => Err(AppError::InvalidToken("the token's service is gone".into())),
        },
        Err(_) => Err(AppError::InvalidToken("the token has been revoked".into())),
    }
}

impl FromRequest for Principal {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            match authenticate(req).await? {
                Bearer::User(principal) => Ok(principal),
                Bearer::Service(_) => Err(AppError::Forbidden(
                    "the token acts for a service, not a user".into(),
                )),
            }
        })
    }
}

impl FromRequest for Bearer {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        Box::pin(authenticate(req.clone()))
    }
}
