//! `/api/rest/roles` and a role's permissions: thin handlers over
//! `authz::roles`, for admins.
use actix_web::{web, HttpResponse};

use super::authn::Principal;
use super::json::{FieldsParam, JsonBody};
use super::resource::{self, Collection};
use crate::authz::input::KeyedInput;
use crate::authz::model::{PermissionView, RoleView};
use crate::authz::roles as repo;
use crate::db::DbConn;
use crate::error::AppError;
use crate::groups::model::Ref;
use crate::paging::ListParams;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    Collection::at("/api/rest/roles/{id}/permissions", "{permission_id}")
        .list(permissions)
        .create(add_permission)
        .delete(remove_permission)
        .register(cfg);
    Collection::at("/api/rest/roles", "{id}")
        .list(list)
        .create(create)
        .get(get)
        .update(update)
        .delete(delete)
        .register(cfg);
}

fn view(conn: &mut DbConn, id: &str) -> Result<RoleView, AppError> {
    let (role, permissions) = repo::with_permissions(conn, id)?;
    Ok(RoleView::new(role, permissions))
}

#[utoipa::path(
    operation_id = "roles_create",
    post,
    path = "/api/rest/roles",
    tag = "roles",
    summary = "Create a role, with the `permissions` it bundles",
    params(crate::rest::json::FieldsParam),
    request_body = crate::authz::input::KeyedInput,
    responses((status = 200, body = crate::authz::model::RoleView), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<FieldsParam>,
    body: JsonBody<KeyedInput>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let (changes, permissions) = body.0.check(true)?;
    let caller = principal.caller();
    let created = resource::one(&state.pool, &params, move |conn| {
        let role = repo::create(conn, changes, permissions, crate::clock::now(), &caller)?;
        view(conn, &role.id)
    })
    .await;
    // Told whether or not the answer got out: the write may have committed.
    // What is new may be named by the next grant this instance reads.
    state.access.graph_changed();
    created
}

#[utoipa::path(
    operation_id = "roles_list",
    get,
    path = "/api/rest/roles",
    tag = "roles",
    summary = "List roles by key; `query` keeps those whose key or name contains every word",
    params(crate::paging::ListParams),
    responses((status = 200, body = crate::rest::api_doc::RoleList), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let text = params.search_text()?.to_owned();
    resource::list(&state.pool, "roles", &params, move |conn, page| {
        let (found, total) = repo::list(conn, &text, page)?;
        let ids: Vec<String> = found.iter().map(|role| role.id.clone()).collect();
        let mut permissions = repo::permissions_of(conn, &ids)?;
        let views = found
            .into_iter()
            .map(|role| {
                let own = permissions.remove(&role.id).unwrap_or_default();
                RoleView::new(role, own)
            })
            .collect();
        Ok((views, total))
    })
    .await
}

#[utoipa::path(
    operation_id = "roles_get",
    get,
    path = "/api/rest/roles/{id}",
    tag = "roles",
    summary = "One role, with its permissions",
    params(("id" = String, Path, description = "A role id"), crate::rest::json::FieldsParam),
    responses((status = 200, body = crate::authz::model::RoleView), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn get(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    params: web::Query<FieldsParam>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let id = path.into_inner();
    resource::one(&state.pool, &params, move |conn| view(conn, &id)).await
}

#[utoipa::path(
    operation_id = "roles_update",
    post,
    path = "/api/rest/roles/{id}",
    tag = "roles",
    summary = "Update part of a role: absent fields stay; `permissions` replaces the list",
    params(("id" = String, Path, description = "A role id"), crate::rest::json::FieldsParam),
    request_body = crate::authz::input::KeyedInput,
    responses((status = 200, body = crate::authz::model::RoleView), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    params: web::Query<FieldsParam>,
    body: JsonBody<KeyedInput>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let (changes, permissions) = body.0.check(false)?;
    let (id, caller) = (path.into_inner(), principal.caller());
    let updated = resource::one(&state.pool, &params, move |conn| {
        repo::update(
            conn,
            &id,
            changes,
            permissions,
            crate::clock::now(),
            &caller,
        )?;
        view(conn, &id)
    })
    .await;
    // Told whether or not the answer got out: the write may have committed.
    state.access.graph_changed();
    updated
}

#[utoipa::path(
    operation_id = "roles_delete",
    delete,
    path = "/api/rest/roles/{id}",
    tag = "roles",
    summary = "Delete a role; every grant of it in a project goes with it",
    params(("id" = String, Path, description = "A role id")),
    responses((status = 200, body = crate::rest::api_doc::Empty), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn delete(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let (id, caller) = (path.into_inner(), principal.caller());
    let deleted = resource::delete(&state.pool, move |conn| {
        repo::delete(conn, &id, crate::clock::now(), &caller)
    })
    .await;
    // Told whether or not the answer got out: the write may have committed.
    state.access.graph_changed();
    deleted
}

#[utoipa::path(
    operation_id = "roles_permissions",
    get,
    path = "/api/rest/roles/{id}/permissions",
    tag = "roles",
    summary = "The role's permissions, by service and key",
    params(("id" = String, Path, description = "A role id"), crate::paging::ListParams),
    responses((status = 200, body = crate::rest::api_doc::PermissionList), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn permissions(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let id = path.into_inner();
    resource::list(&state.pool, "permissions", &params, move |conn, page| {
        let (_, own) = repo::with_permissions(conn, &id)?;
        Ok(resource::page_of(
            own.into_iter().map(PermissionView::from).collect(),
            page,
        ))
    })
    .await
}

#[utoipa::path(
    operation_id = "roles_add_permission",
    post,
    path = "/api/rest/roles/{id}/permissions",
    tag = "roles",
    summary = "Add a permission to the role (`{\"id\": permissionId}`); there already is no change",
    params(("id" = String, Path, description = "A role id"), crate::rest::json::FieldsParam),
    request_body = crate::groups::model::Ref,
    responses((status = 200, body = crate::authz::model::RoleView), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn add_permission(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    params: web::Query<FieldsParam>,
    body: JsonBody<Ref>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let (id, permission, caller) = (path.into_inner(), body.0.id, principal.caller());
    let added = resource::one(&state.pool, &params, move |conn| {
        repo::add_permission(conn, &id, &permission, crate::clock::now(), &caller)?;
        view(conn, &id)
    })
    .await;
    // Told whether or not the answer got out: the write may have committed.
    state.access.graph_changed();
    added
}

#[utoipa::path(
    operation_id = "roles_remove_permission",
    delete,
    path = "/api/rest/roles/{id}/permissions/{permission_id}",
    tag = "roles",
    summary = "Remove a permission from the role",
    params(("id" = String, Path, description = "A role id"), ("permission_id" = String, Path, description = "A permission id")),
    responses((status = 200, body = crate::rest::api_doc::Empty), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn remove_permission(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let ((id, permission), caller) = (path.into_inner(), principal.caller());
    let removed = resource::delete(&state.pool, move |conn| {
        repo::remove_permission(conn, &id, &permission, crate::clock::now(), &caller)
    })
    .await;
    // Told whether or not the answer got out: the write may have committed.
    state.access.graph_changed();
    removed
}
