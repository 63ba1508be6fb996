//! Roles granted in projects: `/api/rest/users/{id}/projectroles`,
//! `/api/rest/usergroups/{id}/projectroles` and a user's
//! `/transitiveprojectroles`. Admins grant and revoke; a user may read
//! their own.
use actix_web::{web, HttpResponse};

use super::authn::Principal;
use super::json::{FieldsParam, JsonBody};
use super::resource::{self, Collection};
use crate::authz::input::ProjectRoleInput;
use crate::authz::model::GLOBAL_PROJECT_ID;
use crate::authz::project_roles::{self as repo, Holder};
use crate::error::AppError;
use crate::paging::ListParams;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    Collection::at("/api/rest/users/{id}/projectroles", "{project_role_id}")
        .list(of_user)
        .create(grant_to_user)
        .delete(revoke_from_user)
        .register(cfg);
    Collection::at(
        "/api/rest/usergroups/{id}/projectroles",
        "{project_role_id}",
    )
    .list(of_group)
    .create(grant_to_group)
    .delete(revoke_from_group)
    .register(cfg);
    cfg.route(
        "/api/rest/users/{id}/transitiveprojectroles",
        web::get().to(transitive_of_user),
    );
}

/// After a grant to or revocation from `holder` has committed.
fn changed(state: &AppState, holder: &Holder) {
    match holder {
        Holder::User(id) => state.access.user_changed(id),
        Holder::Group(_) => state.access.graph_changed(),
    }
}

async fn list_of(
    state: &AppState,
    params: &ListParams,
    holder: Holder,
) -> Result<HttpResponse, AppError> {
    resource::list(&state.pool, "projectroles", params, move |conn, page| {
        Ok(resource::page_of(repo::of(conn, &holder)?, page))
    })
    .await
}

async fn grant(
    state: &AppState,
    principal: &Principal,
    params: &FieldsParam,
    holder: Holder,
    body: ProjectRoleInput,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let role = body.role.id;
    let project = body
        .project
        .map_or_else(|| GLOBAL_PROJECT_ID.to_owned(), |p| p.id);
    let caller = principal.caller();
    let held = holder.clone();
    let granted = resource::one(&state.pool, params, move |conn| {
        repo::grant(conn, &held, &role, &project, crate::clock::now(), &caller)
    })
    .await;
    // Told whether or not the answer got out: the write may have committed.
    changed(state, &holder);
    granted
}

async fn revoke(
    state: &AppState,
    principal: &Principal,
    holder: Holder,
    id: String,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let caller = principal.caller();
    let held = holder.clone();
    let revoked = resource::delete(&state.pool, move |conn| {
        repo::revoke(conn, &held, &id, crate::clock::now(), &caller)
    })
    .await;
    // Told whether or not the answer got out: the write may have committed.
    changed(state, &holder);
    revoked
}

#[utoipa::path(
    operation_id = "users_project_roles",
    get,
    path = "/api/rest/users/{id}/projectroles",
    tag = "projectroles",
    summary = "The roles granted to the user in projects (their own, or anyone's for an admin)",
    params(("id" = String, Path, description = "A user id, or `me`"), crate::paging::ListParams),
    responses((status = 200, body = crate::rest::api_doc::ProjectRoleList), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn of_user(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    let id = principal.resolve_user_id(&path)?;
    list_of(&state, &params, Holder::User(id)).await
}

#[utoipa::path(
    operation_id = "users_grant_project_role",
    post,
    path = "/api/rest/users/{id}/projectroles",
    tag = "projectroles",
    summary = "Grant the user a role in a project (`{\"role\": {\"id\": …}, \"project\": {\"id\": …}}`; no project means Global); granted already is no change",
    params(("id" = String, Path, description = "A user id"), crate::rest::json::FieldsParam),
    request_body = crate::authz::input::ProjectRoleInput,
    responses((status = 200, body = crate::authz::model::ProjectRoleView), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn grant_to_user(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    params: web::Query<FieldsParam>,
    body: JsonBody<ProjectRoleInput>,
) -> Result<HttpResponse, AppError> {
    let holder = Holder::User(principal.resolve_user_id(&path)?);
    grant(&state, &principal, &params, holder, body.0).await
}

#[utoipa::path(
    operation_id = "users_revoke_project_role",
    delete,
    path = "/api/rest/users/{id}/projectroles/{project_role_id}",
    tag = "projectroles",
    summary = "Take a project role from the user",
    params(("id" = String, Path, description = "A user id"), ("project_role_id" = String, Path, description = "A project role id")),
    responses((status = 200, body = crate::rest::api_doc::Empty), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn revoke_from_user(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (user, id) = principal.resolve_user_item(path.into_inner())?;
    revoke(&state, &principal, Holder::User(user), id).await
}

#[utoipa::path(
    operation_id = "usergroups_project_roles",
    get,
    path = "/api/rest/usergroups/{id}/projectroles",
    tag = "projectroles",
    summary = "The roles granted to the group in projects",
    params(("id" = String, Path, description = "A group id"), crate::paging::ListParams),
    responses((status = 200, body = crate::rest::api_doc::ProjectRoleList), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn of_group(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    list_of(&state, &params, Holder::Group(path.into_inner())).await
}

#[utoipa::path(
    operation_id = "usergroups_grant_project_role",
    post,
    path = "/api/rest/usergroups/{id}/projectroles",
    tag = "projectroles",
    summary = "Grant the group a role in a project; its members and the members of its subgroups hold it",
    params(("id" = String, Path, description = "A group id"), crate::rest::json::FieldsParam),
    request_body = crate::authz::input::ProjectRoleInput,
    responses((status = 200, body = crate::authz::model::ProjectRoleView), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn grant_to_group(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    params: web::Query<FieldsParam>,
    body: JsonBody<ProjectRoleInput>,
) -> Result<HttpResponse, AppError> {
    let holder = Holder::Group(path.into_inner());
    grant(&state, &principal, &params, holder, body.0).await
}

#[utoipa::path(
    operation_id = "usergroups_revoke_project_role",
    delete,
    path = "/api/rest/usergroups/{id}/projectroles/{project_role_id}",
    tag = "projectroles",
    summary = "Take a project role from the group",
    params(("id" = String, Path, description = "A group id"), ("project_role_id" = String, Path, description = "A project role id")),
    responses((status = 200, body = crate::rest::api_doc::Empty), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn revoke_from_group(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (group, id) = path.into_inner();
    revoke(&state, &principal, Holder::Group(group), id).await
}

#[utoipa::path(
    operation_id = "users_transitive_project_roles",
    get,
    path = "/api/rest/users/{id}/transitiveprojectroles",
    tag = "projectroles",
    summary = "The user's project roles and those of every group they are in, directly or through a subgroup; `owner` says which",
    params(("id" = String, Path, description = "A user id, or `me`"), crate::paging::ListParams),
    responses((status = 200, body = crate::rest::api_doc::ProjectRoleList), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn transitive_of_user(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    let id = principal.resolve_user_id(&path)?;
    resource::list(&state.pool, "projectroles", &params, move |conn, page| {
        Ok(resource::page_of(
            repo::transitive_of_user(conn, &id)?,
            page,
        ))
    })
    .await
}
