//! `/api/rest/usergroups` and a user's groups: thin handlers over
//! `groups::repo`. Admins manage groups and members; a user may read their
//! own groups (`/api/rest/users/me/groups`, `/transitivegroups`).
use actix_web::{web, HttpResponse};

use super::authn::Principal;
use super::json::{FieldsParam, JsonBody};
use super::resource::{self, Collection};
use crate::db::DbConn;
use crate::error::AppError;
use crate::groups::input::GroupInput;
use crate::groups::model::{Group, GroupView, Ref};
use crate::groups::repo;
use crate::paging::ListParams;
use crate::state::AppState;
use crate::users::model::UserView;

pub fn routes(cfg: &mut web::ServiceConfig) {
    Collection::at("/api/rest/usergroups/{id}/users", "{user_id}")
        .list(members)
        .create(add_member)
        .delete(remove_member)
        .register(cfg);
    cfg.route("/api/rest/users/{id}/groups", web::get().to(groups_of))
        .route(
            "/api/rest/users/{id}/transitivegroups",
            web::get().to(transitive_groups_of),
        );
    Collection::at("/api/rest/usergroups", "{id}")
        .list(list)
        .create(create)
        .get(get)
        .update(update)
        .delete(delete)
        .register(cfg);
}

#[utoipa::path(
    operation_id = "usergroups_create",
    post,
    path = "/api/rest/usergroups",
    tag = "usergroups",
    summary = "Create a group, at the top or inside another (`parent`)",
    params(crate::rest::json::FieldsParam),
    request_body = crate::groups::input::GroupInput,
    responses((status = 200, body = crate::groups::model::GroupView), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<FieldsParam>,
    body: JsonBody<GroupInput>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let changes = body.0.check(true)?;
    let caller = principal.caller();
    let created = resource::one(&state.pool, &params, move |conn| {
        repo::create(conn, changes, crate::clock::now(), &caller).map(GroupView::from)
    })
    .await;
    // Told whether or not the answer got out: the write may have committed.
    // What is new may be named by the next grant this instance reads.
    state.access.graph_changed();
    created
}

#[utoipa::path(
    operation_id = "usergroups_list",
    get,
    path = "/api/rest/usergroups",
    tag = "usergroups",
    summary = "List groups by name; `query` keeps those whose name contains every word",
    params(crate::paging::ListParams),
    responses((status = 200, body = crate::rest::api_doc::GroupList), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let text = params.search_text()?.to_owned();
    resource::list(&state.pool, "usergroups", &params, move |conn, page| {
        let (found, total) = repo::list(conn, &text, page)?;
        Ok((found.into_iter().map(GroupView::from).collect(), total))
    })
    .await
}

#[utoipa::path(
    operation_id = "usergroups_get",
    get,
    path = "/api/rest/usergroups/{id}",
    tag = "usergroups",
    summary = "One group",
    params(("id" = String, Path, description = "A group id"), crate::rest::json::FieldsParam),
    responses((status = 200, body = crate::groups::model::GroupView), crate::rest::api_doc::RestErrors),
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
    resource::one(&state.pool, &params, move |conn| {
        repo::find(conn, &id).map(GroupView::from)
    })
    .await
}

#[utoipa::path(
    operation_id = "usergroups_update",
    post,
    path = "/api/rest/usergroups/{id}",
    tag = "usergroups",
    summary = "Update part of a group: absent fields stay, null clears; a parent inside the group itself is refused",
    params(("id" = String, Path, description = "A group id"), crate::rest::json::FieldsParam),
    request_body = crate::groups::input::GroupInput,
    responses((status = 200, body = crate::groups::model::GroupView), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    params: web::Query<FieldsParam>,
    body: JsonBody<GroupInput>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let changes = body.0.check(false)?;
    let (id, caller) = (path.into_inner(), principal.caller());
    let updated = resource::one(&state.pool, &params, move |conn| {
        repo::update(conn, &id, changes, crate::clock::now(), &caller).map(GroupView::from)
    })
    .await;
    // Told whether or not the answer got out: the write may have committed.
    state.access.graph_changed();
    updated
}

