//! `/api/rest/users/{id|me}/identities`: the ways a user signs in through
//! auth modules (their own, or anyone's for an admin), and unlinking one.
use actix_web::{web, HttpResponse};

use super::authn::Principal;
use super::json::FieldsParam;
use super::resource;
use crate::auth_modules::identities;
use crate::error::AppError;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/rest/users/{id}/identities", web::get().to(list))
        .route(
            "/api/rest/users/{id}/identities/{identityId}",
            web::delete().to(unlink),
        );
}

#[utoipa::path(
    operation_id = "users_identities",
    get,
    path = "/api/rest/users/{id}/identities",
    tag = "users",
    summary = "The user's identities at auth modules: `[{id, authModule: {id, name}, subject, login, email}]`",
    params(("id" = String, Path, description = "A user id, or `me`"), crate::rest::json::FieldsParam),
    responses((status = 200, body = [crate::auth_modules::identities::IdentityView]), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    params: web::Query<FieldsParam>,
) -> Result<HttpResponse, AppError> {
    let id = principal.resolve_user_id(&path)?;
    resource::one(&state.pool, &params, move |conn| {
        crate::users::repo::find(conn, &id)?;
        identities::of_user(conn, &id)
    })
    .await
}

#[utoipa::path(
    operation_id = "users_identities_unlink",
    delete,
    path = "/api/rest/users/{id}/identities/{identityId}",
    tag = "users",
    summary = "Unlink one identity: that way in no longer leads to this user",
    params(
        ("id" = String, Path, description = "A user id, or `me`"),
        ("identityId" = String, Path, description = "An identity id")
    ),
    responses((status = 200, body = crate::rest::api_doc::Empty), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn unlink(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (user, identity) = path.into_inner();
    let id = principal.resolve_user_id(&user)?;
    let caller = principal.caller();
    resource::delete(&state.pool, move |conn| {
        identities::unlink(conn, &id, &identity, crate::clock::now(), &caller)
    })
    .await
}
