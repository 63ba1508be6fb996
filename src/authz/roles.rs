//! Roles as stored, with the permissions they bundle. A partial update
//! with `permissions` replaces the list; one permission may also be added
//! or removed alone. Every change is audited in its transaction.
use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{KeyedChanges, Permission, Role};
use super::permissions;
use crate::audit::{self, Caller, Kind};
use crate::db::schema::{permissions as permission_rows, role_permissions, roles};
use crate::db::{lower, DbConn};
use crate::error::AppError;
use crate::paging::Page;

pub fn find(conn: &mut DbConn, id: &str) -> Result<Role, AppError> {
    roles::table
        .find(id)
        .select(Role::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("role"))
}

/// Roles whose key or name contains every word of `text`, by key; and how many.
pub fn list(conn: &mut DbConn, text: &str, page: Page) -> Result<(Vec<Role>, i64), AppError> {
    let filtered = || key_or_name_contains!(roles::table.into_boxed(), roles, text);
    let found = filtered()
        .order((lower(roles::key), roles::id))
        .offset(page.skip)
        .limit(page.top)
        .select(Role::as_select())
        .load(conn)?;
    let total = match page.count_total {
        true => filtered().count().get_result(conn)?,
        false => 0,
    };
    Ok((found, total))
}

/// The permissions of each of `role_ids`, by service and key.
pub fn permissions_of(
    conn: &mut DbConn,
    role_ids: &[String],
) -> Result<HashMap<String, Vec<Permission>>, AppError> {
    let rows: Vec<(String, Permission)> = role_permissions::table
        .inner_join(permission_rows::table)
        .filter(role_permissions::role_id.eq_any(role_ids))
        .order((permission_rows::service_id, permission_rows::key))
        .select((role_permissions::role_id, Permission::as_select()))
        .load(conn)?;
    let mut by_role: HashMap<String, Vec<Permission>> = HashMap::new();
    for (role, permission) in rows {
        by_role.entry(role).or_default().push(permission);
    }
    Ok(by_role)
}

/// A role and its permissions.
pub fn with_permissions(conn: &mut DbConn, id: &str) -> Result<(Role, Vec<Permission>), AppError> {
    let role = find(conn, id)?;
    let mut permissions = permissions_of(conn, std::slice::from_ref(&role.id))?;
    let own = permissions.remove(&role.id).unwrap_or_default();
    Ok((role, own))
}

fn key_taken(error: AppError) -> AppError {
    match error {
        AppError::Conflict { .. } => {
            AppError::conflict("key", "a role with that key already exists")
        }
        other => other,
    }
}

/// Makes the role's permissions exactly `wanted` (ids that must exist).
fn replace_permissions(conn: &mut DbConn, id: &str, wanted: &[String]) -> Result<(), AppError> {
    let mut wanted = wanted.to_vec();
    wanted.sort();
    wanted.dedup();
    permissions::all_of(conn, &wanted)?;
    diesel::delete(role_permissions::table.filter(role_permissions::role_id.eq(id)))
        .execute(conn)?;
    // One row per statement: batch inserts do not run on both backends.
    for permission in &wanted {
        diesel::insert_into(role_permissions::table)
            .values((
                role_permissions::role_id.eq(id),
                role_permissions::permission_id.eq(permission),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn create(
    conn: &mut DbConn,
    changes: KeyedChanges,
    permissions: Option<Vec<String>>,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<Role, AppError> {
    crate::db::transaction(conn, |conn| {
        let role = Role {
            id: uuid::Uuid::new_v4().to_string(),
            key: changes.key.unwrap_or_default(),
            name: changes.name.unwrap_or_default(),
            description: changes.description.flatten(),
            created: now,
        };
        diesel::insert_into(roles::table)
            .values(&role)
            .execute(conn)
            .map_err(|e| key_taken(e.into()))?;
        if let Some(permissions) = &permissions {
            replace_permissions(conn, &role.id, permissions)?;
        }
        let created = caller
            .event(Kind::RoleCreated)
            .detail("role", role.id.clone())
            .detail("key", role.key.clone());
        audit::store::record(conn, &created, now)?;
        Ok(role)
    })
}

pub fn update(
    conn: &mut DbConn,
    id: &str,
    changes: KeyedChanges,
    permissions: Option<Vec<String>>,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<Role, AppError> {
    crate::db::transaction(conn, |conn| {
        find(conn, id)?;
        let fields = audit::event::changed_fields(&[
            ("key", changes.key.is_some()),
            ("name", changes.name.is_some()),
            ("description", changes.description.is_some()),
            ("permissions", permissions.is_some()),
        ]);
        if changes.key.is_some() || changes.name.is_some() || changes.description.is_some() {
            diesel::update(roles::table.find(id))
                .set(&changes)
                .execute(conn)
                .map_err(|e| key_taken(e.into()))?;
        }
        if let Some(permissions) = &permissions {
            replace_permissions(conn, id, permissions)?;
        }
        if !fields.is_empty() {
            let updated = caller
                .event(Kind::RoleUpdated)
                .detail("role", id.to_owned())
                .detail("fields", fields);
            audit::store::record(conn, &updated, now)?;
        }
        find(conn, id)
    })
}

/// Deletes a role; every project role granting it goes with it.
pub fn delete(
    conn: &mut DbConn,
    id: &str,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<(), AppError> {
    crate::db::transaction(conn, |conn| {
        let role = find(conn, id)?;
        diesel::delete(roles::table.find(id)).execute(conn)?;
        let deleted = caller
            .event(Kind::RoleDeleted)
            .detail("role", id.to_owned())
            .detail("key", role.key);
        audit::store::record(conn, &deleted, now)?;
        Ok(())
    })
}

/// Adds one permission to the role; already there is no change.
pub fn add_permission(
    conn: &mut DbConn,
    id: &str,
    permission_id: &str,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<(), AppError> {
    let added = crate::db::transaction(conn, |conn| {
        find(conn, id)?;
        permissions::all_of(conn, &[permission_id.to_owned()])?;
        let row = role_permissions::table
            .filter(role_permissions::role_id.eq(id))
            .filter(role_permissions::permission_id.eq(permission_id));
        if diesel::select(diesel::dsl::exists(row)).get_result::<bool>(conn)? {
            return Ok(());
        }
        diesel::insert_into(role_permissions::table)
            .values((
                role_permissions::role_id.eq(id),
                role_permissions::permission_id.eq(permission_id),
            ))
            .execute(conn)?;
        record_permission_change(conn, id, "added", permission_id, now, caller)
    });
    match added {
        // Added by another request at the same moment (PostgreSQL).
        Err(AppError::Conflict { .. }) => Ok(()),
        other => other,
    }
}

pub fn remove_permission(
    conn: &mut DbConn,
    id: &str,
    permission_id: &str,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<(), AppError> {
    crate::db::transaction(conn, |conn| {
        let removed = diesel::delete(
            role_permissions::table
                .filter(role_permissions::role_id.eq(id))
                .filter(role_permissions::permission_id.eq(permission_id)),
        )
        .execute(conn)?;
        if removed == 0 {
            return Err(AppError::not_found("permission of this role"));
        }
        record_permission_change(conn, id, "removed", permission_id, now, caller)
    })
}

fn record_permission_change(
    conn: &mut DbConn,
    id: &str,
    how: &str,
    permission_id: &str,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<(), AppError> {
    let updated = caller
        .event(Kind::RoleUpdated)
        .detail("role", id.to_owned())
        .detail(&format!("permission_{how}"), permission_id.to_owned());
    audit::store::record(conn, &updated, now)?;
    Ok(())
}
