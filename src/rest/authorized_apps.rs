//! `/api/rest/users/{id|me}/authorizedapps`.
use actix_web::{web, HttpResponse};
use serde_json::json;

use super::authn::Principal;
use super::json::{respond_list, to_json};
use crate::db;
use crate::error::AppError;
use crate::oauth2::authorized_apps;
use crate::paging::ListParams;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/rest/users/{id}/authorizedapps", web::get().to(list))
        .route(
            "/api/rest/users/{id}/authorizedapps/{service_id}",
            web::delete().to(revoke),
        );
}

async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    let user_id = principal.resolve_user_id(&path)?;
    let page = params.page()?;
    let fields = params.fields()?;
    let apps = db::run(&state.pool, move |conn| {
        crate::users::repo::find(conn, &user_id)?;
        authorized_apps::list(conn, &user_id)
    })
    .await?;
    let total = i64::try_from(apps.len()).unwrap_or(i64::MAX);
    let items = apps
        .into_iter()
        .skip(usize::try_from(page.skip).unwrap_or(usize::MAX))
        .take(usize::try_from(page.top).unwrap_or(0))
        .map(to_json)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(respond_list(
        "authorizedapps",
        items,
        total,
        page,
        fields.as_ref(),
    ))
}

async fn revoke(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (user_path, service_id) = path.into_inner();
    let user_id = principal.resolve_user_id(&user_path)?;
    let now = crate::clock::now();
    db::run(&state.pool, move |conn| {
        authorized_apps::revoke(conn, &user_id, &service_id, now)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({})))
}
