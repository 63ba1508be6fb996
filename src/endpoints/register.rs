//! `registration_endpoint` (RFC 7591) and client configuration (RFC 7592):
//! thin handlers over `registry::client_metadata` (the checks) and
//! `registry::changes` (the storage, by way of `registry::registrations`).
//! Registering needs an administrator's bearer token unless
//! `OPEN_REGISTRATION` is on; managing a client needs its registration
//! access token.
use std::sync::Arc;

use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};

use crate::audit::Caller;
use crate::db;
use crate::error::AppError;
use crate::oauth2::error::{ErrorCode, OAuthError};
use crate::oidc::discovery::OAUTH_BASE;
use crate::registry::changes;
use crate::registry::client_metadata::{describe, ClientMetadata, Refusal, RegisteredClient};
use crate::registry::open_registration::{self, Allowance, MAX_ANONYMOUS_METADATA_BYTES};
use crate::registry::registrations::{self, Registered};
use crate::registry::repo as services_repo;
use crate::rest::authn::{bearer_token, Principal};
use crate::rest::request_log::note_client;
use crate::rest::strict_json::StrictValue;
use crate::state::AppState;

fn refusal(refused: Refusal) -> OAuthError {
    match refused {
        Refusal::InvalidRedirectUri(why) => OAuthError::new(ErrorCode::InvalidRedirectUri, why),
        Refusal::InvalidClientMetadata(why) => {
            OAuthError::new(ErrorCode::InvalidClientMetadata, why)
        }
    }
}

/// The registry's refusals in RFC 7591's words; the rest as every endpoint
/// answers them.
fn oauth_error(error: AppError) -> OAuthError {
    match error {
        AppError::BadRequest { message, field } | AppError::Conflict { message, field } => {
            match field.as_deref() {
                Some("redirectUris") => OAuthError::new(ErrorCode::InvalidRedirectUri, message),
                _ => OAuthError::new(ErrorCode::InvalidClientMetadata, message),
            }
        }
        AppError::InvalidToken(why) => OAuthError::new(ErrorCode::InvalidToken, why),
        AppError::MissingCredentials => {
            OAuthError::new(ErrorCode::InvalidToken, "a bearer token is required")
        }
        AppError::Forbidden(why) => OAuthError::new(ErrorCode::AccessDenied, why),
        other => other.into(),
    }
}

fn metadata(body: &[u8]) -> Result<ClientMetadata, OAuthError> {
    serde_json::from_slice::<StrictValue>(body)
        .and_then(|StrictValue(value)| serde_json::from_value(value))
        .map_err(|e| {
            OAuthError::new(
                ErrorCode::InvalidClientMetadata,
                format!("the body is not client metadata JSON: {e}"),
            )
        })
}

/// Metadata sent without an administrator (an anonymous registration, a
/// client's own update) is kept small.
fn small_enough(body: &[u8]) -> Result<(), OAuthError> {
    match body.len() > MAX_ANONYMOUS_METADATA_BYTES {
        true => Err(OAuthError::new(
            ErrorCode::InvalidClientMetadata,
            format!(
                "client metadata sent without an administrator is at most {MAX_ANONYMOUS_METADATA_BYTES} bytes"
            ),
        )),
        false => Ok(()),
    }
}

fn client_uri(state: &AppState, id: &str) -> String {
    format!("{}{OAUTH_BASE}/register/{id}", state.issuer)
}

