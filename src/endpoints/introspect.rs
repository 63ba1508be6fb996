//! `POST /api/rest/oauth2/introspect` (RFC 7662) over `oauth2::introspection`.
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use super::client_guard;
use super::form::OAuthForm;
use crate::clock;
use crate::oauth2::error::OAuthError;
use crate::oauth2::introspection::{self, IntrospectionDeps};
use crate::state::AppState;

#[utoipa::path(
    operation_id = "introspect",
    post,
    path = "/api/rest/oauth2/introspect",
    tag = "oauth2",
    summary = "Token introspection (RFC 7662); the caller must be the token's client or audience",
    request_body(content = crate::endpoints::api_doc::TokenHintForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = crate::oauth2::introspection::Introspection), crate::endpoints::api_doc::OAuthErrors),
    security((), ("basic" = []))
)]
pub async fn introspect(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: OAuthForm,
) -> Result<HttpResponse, OAuthError> {
    let (presented, token) = form.client_and_token(&req)?;
    // `token_type_hint` only orders a search (RFC 7662 §2.1): a JWT is tried
    // first in any case, since that costs no database read, then a refresh token.
    let keys = state.keys.current(&state.pool).await;
    let deps = IntrospectionDeps {
        pool: &state.pool,
        services: &state.services,
        users: &state.users,
        verified: &state.verified,
        revoked: &state.revoked,
        keys: &keys,
        issuer: &state.issuer,
    };
    let (address, client_id) = (state.client_address(&req), presented.client_id.clone());
    let work = async {
        let presented = client_guard::proven(&state, "introspect", Some(presented))
            .await?
            .ok_or_else(OAuthError::invalid_client)?;
        introspection::introspect(deps, presented, token, clock::now()).await
    };
    let answer = client_guard::guarded(&state, address, &client_id, work).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(answer))
}
