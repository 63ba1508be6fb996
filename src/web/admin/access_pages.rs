//! The console's pages of the authorization model: groups (members,
//! subgroups, project roles), roles (permissions), projects, a user's
//! groups, project roles and effective permissions, and a service's
//! permissions. Each is built by one function that the forms of
//! `access_forms` call again, with the reason, when a change is refused.
use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::common::{administrator, csrf, span, ListQuery, PAGE_ROWS};
use crate::authz::access::Held;
use crate::authz::model::{Permission, Project, ProjectRoleView, Role, GLOBAL_PROJECT_ID};
use crate::authz::project_roles::{self, Holder};
use crate::authz::{permissions, projects, roles};
use crate::db::{self, DbConn};
use crate::error::AppError;
use crate::groups::model::Group;
use crate::groups::repo as groups;
use crate::paging::Page;
use crate::state::AppState;
use crate::users::model::User;
use crate::users::repo as users;
use crate::web::page::{render, PageError};
use crate::web::templates::Span;

/// Entries offered in a select (groups, roles, projects, permissions).
const CHOICES: i64 = 1000;

fn everything() -> Page {
    Page {
        skip: 0,
        top: CHOICES,
        count_total: false,
    }
}

/// An option of a select: the value posted and the text shown.
pub struct Choice {
    pub value: String,
    pub text: String,
}

/// A project role as a row: what, where, held by whom.
pub struct GrantRow {
    pub id: String,
    pub role: String,
    pub project: String,
    /// Empty when held directly; else the group it comes through.
    pub through: String,
}

impl From<ProjectRoleView> for GrantRow {
    fn from(view: ProjectRoleView) -> Self {
        Self {
            id: view.id,
            role: view.role.name,
            project: view.project.name,
            through: match view.owner.kind {
                "usergroup" => view.owner.id,
                _ => String::new(),
            },
        }
    }
}

/// The roles and projects a grant form offers.
pub struct GrantChoices {
    pub roles: Vec<Choice>,
    pub projects: Vec<Choice>,
}

fn grant_choices(conn: &mut DbConn) -> Result<GrantChoices, AppError> {
    let (roles, _) = roles::list(conn, "", everything())?;
    let (projects, _) = projects::list(conn, "", everything())?;
    Ok(GrantChoices {
        roles: roles
            .into_iter()
            .map(|r: Role| Choice {
                value: r.id,
                text: format!("{} ({})", r.name, r.key),
            })
            .collect(),
        projects: projects
            .into_iter()
            .map(|p: Project| Choice {
                text: match p.id == GLOBAL_PROJECT_ID {
                    true => "Global: every project".to_owned(),
                    false => format!("{} ({})", p.name, p.key),
                },
                value: p.id,
            })
            .collect(),
    })
}

fn group_choices(conn: &mut DbConn) -> Result<Vec<Choice>, AppError> {
    let (found, _) = groups::list(conn, "", everything())?;
    Ok(found
        .into_iter()
        .map(|g| Choice {
            value: g.id,
            text: g.name,
        })
        .collect())
}

pub struct GroupRow {
    pub id: String,
    pub name: String,
    pub parent: String,
}

#[derive(Template)]
#[template(path = "admin/groups.html")]
pub struct GroupsPage {
    pub csrf_token: String,
    pub query: String,
    pub rows: Vec<GroupRow>,
    pub span: Span,
    pub parents: Vec<Choice>,
    pub error: Option<String>,
}

pub async fn groups_page(
    state: &AppState,
    req: &HttpRequest,
    params: &ListQuery,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let text = crate::paging::search_text(params.query.trim())?.to_owned();
    let skip = params.skip();
    let page = Page {
        skip,
        top: PAGE_ROWS,
        count_total: true,
    };
    let search = text.clone();
    let (found, total, parents) = db::run(&state.pool, move |conn| {
        let (found, total) = groups::list(conn, &search, page)?;
        Ok((found, total, group_choices(conn)?))
    })
    .await?;
    let names: HashMap<&str, &str> = parents
        .iter()
        .map(|c| (c.value.as_str(), c.text.as_str()))
        .collect();
    let rows = found
        .iter()
        .map(|g| GroupRow {
            id: g.id.clone(),
            name: g.name.clone(),
            parent: g
                .parent_id
                .as_deref()
                .and_then(|p| names.get(p))
                .map_or_else(String::new, |n| (*n).to_owned()),
        })
        .collect();
    let (csrf_token, cookies) = csrf(state, req);
    let page = GroupsPage {
        csrf_token,
        span: span("/admin/groups", &text, skip, total),
        query: text,
        rows,
        parents,
        error,
    };
    Ok(render(status, &page, cookies))
}

