//! `GET /api/rest/permissions/cache`: what a user may do, and where, read
//! by the services that trust idhub. The answer comes from memory
//! (`authz::cache`); a change made anywhere shows in the next answer here,
//! or within the change feed's delay when another instance made it.
use actix_web::http::header::ContentType;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::authn::Bearer;
use crate::db;
use crate::error::AppError;
use crate::state::AppState;
use crate::users::repo as users_repo;
use crate::validate::MAX_SHORT_TEXT;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/api/rest/permissions/cache",
        web::get().to(permission_cache),
    );
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CacheParams {
    /// `service:ID` keeps one service's permissions.
    pub query: Option<String>,
    /// Another user, by id or login: for admins and trusted services.
    pub principal: Option<String>,
}

/// The service id of `service:ID`, the only query the cache takes.
fn service_filter(query: Option<&str>) -> Result<Option<String>, AppError> {
    let Some(text) = query.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    match text.strip_prefix("service:") {
        Some(id)
            if !id.is_empty()
                && id.len() <= MAX_SHORT_TEXT
                && !id.contains(char::is_whitespace) =>
        {
            Ok(Some(id.to_owned()))
        }
        _ => Err(AppError::bad_field(
            "query",
            "the permission cache takes query=service:<service id> only",
        )),
    }
}

#[utoipa::path(
    operation_id = "permissions_cache",
    get,
    path = "/api/rest/permissions/cache",
    tag = "permissions",
    summary = "The permissions of the bearer's user, or of `principal` (for admins and trusted services): each permission with `global` (granted in the Global project) and the projects it is granted in",
    params(CacheParams),
    responses((status = 200, body = Vec<crate::authz::access::Held>), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn permission_cache(
    state: web::Data<AppState>,
    bearer: Bearer,
    params: web::Query<CacheParams>,
) -> Result<HttpResponse, AppError> {
    let service = service_filter(params.query.as_deref())?;
    let user_id = match (&bearer, params.principal.as_deref()) {
        (Bearer::User(principal), None) => principal.user.id.clone(),
        (Bearer::User(principal), Some(other))
            if other == "me"
                || other == principal.user.id
                || other.eq_ignore_ascii_case(&principal.user.login) =>
        {
            principal.user.id.clone()
        }
        (Bearer::User(principal), Some(other)) => {
            principal.require_admin()?;
            find_principal(&state, other).await?
        }
        (Bearer::Service(_), None) => {
            return Err(AppError::bad_field(
                "principal",
                "a service's own token acts for no user: name one with principal=",
            ))
        }
        (Bearer::Service(caller), Some(other)) => {
            if !caller.service.trusted {
                return Err(AppError::Forbidden(
                    "only a trusted service may read another user's permissions".into(),
                ));
            }
            find_principal(&state, other).await?
        }
    };
    let body = state
        .access
        .answer(&state.pool, &user_id, service.as_deref())
        .await?;
    Ok(HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(body))
}

/// The id of the user `id_or_login` names: by id from the cache, else by login.
async fn find_principal(state: &AppState, id_or_login: &str) -> Result<String, AppError> {
    if let Some(user) = state.users.get(&state.pool, id_or_login).await? {
        return Ok(user.id.clone());
    }
    let login = id_or_login.to_owned();
    db::run(&state.pool, move |conn| {
        users_repo::find_by_login(conn, &login)?
            .map(|user| user.id)
            .ok_or_else(|| {
                AppError::bad_field("principal", "there is no user with that id or login")
            })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_takes_a_service_filter_only() {
        assert_eq!(service_filter(None).unwrap(), None);
        assert_eq!(service_filter(Some("  ")).unwrap(), None);
        assert_eq!(
            service_filter(Some("service:abc")).unwrap().as_deref(),
            Some("abc")
        );
        assert!(service_filter(Some("issue")).is_err());
        assert!(service_filter(Some("service:")).is_err());
    }
}
