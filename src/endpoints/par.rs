//! `pushed_authorization_request_endpoint` (RFC 9126): the client
//! authenticates as at the token endpoint (public clients send their
//! `client_id`), its request is checked by the authorization endpoint's own
//! code, and it gets a `request_uri` to send the browser with, good once for
//! a minute.
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::client_guard;
use super::dpop_proof;
use super::form::OAuthForm;
use crate::oauth2::authorize::{self as authorization, PushedParameters};
use crate::oauth2::client_auth;
use crate::oauth2::error::OAuthError;
use crate::oauth2::{par, scope_rules};
use crate::oidc::discovery::OAUTH_BASE;
use crate::registry::repo as services_repo;
use crate::state::AppState;
use crate::{clock, db};

/// RFC 9126 §2.2.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushedRequest {
    /// Send the browser to the authorization endpoint with this and `client_id`.
    pub request_uri: String,
    pub expires_in: i64,
}

/// A pushed authorization request: its parameters and the client's
/// authentication (which carries `client_id`).
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct PushedForm {
    #[serde(flatten)]
    pub request: PushedParameters,
    #[serde(flatten)]
    pub client: super::api_doc::ClientAuthentication,
}

#[utoipa::path(
    operation_id = "par",
    post,
    path = "/api/rest/oauth2/par",
    tag = "oauth2",
    summary = "Pushed authorization request (RFC 9126)",
    params(("DPoP" = Option<String>, Header, description = "A DPoP proof (RFC 9449) binds the tokens to its key")),
    request_body(content = PushedForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 201, body = PushedRequest), crate::endpoints::api_doc::OAuthErrors),
    security((), ("basic" = []))
)]
pub async fn push(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: OAuthForm,
) -> Result<HttpResponse, OAuthError> {
    let presented = form.presented_client(&req)?;
    let PushedForm { request, .. } = crate::oauth2::from_params(form.pairs())
        .map_err(|e| OAuthError::invalid_request(format!("invalid pushed request: {e}")))?;
    let names_request_uri = form.get("request_uri").is_some();
    let address = state.client_address(&req);
    let client_id = presented
        .as_ref()
        .map(|p| p.client_id.clone())
        .unwrap_or_default();
    let work = async {
        let presented = client_guard::proven(&state, "par", presented)
            .await?
            .ok_or_else(OAuthError::invalid_client)?;
        let client =
            client_auth::authenticate_cached(&state.pool, &state.services, &presented).await?;
        // The request names the client that pushed it, however it authenticated.
        let mut request = request.of_client(client.service.id.clone());
        // A proof with the push binds the code to its key (RFC 9449 §10.1).
        let url = format!("{}{OAUTH_BASE}/par", state.issuer);
        if let Some(jkt) = dpop_proof::proven_key(&state, &req, &url, clock::now()).await? {
            if request.dpop_jkt.as_ref().is_some_and(|named| *named != jkt) {
                return Err(OAuthError::invalid_dpop_proof(
                    "dpop_jkt names another key than the DPoP proof's",
                ));
            }
            request.dpop_jkt = Some(jkt);
        }
        if names_request_uri {
            return Err(OAuthError::invalid_request(
                "a pushed request cannot itself name a request_uri",
            ));
        }
        let id = client.service.id.clone();
        let (service, registered) = db::run(&state.pool, move |conn| {
            services_repo::find_with_uris(conn, &id)
        })
        .await?;
        let redirect_uri = authorization::redirect_uri_for(&service, &registered, &request)
            .map_err(OAuthError::invalid_request)?;
        let checked = authorization::check(&service, redirect_uri, &request, &state.settings)
            .map_err(|refused| refused.1)?;
        let (id, now) = (service.id.clone(), clock::now());
        // The services of the scope must be registered, as at /auth.
        crate::oauth2::run(&state.pool, move |conn| {
            scope_rules::registered_names(conn, &checked.requested.services)?;
            Ok(par::push(conn, &id, &request, now)?)
        })
        .await
    };
    let request_uri = client_guard::guarded(&state, address, &client_id, work).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(PushedRequest {
            request_uri,
            expires_in: par::LIFETIME_SECS,
        }))
}