pub async fn groups_list(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    if let Err(redirect) = administrator(&state, &req).await? {
        return Ok(redirect);
    }
    groups_page(&state, &req, &params, StatusCode::OK, None).await
}

pub struct MemberRow {
    pub id: String,
    pub login: String,
    pub name: String,
}

impl From<User> for MemberRow {
    fn from(user: User) -> Self {
        Self {
            id: user.id,
            login: user.login,
            name: user.name,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/group.html")]
pub struct GroupPage {
    pub csrf_token: String,
    pub id: String,
    pub name: String,
    pub description: String,
    pub parent: Option<Choice>,
    pub subgroups: Vec<Choice>,
    pub members: Vec<MemberRow>,
    pub members_total: i64,
    pub grants: Vec<GrantRow>,
    /// Where a grant's revoke form posts, before `/{id}/revoke`.
    pub revoke_base: String,
    pub choices: GrantChoices,
    pub error: Option<String>,
}

pub async fn group_page(
    state: &AppState,
    req: &HttpRequest,
    id: String,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let (group, parent, subgroups, members, grants, choices) = db::run(&state.pool, move |conn| {
        let group = groups::find(conn, &id)?;
        let parent = match &group.parent_id {
            Some(parent) => groups::get(conn, parent)?,
            None => None,
        };
        let subgroups = groups::subgroups(conn, &id)?;
        let members = groups::members(conn, &id, everything_counted())?;
        let grants = project_roles::of(conn, &Holder::Group(id.clone()))?;
        Ok((
            group,
            parent,
            subgroups,
            members,
            grants,
            grant_choices(conn)?,
        ))
    })
    .await?;
    let (csrf_token, cookies) = csrf(state, req);
    let revoke_base = format!("/admin/groups/{}/projectroles", group.id);
    let as_choice = |g: Group| Choice {
        value: g.id,
        text: g.name,
    };
    let page = GroupPage {
        csrf_token,
        id: group.id,
        name: group.name,
        description: group.description.unwrap_or_default(),
        parent: parent.map(as_choice),
        subgroups: subgroups.into_iter().map(as_choice).collect(),
        members_total: members.1,
        members: members.0.into_iter().map(MemberRow::from).collect(),
        // All the group's own: held directly, so revocable here.
        grants: grants
            .into_iter()
            .map(GrantRow::from)
            .map(|row| GrantRow {
                through: String::new(),
                ..row
            })
            .collect(),
        revoke_base,
        choices,
        error,
    };
    Ok(render(status, &page, cookies))
}

fn everything_counted() -> Page {
    Page {
        count_total: true,
        ..everything()
    }
}

pub async fn group_show(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    if let Err(redirect) = administrator(&state, &req).await? {
        return Ok(redirect);
    }
    group_page(&state, &req, path.into_inner(), StatusCode::OK, None).await
}

pub struct RoleRow {
    pub id: String,
    pub key: String,
    pub name: String,
    pub permissions: String,
}

#[derive(Template)]
#[template(path = "admin/roles.html")]
pub struct RolesPage {
    pub csrf_token: String,
    pub rows: Vec<RoleRow>,
    pub error: Option<String>,
}

fn permission_text(permission: &Permission, services: &HashMap<String, String>) -> String {
    let service = services
        .get(&permission.service_id)
        .map_or(permission.service_id.as_str(), String::as_str);
    format!("{service}: {}", permission.key)
}

/// The names of the services of `ids`, by id, for naming permissions.
fn service_names<'a>(
    conn: &mut DbConn,
    ids: impl Iterator<Item = &'a str>,
) -> Result<HashMap<String, String>, AppError> {
    let mut ids: Vec<&str> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(crate::registry::repo::names_of(conn, &ids)?
        .into_iter()
        .collect())
}

pub async fn roles_page(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let rows = db::run(&state.pool, move |conn| {
        let (found, _) = roles::list(conn, "", everything())?;
        let ids: Vec<String> = found.iter().map(|r| r.id.clone()).collect();
        let mut held = roles::permissions_of(conn, &ids)?;
        let services = service_names(conn, held.values().flatten().map(|p| p.service_id.as_str()))?;
        Ok(found
            .into_iter()
            .map(|role| {
                let own = held.remove(&role.id).unwrap_or_default();
                RoleRow {
                    permissions: own
                        .iter()
                        .map(|p| permission_text(p, &services))
                        .collect::<Vec<_>>()
                        .join(", "),
                    id: role.id,
                    key: role.key,
                    name: role.name,
                }
            })
            .collect::<Vec<_>>())
    })
    .await?;
    let (csrf_token, cookies) = csrf(state, req);
    let page = RolesPage {
        csrf_token,
        rows,
        error,
    };
    Ok(render(status, &page, cookies))
}

pub async fn roles_list(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    if let Err(redirect) = administrator(&state, &req).await? {
        return Ok(redirect);
    }
    roles_page(&state, &req, StatusCode::OK, None).await
}

#[derive(Template)]
#[template(path = "admin/role.html")]
pub struct RolePage {
    pub csrf_token: String,
    pub id: String,
    pub key: String,
    pub name: String,
    pub permissions: Vec<Choice>,
    pub addable: Vec<Choice>,
    pub error: Option<String>,
}

pub async fn role_page(
    state: &AppState,
    req: &HttpRequest,
    id: String,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let (role, own, all, services) = db::run(&state.pool, move |conn| {
        let (role, own) = roles::with_permissions(conn, &id)?;
        let (all, _) = permissions::list(conn, "", None, everything())?;
        let services = service_names(conn, all.iter().map(|p| p.service_id.as_str()))?;
        Ok((role, own, all, services))
    })
    .await?;
    let choice = |p: &Permission| Choice {
        value: p.id.clone(),
        text: permission_text(p, &services),
    };
    let (csrf_token, cookies) = csrf(state, req);
    let page = RolePage {
        csrf_token,
        addable: all
            .iter()
            .filter(|p| !own.iter().any(|o| o.id == p.id))
            .map(choice)
            .collect(),
        permissions: own.iter().map(choice).collect(),
        id: role.id,
        key: role.key,
        name: role.name,
        error,
    };
    Ok(render(status, &page, cookies))
}

pub async fn role_show(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    if let Err(redirect) = administrator(&state, &req).await? {
        return Ok(redirect);
    }
    role_page(&state, &req, path.into_inner(), StatusCode::OK, None).await
}

pub struct ProjectRow {
    pub id: String,
    pub key: String,
    pub name: String,
    pub global: bool,
}

#[derive(Template)]
#[template(path = "admin/projects.html")]
pub struct ProjectsPage {
    pub csrf_token: String,
    pub query: String,
    pub rows: Vec<ProjectRow>,
    pub span: Span,
    pub error: Option<String>,
}

pub async fn projects_page(
    state: &AppState,
    req: &HttpRequest,
    params: &ListQuery,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let text = crate::paging::search_text(params.query.trim())?.to_owned();
    let skip = params.skip();
    let page = Page {
        skip,
        top: PAGE_ROWS,
        count_total: true,
    };
    let search = text.clone();
    let (found, total) =
        db::run(&state.pool, move |conn| projects::list(conn, &search, page)).await?;
    let (csrf_token, cookies) = csrf(state, req);
    let page = ProjectsPage {
        csrf_token,
        span: span("/admin/projects", &text, skip, total),
        query: text,
        rows: found
            .into_iter()
            .map(|p| ProjectRow {
                global: p.id == GLOBAL_PROJECT_ID,
                id: p.id,
                key: p.key,
                name: p.name,
            })
            .collect(),
        error,
    };
    Ok(render(status, &page, cookies))
}

pub async fn projects_list(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    if let Err(redirect) = administrator(&state, &req).await? {
        return Ok(redirect);
    }
    projects_page(&state, &req, &params, StatusCode::OK, None).await
}

/// A permission a user holds, as a row.
pub struct HeldRow {
    pub service: String,
    pub key: String,
    pub name: String,
    pub global: bool,
    pub projects: String,
}

#[derive(Template)]
#[template(path = "admin/user_access.html")]
pub struct UserAccessPage {
    pub csrf_token: String,
    pub id: String,
    pub login: String,
    pub groups: Vec<Choice>,
    pub transitive: Vec<String>,
    pub joinable: Vec<Choice>,
    pub grants: Vec<GrantRow>,
    /// Where a grant's revoke form posts, before `/{id}/revoke`.
    pub revoke_base: String,
    pub choices: GrantChoices,
    pub held: Vec<HeldRow>,
    pub error: Option<String>,
}

pub async fn user_access_page(
    state: &AppState,
    req: &HttpRequest,
    id: String,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let user_id = id.clone();
    let held: Vec<Held> = state.access.held(&state.pool, &id).await?;
    let held_services: Vec<String> = held
        .iter()
        .map(|h| h.permission.service.id.clone())
        .collect();
    let (user, direct, transitive, all_groups, grants, choices, services) =
        db::run(&state.pool, move |conn| {
            let user = users::find(conn, &user_id)?;
            let direct = groups::groups_of(conn, &user_id)?;
            let transitive = groups::transitive_groups_of(conn, &user_id)?;
            let grants = project_roles::transitive_of_user(conn, &user_id)?;
            Ok((
                user,
                direct,
                transitive,
                group_choices(conn)?,
                grants,
                grant_choices(conn)?,
                service_names(conn, held_services.iter().map(String::as_str))?,
            ))
        })
        .await?;
    let group_names: HashMap<String, String> = transitive
        .iter()
        .map(|g| (g.id.clone(), g.name.clone()))
        .collect();
    let (csrf_token, cookies) = csrf(state, req);
    let page = UserAccessPage {
        csrf_token,
        id: user.id,
        login: user.login,
        joinable: all_groups
            .into_iter()
            .filter(|c| !direct.iter().any(|g| g.id == c.value))
            .collect(),
        groups: direct
            .into_iter()
            .map(|g| Choice {
                value: g.id,
                text: g.name,
            })
            .collect(),
        transitive: transitive.into_iter().map(|g| g.name).collect(),
        grants: grants
            .into_iter()
            .map(GrantRow::from)
            .map(|mut row| {
                if let Some(name) = group_names.get(&row.through) {
                    row.through = name.clone();
                }
                row
            })
            .collect(),
        revoke_base: format!("/admin/users/{id}/projectroles"),
        choices,
        held: held
            .into_iter()
            .map(|h| HeldRow {
                service: services
                    .get(&h.permission.service.id)
                    .cloned()
                    .unwrap_or(h.permission.service.id),
                key: h.permission.key,
                name: h.permission.name,
                global: h.global,
                projects: h
                    .projects
                    .iter()
                    .map(|p| p.key.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
            .collect(),
        error,
    };
    Ok(render(status, &page, cookies))
}

pub async fn user_access(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    if let Err(redirect) = administrator(&state, &req).await? {
        return Ok(redirect);
    }
    user_access_page(&state, &req, path.into_inner(), StatusCode::OK, None).await
}

pub struct PermissionRow {
    pub id: String,
    pub key: String,
    pub name: String,
    pub description: String,
}

#[derive(Template)]
#[template(path = "admin/service_permissions.html")]
pub struct ServicePermissionsPage {
    pub csrf_token: String,
    pub id: String,
    pub name: String,
    pub rows: Vec<PermissionRow>,
    pub error: Option<String>,
}

pub async fn service_permissions_page(
    state: &AppState,
    req: &HttpRequest,
    id: String,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let (service, found) = db::run(&state.pool, move |conn| {
        let service = crate::registry::repo::find(conn, &id)?;
        let (found, _) = permissions::list(conn, "", Some(&id), everything())?;
        Ok((service, found))
    })
    .await?;
    let (csrf_token, cookies) = csrf(state, req);
    let page = ServicePermissionsPage {
        csrf_token,
        id: service.id,
        name: service.name,
        rows: found
            .into_iter()
            .map(|p| PermissionRow {
                id: p.id,
                key: p.key,
                name: p.name,
                description: p.description.unwrap_or_default(),
            })
            .collect(),
        error,
    };
    Ok(render(status, &page, cookies))
}

pub async fn service_permissions(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    if let Err(redirect) = administrator(&state, &req).await? {
        return Ok(redirect);
    }
    service_permissions_page(&state, &req, path.into_inner(), StatusCode::OK, None).await
}