#[utoipa::path(
    operation_id = "usergroups_delete",
    delete,
    path = "/api/rest/usergroups/{id}",
    tag = "usergroups",
    summary = "Delete a group without subgroups; its memberships go with it",
    params(("id" = String, Path, description = "A group id")),
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
    operation_id = "usergroups_members",
    get,
    path = "/api/rest/usergroups/{id}/users",
    tag = "usergroups",
    summary = "The group's direct members, by login",
    params(("id" = String, Path, description = "A group id"), crate::paging::ListParams),
    responses((status = 200, body = crate::rest::api_doc::UserList), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn members(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let id = path.into_inner();
    resource::list(&state.pool, "users", &params, move |conn, page| {
        let (found, total) = repo::members(conn, &id, page)?;
        Ok((found.iter().map(UserView::from).collect(), total))
    })
    .await
}

#[utoipa::path(
    operation_id = "usergroups_add_member",
    post,
    path = "/api/rest/usergroups/{id}/users",
    tag = "usergroups",
    summary = "Add a user to the group (`{\"id\": userId}`); a member already is no change",
    params(("id" = String, Path, description = "A group id"), crate::rest::json::FieldsParam),
    request_body = crate::groups::model::Ref,
    responses((status = 200, body = crate::users::model::UserView), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn add_member(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    params: web::Query<FieldsParam>,
    body: JsonBody<Ref>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let (id, user_id, caller) = (path.into_inner(), body.0.id, principal.caller());
    let member = user_id.clone();
    let added = resource::one(&state.pool, &params, move |conn| {
        repo::add_member(conn, &id, &member, crate::clock::now(), &caller)?;
        crate::users::repo::find(conn, &member).map(|user| UserView::from(&user))
    })
    .await;
    // Told whether or not the answer got out: the write may have committed.
    state.access.user_changed(&user_id);
    added
}

#[utoipa::path(
    operation_id = "usergroups_remove_member",
    delete,
    path = "/api/rest/usergroups/{id}/users/{user_id}",
    tag = "usergroups",
    summary = "Remove a user from the group",
    params(("id" = String, Path, description = "A group id"), ("user_id" = String, Path, description = "A member's user id")),
    responses((status = 200, body = crate::rest::api_doc::Empty), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn remove_member(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let ((id, user_id), caller) = (path.into_inner(), principal.caller());
    let member = user_id.clone();
    let removed = resource::delete(&state.pool, move |conn| {
        repo::remove_member(conn, &id, &member, crate::clock::now(), &caller)
    })
    .await;
    // Told whether or not the answer got out: the write may have committed.
    state.access.user_changed(&user_id);
    removed
}

#[utoipa::path(
    operation_id = "users_groups",
    get,
    path = "/api/rest/users/{id}/groups",
    tag = "usergroups",
    summary = "The groups the user is a direct member of (their own, or anyone's for an admin)",
    params(("id" = String, Path, description = "A user id, or `me`"), crate::paging::ListParams),
    responses((status = 200, body = crate::rest::api_doc::GroupList), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn groups_of(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    groups_of_user(&state, &principal, &path, &params, repo::groups_of).await
}

#[utoipa::path(
    operation_id = "users_transitive_groups",
    get,
    path = "/api/rest/users/{id}/transitivegroups",
    tag = "usergroups",
    summary = "The user's groups and every group they are inside",
    params(("id" = String, Path, description = "A user id, or `me`"), crate::paging::ListParams),
    responses((status = 200, body = crate::rest::api_doc::GroupList), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn transitive_groups_of(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    groups_of_user(
        &state,
        &principal,
        &path,
        &params,
        repo::transitive_groups_of,
    )
    .await
}

/// A user's groups as `read` finds them, paged in Hub's envelope: the
/// caller's own, or anyone's for an admin.
async fn groups_of_user(
    state: &AppState,
    principal: &Principal,
    path_id: &str,
    params: &ListParams,
    read: fn(&mut DbConn, &str) -> Result<Vec<Group>, AppError>,
) -> Result<HttpResponse, AppError> {
    let id = principal.resolve_user_id(path_id)?;
    resource::list(&state.pool, "usergroups", params, move |conn, page| {
        let found = read(conn, &id)?;
        Ok(resource::page_of(
            found.into_iter().map(GroupView::from).collect(),
            page,
        ))
    })
    .await
}
