//! The console's forms of the authorization model, over the same domain
//! functions as the REST API: each checks the administrator and the CSRF
//! token, changes, tells the permission cache, and goes back to its page;
//! a refused change (a cycle, a name taken, an unknown login) shows that
//! page again with the reason.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::access_pages::{
    group_page, groups_page, projects_page, role_page, roles_page, service_permissions_page,
    user_access_page,
};
use super::common::{
    administrator, confirm_page, form_administrator, refusal, Confirmation, ListQuery,
};
use crate::audit::Caller;
use crate::authz::input::{KeyedInput, PermissionInput};
use crate::authz::model::GLOBAL_PROJECT_ID;
use crate::authz::permissions::{self, Steward};
use crate::authz::project_roles::{self, Holder};
use crate::authz::{projects, roles};
use crate::clock;
use crate::db::{self, DbConn};
use crate::error::AppError;
use crate::groups::input::GroupInput;
use crate::groups::model::Ref;
use crate::groups::repo as groups;
use crate::state::AppState;
use crate::users::repo as users;
use crate::web::login::CsrfOnly;
use crate::web::page::{see_other, PageError};

/// Runs `work` for the administrator who sent the form: `Err` with the
/// reason when the change is refused.
async fn act<T, F>(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    csrf_token: Option<&str>,
    work: F,
) -> Result<Result<T, String>, PageError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn, &Caller) -> Result<T, AppError> + Send + 'static,
{
    let admin = form_administrator(state, req, csrf_token).await?;
    let caller = Caller::user(&admin.user.id, state.origin(req));
    match db::run(&state.pool, move |conn| work(conn, &caller)).await {
        Ok(done) => Ok(Ok(done)),
        Err(error) => refusal(error).map(Err),
    }
}

