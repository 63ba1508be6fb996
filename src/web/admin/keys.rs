//! `/admin/keys`: the signing keys (never their private parts) and Rotate.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::common::{administrator, csrf, form_administrator};
use crate::audit::Caller;
use crate::db;
use crate::oidc::keystore;
use crate::state::AppState;
use crate::web::login::CsrfOnly;
use crate::web::page::{render, see_other, PageError};
use crate::web::templates::{page_time, AdminKeys, KeyRow};

pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    if let Err(redirect) = administrator(&state, &req).await? {
        return Ok(redirect);
    }
    let keys = db::run(&state.pool, |conn| Ok(keystore::list(conn)?)).await?;
    let (csrf_token, cookies) = csrf(&state, &req);
    let page = AdminKeys {
        csrf_token,
        rows: keys
            .into_iter()
            .map(|key| KeyRow {
                kid: key.kid,
                algorithm: key.algorithm,
                created: page_time(key.created),
                state: match key.retired_at {
                    None => "current: signs new tokens".to_owned(),
                    Some(at) => format!("retired {}: still verifies", page_time(at)),
                },
            })
            .collect(),
    };
    Ok(render(StatusCode::OK, &page, cookies))
}

pub async fn rotate(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    let admin = form_administrator(&state, &req, form.csrf_token.as_deref()).await?;
    let caller = Caller::user(&admin.user.id, state.origin(&req));
    state.keys.rotate_now(&state.pool, caller).await?;
    Ok(see_other("/admin/keys", vec![]))
}
