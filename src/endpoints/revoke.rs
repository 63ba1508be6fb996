//! `POST /api/rest/oauth2/revoke` (RFC 7009) over `oauth2::revocation`.
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use super::client_guard;
use super::form::OAuthForm;
use crate::clock;
use crate::oauth2::error::OAuthError;
use crate::oauth2::revocation::{self, RevocationRequest};
use crate::state::AppState;

#[utoipa::path(
    operation_id = "revoke",
    post,
    path = "/api/rest/oauth2/revoke",
    tag = "oauth2",
    summary = "Token revocation (RFC 7009); an unknown token is answered alike",
    request_body(content = crate::endpoints::api_doc::TokenHintForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Revoked, or was never live"), crate::endpoints::api_doc::OAuthErrors),
    security((), ("basic" = []))
)]
pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: OAuthForm,
) -> Result<HttpResponse, OAuthError> {
    let (presented, token) = form.client_and_token(&req)?;
    let (address, client_id) = (state.client_address(&req), presented.client_id.clone());
    let presented = client_guard::guarded(&state, address, &client_id, async {
        client_guard::proven(&state, "revoke", Some(presented))
            .await?
            .ok_or_else(OAuthError::invalid_client)
    })
    .await?;
    let keys = state.keys.current(&state.pool).await;
    let claims = state.verified.verify(&keys, &token, &state.issuer).ok();
    let request = RevocationRequest {
        presented,
        token,
        claims,
        origin: state.origin(&req),
    };
    let work = revocation::revoke(
        &state.pool,
        &state.services,
        &state.revoked,
        request,
        clock::now(),
    );
    client_guard::guarded(&state, address, &client_id, work).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}
