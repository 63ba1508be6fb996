//! Permissions as stored: declared by a service, unique by key within it.
//! An admin manages any service's; a service, with its own token, only its
//! own (`Steward`). Every change is audited in its transaction.
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{Permission, PermissionChanges};
use crate::audit::{self, Caller, Kind};
use crate::db::schema::{permissions, services};
use crate::db::{lower, DbConn};
use crate::error::AppError;
use crate::paging::Page;

/// Who manages permissions: an admin, any service's; a service, its own.
#[derive(Debug, Clone, Copy)]
pub enum Steward<'a> {
    Admin,
    Service(&'a str),
}

impl Steward<'_> {
    /// The service whose permissions this steward may touch, if only one.
    fn only(self) -> Option<String> {
        match self {
            Steward::Admin => None,
            Steward::Service(id) => Some(id.to_owned()),
        }
    }
}

pub fn get(conn: &mut DbConn, id: &str) -> Result<Option<Permission>, AppError> {
    Ok(permissions::table
        .find(id)
        .select(Permission::as_select())
        .first(conn)
        .optional()?)
}

/// The permission `id`, if `steward` may see it: another service's is
/// "not found" to a service, so ids of others' permissions tell nothing.
pub fn find(conn: &mut DbConn, id: &str, steward: Steward) -> Result<Permission, AppError> {
    get(conn, id)?
        .filter(|p| steward.only().is_none_or(|own| own == p.service_id))
        .ok_or_else(|| AppError::not_found("permission"))
}

/// Permissions whose key or name contains every word of `text`, of one
/// service when `service` is given, by service then key; and how many.
pub fn list(
    conn: &mut DbConn,
    text: &str,
    service: Option<&str>,
    page: Page,
) -> Result<(Vec<Permission>, i64), AppError> {
    let filtered = || {
        let mut query = permissions::table.into_boxed();
        if let Some(service) = service {
            query = query.filter(permissions::service_id.eq(service.to_owned()));
        }
        key_or_name_contains!(query, permissions, text)
    };
    let found = filtered()
        .order((permissions::service_id, permissions::key))
        .offset(page.skip)
        .limit(page.top)
        .select(Permission::as_select())
        .load(conn)?;
    let total = match page.count_total {
        true => filtered().count().get_result(conn)?,
        false => 0,
    };
    Ok((found, total))
}

/// A unique-key refusal, said for the field.
fn key_taken(error: AppError) -> AppError {
    match error {
        AppError::Conflict { .. } => {
            AppError::conflict("key", "the service already has a permission with that key")
        }
        other => other,
    }
}

pub fn create(
    conn: &mut DbConn,
    service_id: &str,
    changes: PermissionChanges,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<Permission, AppError> {
    crate::db::transaction(conn, |conn| {
        let exists = services::table
            .find(service_id)
            .count()
            .get_result::<i64>(conn)?;
        if exists == 0 {
            return Err(AppError::bad_field(
                "service",
                "there is no service with that id",
            ));
        }
        let permission = Permission {
            id: uuid::Uuid::new_v4().to_string(),
            service_id: service_id.to_owned(),
            key: changes.key.unwrap_or_default(),
            name: changes.name.unwrap_or_default(),
            description: changes.description.flatten(),
            global: changes.global.unwrap_or(false),
            created: now,
        };
        diesel::insert_into(permissions::table)
            .values(&permission)
            .execute(conn)
            .map_err(|e| key_taken(e.into()))?;
        let created = caller
            .event(Kind::PermissionCreated)
            .service(service_id)
            .detail("permission", permission.id.clone())
            .detail("key", permission.key.clone());
        audit::store::record(conn, &created, now)?;
        Ok(permission)
    })
}

pub fn update(
    conn: &mut DbConn,
    id: &str,
    changes: PermissionChanges,
    steward: Steward,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<Permission, AppError> {
    crate::db::transaction(conn, |conn| {
        let permission = find(conn, id, steward)?;
        let fields = audit::event::changed_fields(&[
            ("key", changes.key.is_some()),
            ("name", changes.name.is_some()),
            ("description", changes.description.is_some()),
            ("global", changes.global.is_some()),
        ]);
        if !fields.is_empty() {
            diesel::update(permissions::table.find(id))
                .set(&changes)
                .execute(conn)
                .map_err(|e| key_taken(e.into()))?;
            let updated = caller
                .event(Kind::PermissionUpdated)
                .service(permission.service_id)
                .detail("permission", id.to_owned())
                .detail("fields", fields);
            audit::store::record(conn, &updated, now)?;
        }
        find(conn, id, steward)
    })
}

/// Deletes a permission; the roles that bundled it lose it.
pub fn delete(
    conn: &mut DbConn,
    id: &str,
    steward: Steward,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<(), AppError> {
    crate::db::transaction(conn, |conn| {
        let permission = find(conn, id, steward)?;
        diesel::delete(permissions::table.find(id)).execute(conn)?;
        let deleted = caller
            .event(Kind::PermissionDeleted)
            .service(permission.service_id)
            .detail("permission", id.to_owned())
            .detail("key", permission.key);
        audit::store::record(conn, &deleted, now)?;
        Ok(())
    })
}

/// The permissions of `ids` that exist, or the first id that does not.
pub fn all_of(conn: &mut DbConn, ids: &[String]) -> Result<Vec<Permission>, AppError> {
    let found: Vec<Permission> = permissions::table
        .filter(permissions::id.eq_any(ids))
        .order((permissions::service_id, lower(permissions::key)))
        .select(Permission::as_select())
        .load(conn)?;
    match ids.iter().find(|id| !found.iter().any(|p| &p.id == *id)) {
        Some(missing) => Err(AppError::bad_field(
            "permissions",
            format!("there is no permission with id {missing}"),
        )),
        None => Ok(found),
    }
}
