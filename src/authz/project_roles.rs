//! Roles granted in a project, to a user or to a group. Granting what is
//! already granted is no change. A user's transitive project roles add
//! those of every group they are in, directly or through a subgroup.
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{Project, ProjectRole, ProjectRoleView, Role};
use super::{projects, roles};
use crate::audit::{self, Caller, Kind};
use crate::db::schema::{project_roles, projects as project_rows, roles as role_rows};
use crate::db::{lower, DbConn};
use crate::error::AppError;

/// Who holds a project role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    User(String),
    Group(String),
}

impl Holder {
    fn check_exists(&self, conn: &mut DbConn) -> Result<(), AppError> {
        match self {
            Holder::User(id) => crate::users::repo::find(conn, id).map(drop),
            Holder::Group(id) => crate::groups::repo::find(conn, id).map(drop),
        }
    }

    fn record(&self, event: audit::Event) -> audit::Event {
        match self {
            Holder::User(id) => event.user(id.clone()),
            Holder::Group(id) => event.detail("group", id.clone()),
        }
    }
}

/// The project roles of `holders`, as the API shows them, by project then role.
fn views_of(conn: &mut DbConn, holders: &[Holder]) -> Result<Vec<ProjectRoleView>, AppError> {
    let users: Vec<&String> = holders
        .iter()
        .filter_map(|h| match h {
            Holder::User(id) => Some(id),
            Holder::Group(_) => None,
        })
        .collect();
    let groups: Vec<&String> = holders
        .iter()
        .filter_map(|h| match h {
            Holder::Group(id) => Some(id),
            Holder::User(_) => None,
        })
        .collect();
    let rows: Vec<(ProjectRole, Role, Project)> = project_roles::table
        .inner_join(role_rows::table)
        .inner_join(project_rows::table)
        .filter(
            project_roles::user_id
                .eq_any(users)
                .or(project_roles::group_id.eq_any(groups)),
        )
        .order((
            lower(project_rows::key),
            lower(role_rows::key),
            project_roles::id,
        ))
        .select((
            ProjectRole::as_select(),
            Role::as_select(),
            Project::as_select(),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(grant, role, project)| ProjectRoleView::new(grant, &role, &project))
        .collect())
}

/// The project roles granted to `holder` itself.
pub fn of(conn: &mut DbConn, holder: &Holder) -> Result<Vec<ProjectRoleView>, AppError> {
    holder.check_exists(conn)?;
    views_of(conn, std::slice::from_ref(holder))
}

/// The project roles of user `id` and of every group they are in,
/// directly or through a subgroup; `owner` says which.
pub fn transitive_of_user(conn: &mut DbConn, id: &str) -> Result<Vec<ProjectRoleView>, AppError> {
    crate::users::repo::find(conn, id)?;
    let mut holders = vec![Holder::User(id.to_owned())];
    holders.extend(
        crate::groups::repo::transitive_groups_of(conn, id)?
            .into_iter()
            .map(|group| Holder::Group(group.id)),
    );
    views_of(conn, &holders)
}

fn existing(
    conn: &mut DbConn,
    holder: &Holder,
    role_id: &str,
    project_id: &str,
) -> Result<Option<ProjectRole>, AppError> {
    let mut query = project_roles::table
        .filter(project_roles::role_id.eq(role_id))
        .filter(project_roles::project_id.eq(project_id))
        .into_boxed();
    query = match holder {
        Holder::User(id) => query.filter(project_roles::user_id.eq(id.clone())),
        Holder::Group(id) => query.filter(project_roles::group_id.eq(id.clone())),
    };
    Ok(query
        .select(ProjectRole::as_select())
        .first(conn)
        .optional()?)
}

/// A role or project named in a body that does not exist is a bad field;
/// any other failure stays what it is.
fn missing_as_field(error: AppError, field: &str) -> AppError {
    match error {
        AppError::NotFound(_) => {
            AppError::bad_field(field, format!("there is no {field} with that id"))
        }
        other => other,
    }
}

/// Grants role `role_id` in project `project_id` to `holder`.
pub fn grant(
    conn: &mut DbConn,
    holder: &Holder,
    role_id: &str,
    project_id: &str,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<ProjectRoleView, AppError> {
    let granted = crate::db::transaction(conn, |conn| {
        holder.check_exists(conn)?;
        let role = roles::find(conn, role_id).map_err(|e| missing_as_field(e, "role"))?;
        let project =
            projects::find(conn, project_id).map_err(|e| missing_as_field(e, "project"))?;
        if let Some(held) = existing(conn, holder, role_id, project_id)? {
            return Ok(ProjectRoleView::new(held, &role, &project));
        }
        let (user_id, group_id) = match holder {
            Holder::User(id) => (Some(id.clone()), None),
            Holder::Group(id) => (None, Some(id.clone())),
        };
        let row = ProjectRole {
            id: uuid::Uuid::new_v4().to_string(),
            role_id: role.id.clone(),
            project_id: project.id.clone(),
            user_id,
            group_id,
            created: now,
        };
        diesel::insert_into(project_roles::table)
            .values(&row)
            .execute(conn)?;
        let event = caller
            .event(Kind::ProjectRoleGranted)
            .detail("project_role", row.id.clone())
            .detail("role", role.id.clone())
            .detail("project", project.id.clone());
        audit::store::record(conn, &holder.record(event), now)?;
        Ok(ProjectRoleView::new(row, &role, &project))
    });
    match granted {
        // Granted by another request at the same moment (PostgreSQL).
        Err(AppError::Conflict { .. }) => {
            let role = roles::find(conn, role_id)?;
            let project = projects::find(conn, project_id)?;
            let held = existing(conn, holder, role_id, project_id)?
                .ok_or_else(|| AppError::not_found("project role"))?;
            Ok(ProjectRoleView::new(held, &role, &project))
        }
        other => other,
    }
}

/// Removes project role `id` from `holder`.
pub fn revoke(
    conn: &mut DbConn,
    holder: &Holder,
    id: &str,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<(), AppError> {
    crate::db::transaction(conn, |conn| {
        let mut query = diesel::delete(project_roles::table)
            .filter(project_roles::id.eq(id))
            .into_boxed();
        query = match holder {
            Holder::User(owner) => query.filter(project_roles::user_id.eq(owner.clone())),
            Holder::Group(owner) => query.filter(project_roles::group_id.eq(owner.clone())),
        };
        if query.execute(conn)? == 0 {
            return Err(AppError::not_found("project role"));
        }
        let event = caller
            .event(Kind::ProjectRoleRevoked)
            .detail("project_role", id.to_owned());
        audit::store::record(conn, &holder.record(event), now)?;
        Ok(())
    })
}
