//! `end_session_endpoint` (OIDC RP-Initiated Logout 1.0), GET and POST: ends
//! the idhub session and sends the user back to the application's registered
//! `post_logout_redirect_uri` (with `state`), or shows "signed out". The
//! rules are in `oauth2::logout`; a request that breaks them gets an error
//! page and no redirect. Without a hint naming the signed-in user, the user
//! confirms first (a CSRF-checked form).
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::form::OAuthForm;
use crate::db;
use crate::oauth2::logout::{self, Hint, LogoutParams};
use crate::oidc::discovery::OAUTH_BASE;
use crate::registry::model::Service;
use crate::rest::request_log::{note_client, note_user};
use crate::state::AppState;
use crate::web::cookies;
use crate::web::login::{current_session, sign_out};
use crate::web::page::{host_of, render, see_other, PageError};
use crate::web::templates::Logout;

#[utoipa::path(
    operation_id = "end_session",
    get,
    path = "/api/rest/oauth2/logout",
    tag = "oidc",
    summary = "RP-initiated logout: asks the user to confirm",
    params(crate::oauth2::logout::LogoutParams),
    responses(crate::endpoints::api_doc::LogoutPages)
)]
pub async fn logout_get(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let form = OAuthForm::for_page(&req, req.query_string().as_bytes())?;
    request(&req, &state, form.read_page()?).await
}

#[utoipa::path(
    operation_id = "end_session_post",
    post,
    path = "/api/rest/oauth2/logout",
    tag = "oidc",
    summary = "RP-initiated logout, its parameters in a form",
    request_body(content = crate::oauth2::logout::LogoutParams, content_type = "application/x-www-form-urlencoded"),
    responses(crate::endpoints::api_doc::LogoutPages)
)]
pub async fn logout_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let form = OAuthForm::for_page(&req, &body)?;
    request(&req, &state, form.read_page()?).await
}

/// The sign-out page's confirmation: the request it confirms (without the
/// hint, already judged) and the page's anti-forgery token.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct LogoutConfirmation {
    /// The page's anti-forgery token, matched with its cookie.
    #[schema(required = true)]
    pub csrf_token: Option<String>,
    pub client_id: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
}

/// The client a request names, and where it may return the user.
async fn destination(
    state: &AppState,
    hint: Option<&Hint>,
    params: &LogoutParams,
) -> Result<(Option<Arc<Service>>, Option<String>), PageError> {
    let refused =
        |why: logout::Refused| PageError::bad_request(format!("Sign-out refused: {why}."));
    let client_id = logout::client_of(hint, params.client_id.as_deref()).map_err(refused)?;
    let client = match client_id {
        Some(id) => {
            let services = Arc::clone(&state.services);
            let found = db::run(&state.pool, move |conn| Ok(services.lookup(conn, &id)?)).await?;
            match found {
                Some(service) => Some(service),
                None => return Err(PageError::bad_request("Sign-out refused: unknown client.")),
            }
        }
        None => None,
    };
    let target = logout::return_uri(
        client.as_deref(),
        params.post_logout_redirect_uri.as_deref(),
        params.state.as_deref(),
    )
    .map_err(refused)?;
    Ok((client, target))
}

async fn request(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    params: LogoutParams,
) -> Result<HttpResponse, PageError> {
    let hint = match params.id_token_hint.as_deref().filter(|h| !h.is_empty()) {
        Some(token) => {
            let keys = state.keys.current(&state.pool).await;
            logout::read_hint(&keys, &state.issuer, token)
        }
        None => None,
    };
    let (client, target) = destination(state, hint.as_ref(), &params).await?;
    let session = current_session(state, req).await?;
    let signed_in = session.as_ref().map(|s| s.user.id.as_str());
    if let Some(client) = &client {
        note_client(req, &client.id);
    }
    if let Some(user_id) = signed_in {
        note_user(req, user_id);
    }
    if !logout::needs_confirmation(hint.as_ref(), signed_in) {
        return finish(state, req, target, client.as_deref()).await;
    }
    let (csrf_token, cookie) = cookies::csrf_token(req, state.secure_cookies());
    let carried = [
        ("client_id", client.as_ref().map(|c| c.id.clone())),
        ("post_logout_redirect_uri", params.post_logout_redirect_uri),
        ("state", params.state),
    ];
    let page = Logout {
        signed_in: true,
        csrf_token,
        action: format!("{OAUTH_BASE}/logout/confirm"),
        params: carried
            .into_iter()
            .filter_map(|(name, value)| Some((name.to_owned(), value?)))
            .collect(),
        client_name: client.map(|c| c.name.clone()),
        continue_to: None,
    };
    Ok(render(StatusCode::OK, &page, cookie.into_iter().collect()))
}

/// The user confirmed: the destination is checked again (the form came
/// back from the browser), then the session ends.
#[utoipa::path(
    operation_id = "end_session_confirm",
    post,
    path = "/api/rest/oauth2/logout/confirm",
    tag = "oidc",
    summary = "The user confirms: the session ends and back-channel logout tokens go out",
    request_body(content = LogoutConfirmation, content_type = "application/x-www-form-urlencoded"),
    responses(crate::endpoints::api_doc::LogoutPages, crate::endpoints::api_doc::ForgedForm)
)]
pub async fn confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let confirmation: LogoutConfirmation = OAuthForm::for_page(&req, &body)?.read_page()?;
    cookies::check_csrf(&req, confirmation.csrf_token.as_deref())?;
    let params = LogoutParams {
        id_token_hint: None,
        client_id: confirmation.client_id,
        post_logout_redirect_uri: confirmation.post_logout_redirect_uri,
        state: confirmation.state,
    };
    let (client, target) = destination(&state, None, &params).await?;
    if let Some(client) = &client {
        note_client(&req, &client.id);
    }
    finish(&state, &req, target, client.as_deref()).await
}

async fn finish(
    state: &AppState,
    req: &HttpRequest,
    target: Option<String>,
    client: Option<&Service>,
) -> Result<HttpResponse, PageError> {
    let expired = sign_out(state, req).await?;
    // An unverified client's return URI is offered, not followed: a link
    // to idhub's logout must not land on anybody's site (RFC 9700 §4.11.2).
    let vouched = client.is_none_or(Service::vouched_for);
    match target {
        Some(uri) if vouched => Ok(see_other(&uri, vec![expired])),
        target => {
            let page = Logout {
                signed_in: false,
                csrf_token: String::new(),
                action: String::new(),
                params: vec![],
                client_name: None,
                continue_to: target.map(|uri| (host_of(&uri), uri)),
            };
            Ok(render(StatusCode::OK, &page, vec![expired]))
        }
    }
}