fn answer(state: &AppState, status: StatusCode, registered: Registered) -> HttpResponse {
    let Registered {
        service,
        redirect_uris,
        extras,
        token,
        secret,
    } = registered;
    let uri = client_uri(state, &service.id);
    let body = RegisteredClient {
        client_secret_expires_at: secret.is_some().then_some(0),
        client_secret: secret,
        registration_access_token: Some(token),
        ..describe(&service, &redirect_uris, extras, uri)
    };
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

/// Who registers, and whether the open door's limits apply to them.
struct Registrar {
    caller: Caller,
    administrator: bool,
}

/// Who registers: an administrator, or anybody when registration is open.
async fn registrar(req: &HttpRequest, state: &AppState) -> Result<Registrar, OAuthError> {
    let origin = state.origin(req);
    let presented = bearer_token(req).map_err(oauth_error)?.is_some();
    if state.settings.open_registration && !presented {
        return Ok(Registrar {
            caller: Caller::anonymous(origin),
            administrator: false,
        });
    }
    if !presented {
        return Err(OAuthError::new(
            ErrorCode::InvalidToken,
            "registering a client needs an administrator's bearer token",
        ));
    }
    let principal = Principal::extract(req).await.map_err(oauth_error)?;
    if !principal.is_admin() && !state.settings.open_registration {
        return Err(OAuthError::new(
            ErrorCode::AccessDenied,
            "registering a client needs an administrator",
        ));
    }
    Ok(Registrar {
        caller: Caller::user(&principal.user.id, origin),
        administrator: principal.is_admin(),
    })
}

#[utoipa::path(
    operation_id = "register",
    post,
    path = "/api/rest/oauth2/register",
    tag = "registration",
    summary = "Dynamic client registration (RFC 7591): open, or with an admin's bearer token",
    request_body = crate::registry::client_metadata::ClientMetadata,
    responses((status = 201, body = RegisteredClient), crate::endpoints::api_doc::OAuthErrors),
    security((), ("bearer" = []))
)]
pub async fn register(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, OAuthError> {
    let Registrar {
        caller,
        administrator,
    } = registrar(&req, &state).await?;
    if !administrator {
        small_enough(&body)?;
    }
    let checked = metadata(&body)?.check().map_err(refusal)?;
    let now = crate::clock::now();
    let address = state.client_address(&req);
    let allowance = Allowance {
        per_address: state.settings.open_registration_per_hour,
        overall: state.settings.open_registration_overall_per_hour,
    };
    let registered = db::run(&state.pool, move |conn| {
        if !administrator {
            open_registration::admit(conn, address, allowance, now)?;
        }
        changes::register_client(conn, checked, now, &caller, administrator)
    })
    .await
    .map_err(oauth_error)?;
    note_client(&req, &registered.service.id);
    Ok(answer(&state, StatusCode::CREATED, registered))
}

/// The registration access token of the request, checked for `client_id`.
async fn managed(req: &HttpRequest, state: &AppState, client_id: &str) -> Result<(), OAuthError> {
    note_client(req, client_id);
    let Some(token) = bearer_token(req).map_err(oauth_error)? else {
        return Err(OAuthError::new(
            ErrorCode::InvalidToken,
            "the registration access token is required",
        ));
    };
    let id = client_id.to_owned();
    db::run(&state.pool, move |conn| {
        registrations::authorize(conn, &id, &token)
    })
    .await
    .map(drop)
    .map_err(oauth_error)
}

#[utoipa::path(
    operation_id = "registration_read",
    get,
    path = "/api/rest/oauth2/register/{client_id}",
    tag = "registration",
    summary = "Read a registration (RFC 7592) with its registration access token",
    params(("client_id" = String, Path)),
    responses((status = 200, body = RegisteredClient), crate::endpoints::api_doc::OAuthErrors),
    security(("bearer" = []))
)]
pub async fn read(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, OAuthError> {
    let id = path.into_inner();
    managed(&req, &state, &id).await?;
    let target = id.clone();
    let (extras, (service, uris)) = db::run(&state.pool, move |conn| {
        let extras = registrations::stored(conn, &target)?;
        Ok((extras, services_repo::find_with_uris(conn, &target)?))
    })
    .await
    .map_err(oauth_error)?;
    let body = describe(&service, &uris, extras, client_uri(&state, &id));
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body))
}

#[utoipa::path(
    operation_id = "registration_replace",
    put,
    path = "/api/rest/oauth2/register/{client_id}",
    tag = "registration",
    summary = "Replace a registration's metadata (RFC 7592)",
    params(("client_id" = String, Path)),
    request_body = crate::registry::client_metadata::ClientMetadata,
    responses((status = 200, body = RegisteredClient), crate::endpoints::api_doc::OAuthErrors),
    security(("bearer" = []))
)]
pub async fn replace(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, OAuthError> {
    let id = path.into_inner();
    managed(&req, &state, &id).await?;
    small_enough(&body)?;
    let metadata = metadata(&body)?;
    if metadata.client_id.as_deref() != Some(id.as_str()) {
        return Err(OAuthError::new(
            ErrorCode::InvalidClientMetadata,
            "client_id must be present and name this client",
        ));
    }
    let checked = metadata.check().map_err(refusal)?;
    let caller = Caller::service(&id, state.origin(&req));
    let (target, cache, now) = (id.clone(), Arc::clone(&state.services), crate::clock::now());
    let updated = db::run(&state.pool, move |conn| {
        open_registration::admit_update(conn, &target, now)?;
        changes::update_client(conn, &cache, &target, checked, now, &caller)
    })
    .await
    .map_err(oauth_error)?;
    Ok(answer(&state, StatusCode::OK, updated))
}

#[utoipa::path(
    operation_id = "registration_delete",
    delete,
    path = "/api/rest/oauth2/register/{client_id}",
    tag = "registration",
    summary = "Delete a registration (RFC 7592): the service is removed",
    params(("client_id" = String, Path)),
    responses((status = 204, description = "Deleted"), crate::endpoints::api_doc::OAuthErrors),
    security(("bearer" = []))
)]
pub async fn remove(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, OAuthError> {
    let id = path.into_inner();
    managed(&req, &state, &id).await?;
    let caller = Caller::service(&id, state.origin(&req));
    let (target, cache) = (id.clone(), Arc::clone(&state.services));
    db::run(&state.pool, move |conn| {
        changes::delete_client(conn, &cache, &target, &caller)
    })
    .await
    .map_err(oauth_error)?;
    // Its permissions went with it.
    state.access.graph_changed();
    Ok(HttpResponse::NoContent()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}
