//! Projects as stored. The built-in Global project (`0-0-0-0-0`) cannot be
//! deleted. Deleting a project deletes the roles granted in it.
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{KeyedChanges, Project, ProjectChanges, GLOBAL_PROJECT_ID};
use crate::audit::{self, Caller, Kind};
use crate::db::schema::projects;
use crate::db::{lower, DbConn};
use crate::error::AppError;
use crate::paging::Page;

pub fn find(conn: &mut DbConn, id: &str) -> Result<Project, AppError> {
    projects::table
        .find(id)
        .select(Project::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("project"))
}

/// Projects whose key or name contains every word of `text`, Global first
/// then by key; and how many.
pub fn list(conn: &mut DbConn, text: &str, page: Page) -> Result<(Vec<Project>, i64), AppError> {
    let filtered = || key_or_name_contains!(projects::table.into_boxed(), projects, text);
    let found = filtered()
        .order((
            projects::id.ne(GLOBAL_PROJECT_ID),
            lower(projects::key),
            projects::id,
        ))
        .offset(page.skip)
        .limit(page.top)
        .select(Project::as_select())
        .load(conn)?;
    let total = match page.count_total {
        true => filtered().count().get_result(conn)?,
        false => 0,
    };
    Ok((found, total))
}

fn key_taken(error: AppError) -> AppError {
    match error {
        AppError::Conflict { .. } => {
            AppError::conflict("key", "a project with that key already exists")
        }
        other => other,
    }
}

pub fn create(
    conn: &mut DbConn,
    changes: KeyedChanges,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<Project, AppError> {
    crate::db::transaction(conn, |conn| {
        let project = Project {
            id: uuid::Uuid::new_v4().to_string(),
            key: changes.key.unwrap_or_default(),
            name: changes.name.unwrap_or_default(),
            description: changes.description.flatten(),
            created: now,
        };
        diesel::insert_into(projects::table)
            .values(&project)
            .execute(conn)
            .map_err(|e| key_taken(e.into()))?;
        let created = caller
            .event(Kind::ProjectCreated)
            .detail("project", project.id.clone())
            .detail("key", project.key.clone());
        audit::store::record(conn, &created, now)?;
        Ok(project)
    })
}

pub fn update(
    conn: &mut DbConn,
    id: &str,
    changes: KeyedChanges,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<Project, AppError> {
    crate::db::transaction(conn, |conn| {
        find(conn, id)?;
        let fields = audit::event::changed_fields(&[
            ("key", changes.key.is_some()),
            ("name", changes.name.is_some()),
            ("description", changes.description.is_some()),
        ]);
        if !fields.is_empty() {
            diesel::update(projects::table.find(id))
                .set(ProjectChanges::from(changes))
                .execute(conn)
                .map_err(|e| key_taken(e.into()))?;
            let updated = caller
                .event(Kind::ProjectUpdated)
                .detail("project", id.to_owned())
                .detail("fields", fields);
            audit::store::record(conn, &updated, now)?;
        }
        find(conn, id)
    })
}

pub fn delete(
    conn: &mut DbConn,
    id: &str,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<(), AppError> {
    if id == GLOBAL_PROJECT_ID {
        return Err(AppError::Forbidden(
            "the built-in Global project cannot be deleted".into(),
        ));
    }
    crate::db::transaction(conn, |conn| {
        let project = find(conn, id)?;
        diesel::delete(projects::table.find(id)).execute(conn)?;
        let deleted = caller
            .event(Kind::ProjectDeleted)
            .detail("project", id.to_owned())
            .detail("key", project.key);
        audit::store::record(conn, &deleted, now)?;
        Ok(())
    })
}
