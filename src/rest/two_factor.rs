//! `/api/rest/users/{id|me}/twofactorauthentication`: what second factors a
//! user has (their own, or anyone's for an admin), and an admin's removal
//! of them, for a user who lost their phone and their recovery codes.
use actix_web::{web, HttpResponse};

use super::authn::Principal;
use super::json::FieldsParam;
use super::resource;
use crate::error::AppError;
use crate::factors::repo as factors;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/api/rest/users/{id}/twofactorauthentication",
        web::get().to(status),
    )
    .route(
        "/api/rest/users/{id}/twofactorauthentication",
        web::delete().to(remove),
    )
    .route(
        "/api/rest/users/{id}/twofactorauthentication",
        web::post().to(require),
    );
}

/// `{"required": true}`: the user must have a second factor.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct Requirement {
    pub required: bool,
}

#[utoipa::path(
    operation_id = "users_two_factor_require",
    post,
    path = "/api/rest/users/{id}/twofactorauthentication",
    tag = "users",
    summary = "Require the user to sign in with a second factor (`{\"required\": true}`), or no longer (admins); one without a factor sets one up at the next sign-in",
    params(("id" = String, Path, description = "A user id"), crate::rest::json::FieldsParam),
    request_body = Requirement,
    responses((status = 200, body = crate::factors::FactorStatus), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn require(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    params: web::Query<FieldsParam>,
    body: crate::rest::json::JsonBody<Requirement>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let (id, caller, required) = (path.into_inner(), principal.caller(), body.0.required);
    resource::one(&state.pool, &params, move |conn| {
        crate::users::repo::find(conn, &id)?;
        factors::set_required(conn, &id, required, crate::clock::now(), &caller)?;
        factors::status(conn, &id)
    })
    .await
}

#[utoipa::path(
    operation_id = "users_two_factor_status",
    get,
    path = "/api/rest/users/{id}/twofactorauthentication",
    tag = "users",
    summary = "The user's second factors: `{enabled, totp, passkeys, recoveryCodesLeft}`",
    params(("id" = String, Path, description = "A user id, or `me`"), crate::rest::json::FieldsParam),
    responses((status = 200, body = crate::factors::FactorStatus), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn status(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    params: web::Query<FieldsParam>,
) -> Result<HttpResponse, AppError> {
    let id = principal.resolve_user_id(&path)?;
    resource::one(&state.pool, &params, move |conn| {
        crate::users::repo::find(conn, &id)?;
        factors::status(conn, &id)
    })
    .await
}

#[utoipa::path(
    operation_id = "users_two_factor_remove",
    delete,
    path = "/api/rest/users/{id}/twofactorauthentication",
    tag = "users",
    summary = "Remove every second factor of the user (admins): they sign in with their password alone until they set one up again",
    params(("id" = String, Path, description = "A user id")),
    responses((status = 200, body = crate::rest::api_doc::Empty), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn remove(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let (id, caller) = (path.into_inner(), principal.caller());
    resource::delete(&state.pool, move |conn| {
        crate::users::repo::find(conn, &id)?;
        factors::remove(
            conn,
            &id,
            factors::Removal::Everything,
            crate::clock::now(),
            &caller,
        )
    })
    .await
}
