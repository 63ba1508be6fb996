//! The authorization model as one value in memory: what every user's
//! answer shares (groups and their nesting, the roles granted to groups,
//! the permissions of roles, the permissions and projects themselves),
//! read whole with a handful of queries; and what one user holds directly
//! (`Holdings`: their groups and their own project roles). `access` joins
//! the two without the database.
use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::schema::{
    group_members, permissions, project_roles, projects, role_permissions, user_groups,
};
use crate::db::DbConn;
use crate::error::StoreError;

/// A role granted in a project.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Grant {
    pub role: String,
    pub project: String,
}

#[derive(Debug, Clone)]
pub struct GroupNode {
    pub name: String,
    pub parent: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PermissionInfo {
    pub key: String,
    pub name: String,
    pub service: String,
}

#[derive(Debug, Default)]
pub struct Graph {
    pub groups: HashMap<String, GroupNode>,
    pub group_grants: HashMap<String, Vec<Grant>>,
    pub role_permissions: HashMap<String, Vec<String>>,
    pub permissions: HashMap<String, PermissionInfo>,
    /// Project keys by id.
    pub projects: HashMap<String, String>,
}

/// What one user holds directly.
#[derive(Debug, Default)]
pub struct Holdings {
    pub groups: Vec<String>,
    pub grants: Vec<Grant>,
}

impl Graph {
    /// Whether service `id` has declared any permission.
    pub fn declares(&self, id: &str) -> bool {
        self.permissions.values().any(|p| p.service == id)
    }

    pub fn read(conn: &mut DbConn) -> Result<Self, StoreError> {
        let groups = user_groups::table
            .select((user_groups::id, user_groups::name, user_groups::parent_id))
            .load::<(String, String, Option<String>)>(conn)?
            .into_iter()
            .map(|(id, name, parent)| (id, GroupNode { name, parent }))
            .collect();
        let mut group_grants: HashMap<String, Vec<Grant>> = HashMap::new();
        let rows = project_roles::table
            .filter(project_roles::group_id.is_not_null())
            .select((
                project_roles::group_id.assume_not_null(),
                project_roles::role_id,
                project_roles::project_id,
            ))
            .load::<(String, String, String)>(conn)?;
        for (group, role, project) in rows {
            group_grants
                .entry(group)
                .or_default()
                .push(Grant { role, project });
        }
        let mut role_permissions: HashMap<String, Vec<String>> = HashMap::new();
        let rows = role_permissions::table
            .select((role_permissions::role_id, role_permissions::permission_id))
            .load::<(String, String)>(conn)?;
        for (role, permission) in rows {
            role_permissions.entry(role).or_default().push(permission);
        }
        let permissions = permissions::table
            .select((
                permissions::id,
                permissions::key,
                permissions::name,
                permissions::service_id,
            ))
            .load::<(String, String, String, String)>(conn)?
            .into_iter()
            .map(|(id, key, name, service)| (id, PermissionInfo { key, name, service }))
            .collect();
        let projects = projects::table
            .select((projects::id, projects::key))
            .load::<(String, String)>(conn)?
            .into_iter()
            .collect();
        Ok(Self {
            groups,
            group_grants,
            role_permissions,
            permissions,
            projects,
        })
    }
}

impl Holdings {
    /// What each of `users` holds directly; users holding nothing are absent.
    pub fn read_many(
        conn: &mut DbConn,
        users: &[String],
    ) -> Result<HashMap<String, Holdings>, StoreError> {
        let mut held: HashMap<String, Holdings> = HashMap::new();
        let memberships = group_members::table
            .filter(group_members::user_id.eq_any(users))
            .select((group_members::user_id, group_members::group_id))
            .load::<(String, String)>(conn)?;
        for (user, group) in memberships {
            held.entry(user).or_default().groups.push(group);
        }
        let grants = project_roles::table
            .filter(project_roles::user_id.eq_any(users))
            .select((
                project_roles::user_id.assume_not_null(),
                project_roles::role_id,
                project_roles::project_id,
            ))
            .load::<(String, String, String)>(conn)?;
        for (user, role, project) in grants {
            held.entry(user)
                .or_default()
                .grants
                .push(Grant { role, project });
        }
        Ok(held)
    }
}
