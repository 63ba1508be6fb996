use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{permissions, project_roles, projects, roles};
use crate::groups::model::Ref;

/// The built-in project in which a role holds in every project.
pub const GLOBAL_PROJECT_ID: &str = "0-0-0-0-0";

/// A permission a service declares, as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = permissions)]
pub struct Permission {
    pub id: String,
    pub service_id: String,
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    pub global: bool,
    pub created: NaiveDateTime,
}

/// The REST view of a permission, in Hub's shape.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PermissionView {
    pub id: String,
    /// Unique within its service, e.g. `issue.read`.
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    /// Meant to be granted in the Global project only (not per project).
    pub global: bool,
    /// The service that declares it.
    pub service: Ref,
    /// Milliseconds since the epoch.
    pub created: i64,
}

impl From<Permission> for PermissionView {
    fn from(permission: Permission) -> Self {
        Self {
            id: permission.id,
            key: permission.key,
            name: permission.name,
            description: permission.description,
            global: permission.global,
            service: Ref {
                id: permission.service_id,
            },
            created: crate::clock::millis(permission.created),
        }
    }
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = permissions)]
pub struct PermissionChanges {
    pub key: Option<String>,
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub global: Option<bool>,
}

/// A role as stored; its permissions are in `role_permissions`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = roles)]
pub struct Role {
    pub id: String,
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    pub created: NaiveDateTime,
}

/// The REST view of a role, with the permissions it bundles.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RoleView {
    pub id: String,
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    pub permissions: Vec<PermissionView>,
    /// Milliseconds since the epoch.
    pub created: i64,
}

impl RoleView {
    pub fn new(role: Role, permissions: Vec<Permission>) -> Self {
        Self {
            id: role.id,
            key: role.key,
            name: role.name,
            description: role.description,
            permissions: permissions.into_iter().map(PermissionView::from).collect(),
            created: crate::clock::millis(role.created),
        }
    }
}

/// What an update of a role or a project sets: `Some` fields only.
#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = roles)]
pub struct KeyedChanges {
    pub key: Option<String>,
    pub name: Option<String>,
    pub description: Option<Option<String>>,
}

/// The same changes, for the projects table.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = projects)]
pub struct ProjectChanges {
    pub key: Option<String>,
    pub name: Option<String>,
    pub description: Option<Option<String>>,
}

impl From<KeyedChanges> for ProjectChanges {
    fn from(changes: KeyedChanges) -> Self {
        Self {
            key: changes.key,
            name: changes.name,
            description: changes.description,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = projects)]
pub struct Project {
    pub id: String,
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    pub created: NaiveDateTime,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProjectView {
    pub id: String,
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    /// True for the built-in Global project (`0-0-0-0-0`).
    pub global: bool,
    /// Milliseconds since the epoch.
    pub created: i64,
}

impl From<Project> for ProjectView {
    fn from(project: Project) -> Self {
        Self {
            global: project.id == GLOBAL_PROJECT_ID,
            id: project.id,
            key: project.key,
            name: project.name,
            description: project.description,
            created: crate::clock::millis(project.created),
        }
    }
}

/// A role granted in a project to a user or to a group.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = project_roles)]
pub struct ProjectRole {
    pub id: String,
    pub role_id: String,
    pub project_id: String,
    pub user_id: Option<String>,
    pub group_id: Option<String>,
    pub created: NaiveDateTime,
}

/// Who holds a project role: `{"type": "user" | "usergroup", "id": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Owner {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: String,
}

/// A role or project named by a project role: id, key and name.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Named {
    pub id: String,
    pub key: String,
    pub name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProjectRoleView {
    pub id: String,
    pub role: Named,
    pub project: Named,
    pub owner: Owner,
    /// Milliseconds since the epoch.
    pub created: i64,
}

impl ProjectRoleView {
    pub fn new(grant: ProjectRole, role: &Role, project: &Project) -> Self {
        let owner = match (grant.user_id, grant.group_id) {
            (Some(id), _) => Owner { kind: "user", id },
            (None, id) => Owner {
                kind: "usergroup",
                id: id.unwrap_or_default(),
            },
        };
        Self {
            id: grant.id,
            role: Named {
                id: role.id.clone(),
                key: role.key.clone(),
                name: role.name.clone(),
            },
            project: Named {
                id: project.id.clone(),
                key: project.key.clone(),
                name: project.name.clone(),
            },
            owner,
            created: crate::clock::millis(grant.created),
        }
    }
}
