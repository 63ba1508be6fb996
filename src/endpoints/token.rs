//! `POST /api/rest/oauth2/token`: the form read into a typed request, a DPoP
//! proof checked when one is sent, the grant run by `oauth2::token`, the
//! answer signed and sent uncached.
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use super::client_guard;
use super::dpop_proof;
use super::form::OAuthForm;
use crate::clock;
use crate::oauth2::error::OAuthError;
use crate::oauth2::token::{self, GrantDeps, TokenRequest, TokenResponse};
use crate::oidc::discovery::OAUTH_BASE;
use crate::rest::request_log::note_user;
use crate::scope::GROUPS;
use crate::state::AppState;
use crate::telemetry;

#[utoipa::path(
    operation_id = "token",
    post,
    path = "/api/rest/oauth2/token",
    tag = "oauth2",
    summary = "The token endpoint: code, refresh, client credentials, password, device code and token exchange grants",
    params(("DPoP" = Option<String>, Header, description = "A DPoP proof (RFC 9449) binds the tokens to its key")),
    request_body(content = crate::endpoints::api_doc::TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = crate::oauth2::token::TokenResponse), crate::endpoints::api_doc::OAuthErrors),
    security((), ("basic" = []))
)]
pub async fn token(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: OAuthForm,
) -> Result<HttpResponse, OAuthError> {
    let request = TokenRequest::from_params(form.pairs())?;
    let grant_type = request.grant_type();
    let presented = form.presented_client(&req)?;
    let now = clock::now();
    let origin = state.origin(&req);
    let address = state.client_address(&req);
    let client_id = presented
        .as_ref()
        .map(|p| p.client_id.clone())
        .unwrap_or_default();
    let url = format!("{}{OAUTH_BASE}/token", state.issuer);
    let keys = state.keys.current(&state.pool).await;
    let changes_nothing = request.changes_nothing();
    let work = async {
        let proof = dpop_proof::at_token_endpoint(&state, &req, &url, &client_id, now).await?;
        let (dpop_jkt, mut recording) = proof.unzip();
        // A grant that uses something up must know first that the proof is
        // fresh; the others are signed meanwhile (RFC 9449 §11.1 replay).
        if !changes_nothing {
            if let Some(recording) = recording.take() {
                recording.confirm().await?;
            }
        }
        let deps = GrantDeps {
            pool: &state.pool,
            services: &state.services,
            revoked: &state.revoked,
            users: &state.users,
            hasher: &state.hasher,
            lockout: state.lockout,
            policy: state.token_policy,
            second_factor_policy: state.settings.require_second_factor,
            origin: origin.clone(),
            audit: &state.audit,
            dpop_jkt: dpop_jkt.clone(),
            verified: &state.verified,
            keys: &keys,
            issuer: &state.issuer,
        };
        let presented = client_guard::proven(&state, "token", presented).await?;
        let mut issued = token::grant(&deps, presented, request, now).await?;
        issued.grantable.jkt = dpop_jkt;
        Ok((issued, recording))
    };
    let (mut issued, recording) = client_guard::guarded(&state, address, &client_id, work).await?;
    if let Some(request) = issued.id_token.as_mut() {
        if issued.grantable.scope.iter().any(|s| s == GROUPS) {
            let names = state.access.group_names(&state.pool, &request.user.id);
            request.groups = Some(names.await?);
        }
    }
    let ttl = state.token_policy.access_token_ttl_secs;
    if let Some(user_id) = issued.user_id() {
        note_user(&req, user_id);
    }
    let event = issued.audit_event(grant_type, origin);
    let body = token::sign(&keys, &state.issuer, issued, ttl, now)?;
    if let Some(recording) = recording {
        recording.confirm().await?;
    }
    telemetry::token_issued(grant_type);
    state.audit.submit(event);
    let nonce = state
        .dpop_nonces
        .as_ref()
        .map(|key| key.current(now.and_utc().timestamp()));
    Ok(token_response(body, nonce))
}

fn token_response(body: TokenResponse, dpop_nonce: Option<String>) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    response
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    // The nonce for the client's next proof (RFC 9449 §8.2).
    if let Some(nonce) = dpop_nonce {
        response.insert_header(("DPoP-Nonce", nonce));
    }
    response.json(body)
}
