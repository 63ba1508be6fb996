//! `GET|POST /api/rest/oauth2/userinfo`: claims about the token's user, by scope.
//! Tokens must carry `openid` or the Hub service; revoked tokens are refused.
use actix_web::{web, HttpRequest, HttpResponse};

use super::form::OAuthForm;
use crate::oauth2::access_token;
use crate::oauth2::dpop::Sent;
use crate::oauth2::error::{ErrorCode, OAuthError};
use crate::oidc::user_claims::UserClaims;
use crate::registry::model::HUB_SERVICE_ID;
use crate::rest::dpop;
use crate::rest::request_log::{note_client, note_user};
use crate::scope::{StoredScope, GROUPS, OPENID};
use crate::state::AppState;

fn invalid_token(description: &str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidToken, description)
}

/// RFC 6750: the token comes in the header or the form body, never both;
/// a DPoP-bound one in the header only (RFC 9449 §7.1).
fn presented_token(req: &HttpRequest, form: &OAuthForm) -> Result<Sent, OAuthError> {
    match (dpop::sent_token(req)?, form.get("access_token")) {
        (Some(_), Some(_)) => Err(OAuthError::invalid_request(
            "send the token once: header or form, not both",
        )),
        (Some(sent), None) => Ok(sent),
        (None, Some(token)) => Ok(Sent::Bearer(token.to_owned())),
        (None, None) => Err(invalid_token("an access token is required")),
    }
}

#[utoipa::path(
    operation_id = "userinfo",
    get,
    path = "/api/rest/oauth2/userinfo",
    tag = "oidc",
    summary = "The signed-in user's claims, for an access token with `openid`",
    description = "The token comes as `Authorization: Bearer …`, or for a DPoP-bound token as `Authorization: DPoP …` with a `DPoP` proof header.",
    params(("DPoP" = Option<String>, Header, description = "With a DPoP-bound token: its proof (RFC 9449 §7)")),
    responses((status = 200, body = crate::oidc::user_claims::UserClaims), crate::endpoints::api_doc::OAuthErrors),
    security(("bearer" = []))
)]
pub async fn userinfo(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: OAuthForm,
) -> Result<HttpResponse, OAuthError> {
    let sent = presented_token(&req, &form)?;
    let keys = state.keys.current(&state.pool).await;
    let claims = state
        .verified
        .verify(&keys, sent.token(), &state.issuer)
        .map_err(|r| match sent {
            Sent::Bearer(_) => invalid_token(&r.0),
            Sent::Dpop { .. } => invalid_token(&r.0).dpop(),
        })?;
    dpop::honour(&state, &req, &claims, &sent).await?;
    let hub = claims.aud.contains(HUB_SERVICE_ID);
    if !claims.has_scope(OPENID) && !hub {
        return Err(OAuthError::new(
            ErrorCode::InsufficientScope,
            "the token needs the openid scope or the Hub service",
        ));
    }
    let scope = claims.scope.clone();
    let user = match access_token::status(state.token_checks(), &claims).await? {
        Ok(Some(user)) => user,
        Ok(None) => return Err(invalid_token("the token does not act for a user")),
        Err(_) => return Err(invalid_token("the token has been revoked")),
    };
    note_client(&req, &claims.client_id);
    note_user(&req, &user.id);
    let has = |s: &str| hub || StoredScope(&scope).contains(s);
    let mut claims = UserClaims::of(&user, has);
    if StoredScope(&scope).contains(GROUPS) {
        claims.groups = Some(state.access.group_names(&state.pool, &user.id).await?);
    }
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(claims))
}

/// The same, POSTed (OpenID Connect Core §5.3.1); the token may also come
/// in the form's `access_token`.
#[utoipa::path(
    operation_id = "userinfo_post",
    post,
    path = "/api/rest/oauth2/userinfo",
    tag = "oidc",
    summary = "The signed-in user's claims, asked for with POST",
    description = "The token comes as `Authorization: Bearer …` or in the form's `access_token`; a DPoP-bound one as `Authorization: DPoP …` with a `DPoP` proof header.",
    params(("DPoP" = Option<String>, Header, description = "With a DPoP-bound token: its proof (RFC 9449 §7)")),
    request_body(content = Option<crate::endpoints::api_doc::AccessTokenForm>, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = crate::oidc::user_claims::UserClaims), crate::endpoints::api_doc::OAuthErrors),
    security(("bearer" = []), ())
)]
pub async fn userinfo_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: OAuthForm,
) -> Result<HttpResponse, OAuthError> {
    userinfo(req, state, form).await
}