fn blank_to_none(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

#[derive(Deserialize)]
pub struct NewGroupForm {
    csrf_token: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    parent: String,
}

pub async fn create_group(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<NewGroupForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    let input = GroupInput {
        name: Some(form.name),
        description: None,
        parent: blank_to_none(&form.parent).map(|id| Some(Ref { id })),
    };
    let created = act(
        &state,
        &req,
        form.csrf_token.as_deref(),
        move |conn, caller| groups::create(conn, input.check(true)?, clock::now(), caller),
    )
    .await?;
    match created {
        Ok(group) => {
            state.access.graph_changed();
            Ok(see_other(&format!("/admin/groups/{}", group.id), vec![]))
        }
        Err(reason) => {
            let list = ListQuery::default();
            groups_page(&state, &req, &list, StatusCode::BAD_REQUEST, Some(reason)).await
        }
    }
}

#[derive(Deserialize)]
pub struct LoginForm {
    csrf_token: Option<String>,
    #[serde(default)]
    login: String,
}

pub async fn add_member(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, PageError> {
    let (id, form) = (path.into_inner(), form.into_inner());
    let group = id.clone();
    let added = act(
        &state,
        &req,
        form.csrf_token.as_deref(),
        move |conn, caller| {
            let user = users::find_by_login(conn, form.login.trim())?
                .ok_or_else(|| AppError::bad_field("login", "there is no user with that login"))?;
            groups::add_member(conn, &group, &user.id, clock::now(), caller)?;
            Ok(user.id)
        },
    )
    .await?;
    match added {
        Ok(user_id) => {
            state.access.user_changed(&user_id);
            Ok(see_other(&format!("/admin/groups/{id}"), vec![]))
        }
        Err(reason) => group_page(&state, &req, id, StatusCode::BAD_REQUEST, Some(reason)).await,
    }
}

pub async fn remove_member(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    let (id, user_id) = path.into_inner();
    let (group, member) = (id.clone(), user_id.clone());
    act(
        &state,
        &req,
        form.csrf_token.as_deref(),
        move |conn, caller| groups::remove_member(conn, &group, &member, clock::now(), caller),
    )
    .await?
    .map_err(PageError::bad_request)?;
    state.access.user_changed(&user_id);
    Ok(see_other(&format!("/admin/groups/{id}"), vec![]))
}

#[derive(Deserialize)]
pub struct GrantForm {
    csrf_token: Option<String>,
    #[serde(default)]
    role: String,
    #[serde(default)]
    project: String,
}

/// Grants the form's role in its project (Global when none) to `holder`.
async fn grant(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    holder: Holder,
    form: GrantForm,
) -> Result<Result<(), String>, PageError> {
    let project = blank_to_none(&form.project).unwrap_or_else(|| GLOBAL_PROJECT_ID.to_owned());
    let held = holder.clone();
    let granted = act(
        state,
        req,
        form.csrf_token.as_deref(),
        move |conn, caller| {
            project_roles::grant(conn, &held, &form.role, &project, clock::now(), caller).map(drop)
        },
    )
    .await?;
    if granted.is_ok() {
        tell_cache(state, &holder);
    }
    Ok(granted)
}

fn tell_cache(state: &AppState, holder: &Holder) {
    match holder {
        Holder::User(id) => state.access.user_changed(id),
        Holder::Group(_) => state.access.graph_changed(),
    }
}

async fn revoke(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    holder: Holder,
    project_role: String,
    csrf_token: Option<&str>,
) -> Result<(), PageError> {
    let held = holder.clone();
    act(state, req, csrf_token, move |conn, caller| {
        project_roles::revoke(conn, &held, &project_role, clock::now(), caller)
    })
    .await?
    .map_err(PageError::bad_request)?;
    tell_cache(state, &holder);
    Ok(())
}

pub async fn grant_to_group(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<GrantForm>,
) -> Result<HttpResponse, PageError> {
    let id = path.into_inner();
    match grant(&state, &req, Holder::Group(id.clone()), form.into_inner()).await? {
        Ok(()) => Ok(see_other(&format!("/admin/groups/{id}"), vec![])),
        Err(reason) => group_page(&state, &req, id, StatusCode::BAD_REQUEST, Some(reason)).await,
    }
}

pub async fn revoke_from_group(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    let (id, project_role) = path.into_inner();
    let holder = Holder::Group(id.clone());
    revoke(
        &state,
        &req,
        holder,
        project_role,
        form.csrf_token.as_deref(),
    )
    .await?;
    Ok(see_other(&format!("/admin/groups/{id}"), vec![]))
}

#[derive(Deserialize)]
pub struct GroupChoiceForm {
    csrf_token: Option<String>,
    #[serde(default)]
    group: String,
}

pub async fn join_group(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<GroupChoiceForm>,
) -> Result<HttpResponse, PageError> {
    let (id, form) = (path.into_inner(), form.into_inner());
    let user = id.clone();
    let joined = act(
        &state,
        &req,
        form.csrf_token.as_deref(),
        move |conn, caller| groups::add_member(conn, &form.group, &user, clock::now(), caller),
    )
    .await?;
    match joined {
        Ok(()) => {
            state.access.user_changed(&id);
            Ok(see_other(&format!("/admin/users/{id}/access"), vec![]))
        }
        Err(reason) => {
            user_access_page(&state, &req, id, StatusCode::BAD_REQUEST, Some(reason)).await
        }
    }
}

pub async fn leave_group(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    let (id, group) = path.into_inner();
    let user = id.clone();
    act(
        &state,
        &req,
        form.csrf_token.as_deref(),
        move |conn, caller| groups::remove_member(conn, &group, &user, clock::now(), caller),
    )
    .await?
    .map_err(PageError::bad_request)?;
    state.access.user_changed(&id);
    Ok(see_other(&format!("/admin/users/{id}/access"), vec![]))
}

pub async fn grant_to_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<GrantForm>,
) -> Result<HttpResponse, PageError> {
    let id = path.into_inner();
    match grant(&state, &req, Holder::User(id.clone()), form.into_inner()).await? {
        Ok(()) => Ok(see_other(&format!("/admin/users/{id}/access"), vec![])),
        Err(reason) => {
            user_access_page(&state, &req, id, StatusCode::BAD_REQUEST, Some(reason)).await
        }
    }
}

pub async fn revoke_from_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    let (id, project_role) = path.into_inner();
    let holder = Holder::User(id.clone());
    revoke(
        &state,
        &req,
        holder,
        project_role,
        form.csrf_token.as_deref(),
    )
    .await?;
    Ok(see_other(&format!("/admin/users/{id}/access"), vec![]))
}

#[derive(Deserialize)]
pub struct KeyedForm {
    csrf_token: Option<String>,
    #[serde(default)]
    key: String,
    #[serde(default)]
    name: String,
}

impl KeyedForm {
    fn input(&self) -> KeyedInput {
        KeyedInput {
            key: Some(self.key.clone()),
            name: blank_to_none(&self.name),
            ..KeyedInput::default()
        }
    }
}

pub async fn create_role(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<KeyedForm>,
) -> Result<HttpResponse, PageError> {
    let input = form.input();
    let created = act(
        &state,
        &req,
        form.csrf_token.as_deref(),
        move |conn, caller| {
            let (changes, _) = input.check(true)?;
            roles::create(conn, changes, None, clock::now(), caller)
        },
    )
    .await?;
    match created {
        Ok(role) => Ok(see_other(&format!("/admin/roles/{}", role.id), vec![])),
        Err(reason) => roles_page(&state, &req, StatusCode::BAD_REQUEST, Some(reason)).await,
    }
}

#[derive(Deserialize)]
pub struct PermissionChoiceForm {
    csrf_token: Option<String>,
    #[serde(default)]
    permission: String,
}

pub async fn add_role_permission(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<PermissionChoiceForm>,
) -> Result<HttpResponse, PageError> {
    let (id, form) = (path.into_inner(), form.into_inner());
    let role = id.clone();
    let added = act(
        &state,
        &req,
        form.csrf_token.as_deref(),
        move |conn, caller| {
            roles::add_permission(conn, &role, &form.permission, clock::now(), caller)
        },
    )
    .await?;
    match added {
        Ok(()) => {
            state.access.graph_changed();
            Ok(see_other(&format!("/admin/roles/{id}"), vec![]))
        }
        Err(reason) => role_page(&state, &req, id, StatusCode::BAD_REQUEST, Some(reason)).await,
    }
}

