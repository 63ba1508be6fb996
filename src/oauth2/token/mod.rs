//! `POST /api/rest/oauth2/token`: one module per grant; this file dispatches,
//! signs and renders the RFC 6749 §5.1 response.
pub mod authorization_code;
pub mod client_credentials;
pub mod password;
pub mod refresh_token;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::access_token::{self, Grantable};
use super::client_auth;
use super::error::{ErrorCode, OAuthError};
use super::form::OAuthForm;
use crate::oidc::id_token::{self, IdTokenFor};
use crate::startup::AppState;
use crate::users::model::User;

/// What a grant decided: the token to sign, a refresh token if one was issued,
/// and an ID token to sign when the scope has `openid` and a user signed in.
#[derive(Debug)]
pub struct Issued {
    pub client_id: String,
    pub grantable: Grantable,
    pub refresh_token: Option<String>,
    pub id_token: Option<IdTokenRequest>,
}

#[derive(Debug)]
pub struct IdTokenRequest {
    pub user: User,
    pub auth_time: chrono::NaiveDateTime,
    pub nonce: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

pub async fn token(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: OAuthForm,
) -> Result<HttpResponse, OAuthError> {
    let grant_type = form.require("grant_type")?;
    let presented = client_auth::presented(&req, &form)?;
    let now = super::now();
    let issued = match grant_type {
        "authorization_code" => authorization_code::grant(&state, presented, &form, now).await?,
        "client_credentials" => client_credentials::grant(&state, presented, &form, now).await?,
        "password" => password::grant(&state, presented, &form, now).await?,
        "refresh_token" => refresh_token::grant(&state, presented, &form, now).await?,
        other => {
            return Err(OAuthError::new(
                ErrorCode::UnsupportedGrantType,
                format!(
                    "grant_type '{}' is not supported",
                    other.chars().take(64).collect::<String>()
                ),
            ))
        }
    };
    let keys = state.keys.current(&state.pool).await;
    let ttl = state.settings.access_token_ttl_secs;
    let access_token = access_token::sign(
        &keys,
        &state.issuer,
        &issued.client_id,
        &issued.grantable,
        ttl,
        now,
    )?;
    let id_token = match &issued.id_token {
        Some(request) => {
            let subject = IdTokenFor {
                user: &request.user,
                client_id: &issued.client_id,
                scope: &issued.grantable.scope,
                auth_time: request.auth_time,
                nonce: request.nonce.as_deref(),
                access_token: Some(&access_token),
                code: None,
            };
            Some(id_token::sign(&keys, &state.issuer, subject, ttl, now)?)
        }
        None => None,
    };
    Ok(token_response(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: ttl,
        scope: crate::scopes::join(&issued.grantable.scope),
        refresh_token: issued.refresh_token,
        id_token,
    }))
}

pub fn token_response(body: TokenResponse) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .insert_header((actix_web::http::header::PRAGMA, "no-cache"))
        .json(body)
}
