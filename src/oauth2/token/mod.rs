//! `POST /api/rest/oauth2/token`: one module per grant; this file dispatches,
//! signs and renders the RFC 6749 §5.1 response.
pub mod client_credentials;
pub mod password;
pub mod refresh_token;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::access_token::{self, Grantable};
use super::client_auth;
use super::error::{ErrorCode, OAuthError};
use super::form::OAuthForm;
use crate::startup::AppState;

/// What a grant decided: the token to sign, and a refresh token if one was issued.
#[derive(Debug)]
pub struct Issued {
    pub client_id: String,
    pub grantable: Grantable,
    pub refresh_token: Option<String>,
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
    Ok(token_response(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: ttl,
        scope: crate::scopes::join(&issued.grantable.scope),
        refresh_token: issued.refresh_token,
        id_token: None,
    }))
}

pub fn token_response(body: TokenResponse) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .insert_header((actix_web::http::header::PRAGMA, "no-cache"))
        .json(body)
}