pub async fn remove_role_permission(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    let (id, permission) = path.into_inner();
    let role = id.clone();
    act(
        &state,
        &req,
        form.csrf_token.as_deref(),
        move |conn, caller| {
            roles::remove_permission(conn, &role, &permission, clock::now(), caller)
        },
    )
    .await?
    .map_err(PageError::bad_request)?;
    state.access.graph_changed();
    Ok(see_other(&format!("/admin/roles/{id}"), vec![]))
}

pub async fn create_project(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<KeyedForm>,
) -> Result<HttpResponse, PageError> {
    let input = form.input();
    let created = act(
        &state,
        &req,
        form.csrf_token.as_deref(),
        move |conn, caller| {
            let (changes, _) = input.check(true)?;
            projects::create(conn, changes, clock::now(), caller)
        },
    )
    .await?;
    match created {
        Ok(_) => {
            state.access.graph_changed();
            Ok(see_other("/admin/projects", vec![]))
        }
        Err(reason) => {
            let list = ListQuery::default();
            projects_page(&state, &req, &list, StatusCode::BAD_REQUEST, Some(reason)).await
        }
    }
}

pub async fn declare_permission(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<KeyedForm>,
) -> Result<HttpResponse, PageError> {
    let id = path.into_inner();
    let input = PermissionInput {
        key: Some(form.key.clone()),
        name: blank_to_none(&form.name),
        ..PermissionInput::default()
    };
    let service = id.clone();
    let declared = act(
        &state,
        &req,
        form.csrf_token.as_deref(),
        move |conn, caller| {
            permissions::create(conn, &service, input.check(true)?, clock::now(), caller)
        },
    )
    .await?;
    match declared {
        Ok(_) => Ok(see_other(
            &format!("/admin/services/{id}/permissions"),
            vec![],
        )),
        Err(reason) => {
            service_permissions_page(&state, &req, id, StatusCode::BAD_REQUEST, Some(reason)).await
        }
    }
}

pub async fn delete_permission(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    let (id, permission) = path.into_inner();
    let service = id.clone();
    act(
        &state,
        &req,
        form.csrf_token.as_deref(),
        move |conn, caller| {
            let own = Steward::Service(&service);
            permissions::delete(conn, &permission, own, clock::now(), caller)
        },
    )
    .await?
    .map_err(PageError::bad_request)?;
    state.access.graph_changed();
    Ok(see_other(
        &format!("/admin/services/{id}/permissions"),
        vec![],
    ))
}

/// What the console deletes after asking: a group, a role or a project.
#[derive(Clone, Copy)]
pub enum Deletable {
    Group,
    Role,
    Project,
}

impl Deletable {
    /// What `/admin/{kind}/{id}/delete` names.
    fn of(req: &HttpRequest) -> Result<Self, PageError> {
        match req.path().split('/').nth(2) {
            Some("groups") => Ok(Self::Group),
            Some("roles") => Ok(Self::Role),
            Some("projects") => Ok(Self::Project),
            _ => Err(AppError::not_found("page").into()),
        }
    }

    fn path(self) -> &'static str {
        match self {
            Self::Group => "groups",
            Self::Role => "roles",
            Self::Project => "projects",
        }
    }

    fn question(self) -> &'static str {
        match self {
            Self::Group => "The group and its memberships and project roles are deleted; its members stay. A group with subgroups cannot be deleted.",
            Self::Role => "The role is deleted, and every grant of it in a project.",
            Self::Project => "The project is deleted, and every role granted in it.",
        }
    }
}

/// "Are you sure?" before a group, role or project is deleted.
pub async fn confirm_delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    if let Err(redirect) = administrator(&state, &req).await? {
        return Ok(redirect);
    }
    let (deletable, id) = (Deletable::of(&req)?, path.into_inner());
    let kind = deletable.path();
    let asked = Confirmation {
        heading: format!("Delete this {}?", kind.trim_end_matches('s')),
        message: deletable.question(),
        action: format!("/admin/{kind}/{id}/delete"),
        button: "Delete",
        cancel: match deletable {
            Deletable::Project => "/admin/projects".to_owned(),
            _ => format!("/admin/{kind}/{id}"),
        },
    };
    Ok(confirm_page(&state, &req, asked))
}

pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    let (deletable, target) = (Deletable::of(&req)?, path.into_inner());
    act(
        &state,
        &req,
        form.csrf_token.as_deref(),
        move |conn, caller| {
            let now = clock::now();
            match deletable {
                Deletable::Group => groups::delete(conn, &target, now, caller),
                Deletable::Role => roles::delete(conn, &target, now, caller),
                Deletable::Project => projects::delete(conn, &target, now, caller),
            }
        },
    )
    .await?
    .map_err(PageError::bad_request)?;
    state.access.graph_changed();
    Ok(see_other(&format!("/admin/{}", deletable.path()), vec![]))
}
