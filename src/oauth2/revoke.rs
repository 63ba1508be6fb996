//! `POST /api/rest/oauth2/revoke` (RFC 7009). A client revokes its own tokens:
//! an access token by its `jti`, a refresh token together with its whole grant.
//! Unknown or foreign tokens answer 200 and change nothing.
use actix_web::{web, HttpRequest, HttpResponse};

use super::error::OAuthError;
use super::form::OAuthForm;
use super::{access_token, client_auth, grants, refresh_tokens};
use crate::startup::AppState;

pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: OAuthForm,
) -> Result<HttpResponse, OAuthError> {
    let presented = client_auth::require_client(client_auth::presented(&req, &form)?)?;
    let token = form.require("token")?.to_owned();
    let keys = state.keys.current(&state.pool).await;
    let claims = state.verified.verify(&keys, &token, &state.issuer).ok();
    let now = super::now();
    let services = std::sync::Arc::clone(&state.services);
    super::run(&state.pool, move |conn| {
        let client = client_auth::authenticate(conn, &services, &presented)?;
        let caller = client.service.id.clone();
        match claims {
            Some(claims) if claims.client_id == caller => access_token::revoke(conn, &claims, now)?,
            Some(_) => {}
            None => {
                if let Some((_, grant)) = refresh_tokens::find(conn, &token)? {
                    if grant.service_id == caller {
                        grants::revoke(conn, &grant.id, now)?;
                    }
                }
            }
        }
        Ok(())
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .finish())
}
