//! The discovery document and the JWKS, both served from memory.
use actix_web::http::header::CACHE_CONTROL;
use actix_web::{web, HttpResponse};

use crate::state::AppState;

#[utoipa::path(
    operation_id = "discovery",
    get,
    path = "/.well-known/openid-configuration",
    tag = "oidc",
    summary = "OpenID Provider metadata",
    responses((status = 200, body = crate::oidc::discovery::ProviderMetadata))
)]
pub async fn discovery(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((CACHE_CONTROL, "public, max-age=300"))
        .body(state.discovery.clone())
}

/// The same document under the OAuth base, where Hub also serves it.
#[utoipa::path(
    operation_id = "discovery_at_oauth_base",
    get,
    path = "/api/rest/oauth2/.well-known/openid-configuration",
    tag = "oidc",
    summary = "OpenID Provider metadata, under the OAuth base as in Hub",
    responses((status = 200, body = crate::oidc::discovery::ProviderMetadata))
)]
pub async fn discovery_at_oauth_base(state: web::Data<AppState>) -> HttpResponse {
    discovery(state).await
}

#[utoipa::path(
    operation_id = "jwks",
    get,
    path = "/api/rest/oauth2/keys",
    tag = "oidc",
    summary = "The public keys that verify idhub's tokens",
    responses((status = 200, body = crate::oidc::keys::Jwks))
)]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    let keys = state.keys.current(&state.pool).await;
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((CACHE_CONTROL, "public, max-age=60"))
        .body(keys.jwks.clone())
}
