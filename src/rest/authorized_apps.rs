//! `/api/rest/users/{id|me}/authorizedapps`.
use actix_web::{web, HttpResponse};

use super::authn::Principal;
use super::resource::{self, Collection};
use crate::error::AppError;
use crate::oauth2::authorized_apps;
use crate::paging::ListParams;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    Collection::at("/api/rest/users/{id}/authorizedapps", "{service_id}")
        .list(list)
        .delete(revoke)
        .register(cfg);
}

#[utoipa::path(
    operation_id = "authorized_apps_list",
    get,
    path = "/api/rest/users/{id}/authorizedapps",
    tag = "authorized applications",
    summary = "The services a user has authorized",
    params(("id" = String, Path, description = "A user id, or `me`"), crate::paging::ListParams),
    responses((status = 200, body = crate::rest::api_doc::AuthorizedAppList), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    let user_id = principal.resolve_user_id(&path)?;
    resource::list(&state.pool, "authorizedapps", &params, move |conn, page| {
        crate::users::repo::find(conn, &user_id)?;
        Ok(resource::page_of(
            authorized_apps::list(conn, &user_id)?,
            page,
        ))
    })
    .await
}

#[utoipa::path(
    operation_id = "authorized_apps_revoke",
    delete,
    path = "/api/rest/users/{id}/authorizedapps/{service_id}",
    tag = "authorized applications",
    summary = "Revoke a service's grants and consent",
    params(("id" = String, Path, description = "A user id, or `me`"), ("service_id" = String, Path, description = "A service id")),
    responses((status = 200, body = crate::rest::api_doc::Empty), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn revoke(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (user_id, service_id) = principal.resolve_user_item(path.into_inner())?;
    let now = crate::clock::now();
    let revoked = std::sync::Arc::clone(&state.revoked);
    let caller = principal.caller();
    resource::delete(&state.pool, move |conn| {
        authorized_apps::revoke(conn, &revoked, &user_id, &service_id, now, &caller)
    })
    .await
}
