//! Groups, their nesting and their members, as stored. Every change is
//! audited in the same transaction. A new parent is checked against the
//! group's own subtree (no cycles) inside a transaction that holds the
//! write lock: SQLite's `BEGIN IMMEDIATE`, and on PostgreSQL an advisory
//! lock taken by every parent change, so two moves made at once cannot
//! close a loop between them.
use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{Group, GroupChanges};
use crate::audit::{self, Caller, Kind};
use crate::db::schema::{group_members, user_groups, users};
use crate::db::{lower, DbConn};
use crate::error::AppError;
use crate::paging::Page;
use crate::users::model::User;
use crate::validate::like_pattern;

/// How deep groups nest at most: a walk up the parents stops there.
pub const MAX_DEPTH: usize = 32;
/// The advisory lock every parent change takes on PostgreSQL.
const NESTING_LOCK: i64 = 0x6964_6875_6267; // "idhubg"

pub fn get(conn: &mut DbConn, id: &str) -> Result<Option<Group>, AppError> {
    Ok(user_groups::table
        .find(id)
        .select(Group::as_select())
        .first(conn)
        .optional()?)
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Group, AppError> {
    get(conn, id)?.ok_or_else(|| AppError::not_found("user group"))
}

/// The group named `name`, whatever its case.
pub fn find_by_name(conn: &mut DbConn, name: &str) -> Result<Group, AppError> {
    user_groups::table
        .filter(lower(user_groups::name).eq(name.trim().to_lowercase()))
        .select(Group::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("user group"))
}

/// Groups whose name contains every word of `text`, by name; and how many.
pub fn list(conn: &mut DbConn, text: &str, page: Page) -> Result<(Vec<Group>, i64), AppError> {
    let filtered = || {
        let mut query = user_groups::table.into_boxed();
        for word in text.split_whitespace() {
            query = query.filter(
                lower(user_groups::name)
                    .like(like_pattern(word))
                    .escape('\\'),
            );
        }
        query
    };
    let found = filtered()
        .order((lower(user_groups::name), user_groups::id))
        .offset(page.skip)
        .limit(page.top)
        .select(Group::as_select())
        .load(conn)?;
    let total = match page.count_total {
        true => filtered().count().get_result(conn)?,
        false => 0,
    };
    Ok((found, total))
}

fn take_nesting_lock(conn: &mut DbConn) -> Result<(), AppError> {
    if let DbConn::Postgresql(pg) = conn {
        diesel::sql_query(format!("SELECT pg_advisory_xact_lock({NESTING_LOCK})")).execute(pg)?;
    }
    Ok(())
}

/// How many levels `group` and its subgroups span: 1 for a group without
/// subgroups; past `MAX_DEPTH`, `MAX_DEPTH + 1`.
fn height(conn: &mut DbConn, group: &str) -> Result<usize, AppError> {
    let mut level = vec![group.to_owned()];
    for height in 1..=MAX_DEPTH {
        level = user_groups::table
            .filter(user_groups::parent_id.eq_any(&level))
            .select(user_groups::id)
            .load(conn)?;
        if level.is_empty() {
            return Ok(height);
        }
    }
    Ok(MAX_DEPTH + 1)
}

/// Refuses `parent` as the parent of `group` (None for a new group) when
/// it does not exist, is the group itself or one of its subgroups, or
/// when the group and its subgroups would then nest deeper than `MAX_DEPTH`.
fn check_parent(conn: &mut DbConn, group: Option<&str>, parent: &str) -> Result<(), AppError> {
    let refuse = |why: &str| AppError::bad_field("parent", why.to_owned());
    let below = match group {
        Some(id) => height(conn, id)?,
        None => 1,
    };
    let mut current = Some(parent.to_owned());
    let mut depth = 0;
    while let Some(id) = current {
        if group == Some(id.as_str()) {
            return Err(refuse(
                "a group cannot be inside itself or one of its own subgroups",
            ));
        }
        depth += 1;
        if depth + below > MAX_DEPTH {
            return Err(refuse("groups nest at most 32 deep"));
        }
        let found: Option<Option<String>> = user_groups::table
            .find(&id)
            .select(user_groups::parent_id)
            .first(conn)
            .optional()?;
        current = match found {
            Some(next) => next,
            None if depth == 1 => return Err(refuse("there is no group with that id")),
            None => None,
        };
    }
    Ok(())
}

pub fn create(
    conn: &mut DbConn,
    changes: GroupChanges,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<Group, AppError> {
    crate::db::transaction(conn, |conn| {
        let parent_id = changes.parent_id.flatten();
        if let Some(parent) = &parent_id {
            take_nesting_lock(conn)?;
            check_parent(conn, None, parent)?;
        }
        let group = Group {
            id: uuid::Uuid::new_v4().to_string(),
            name: changes.name.unwrap_or_default(),
            description: changes.description.flatten(),
            parent_id,
            created: now,
        };
        diesel::insert_into(user_groups::table)
            .values(&group)
            .execute(conn)
            .map_err(|e| name_taken(e.into()))?;
        let created = caller
            .event(Kind::GroupCreated)
            .detail("group", group.id.clone())
            .detail("name", group.name.clone());
        audit::store::record(conn, &created, now)?;
        Ok(group)
    })
}

/// A unique-name refusal, said for the field.
fn name_taken(error: AppError) -> AppError {
    match error {
        AppError::Conflict { .. } => {
            AppError::conflict("name", "a group with that name already exists")
        }
        other => other,
    }
}

pub fn update(
    conn: &mut DbConn,
    id: &str,
    changes: GroupChanges,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<Group, AppError> {
    crate::db::transaction(conn, |conn| {
        find(conn, id)?;
        if let Some(Some(parent)) = &changes.parent_id {
            take_nesting_lock(conn)?;
            check_parent(conn, Some(id), parent)?;
        }
        let fields = audit::event::changed_fields(&[
            ("name", changes.name.is_some()),
            ("description", changes.description.is_some()),
            ("parent", changes.parent_id.is_some()),
        ]);
        if !fields.is_empty() {
            diesel::update(user_groups::table.find(id))
                .set(&changes)
                .execute(conn)
                .map_err(|e| name_taken(e.into()))?;
            let updated = caller
                .event(Kind::GroupUpdated)
                .detail("group", id.to_owned())
                .detail("fields", fields);
            audit::store::record(conn, &updated, now)?;
        }
        find(conn, id)
    })
}

/// Deletes a group without subgroups; its memberships go with it.
pub fn delete(
    conn: &mut DbConn,
    id: &str,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<(), AppError> {
    crate::db::transaction(conn, |conn| {
        let group = find(conn, id)?;
        let subgroups: i64 = user_groups::table
            .filter(user_groups::parent_id.eq(id))
            .count()
            .get_result(conn)?;
        if subgroups > 0 {
            return Err(AppError::conflict(
                "id",
                "the group has subgroups: delete them or move them elsewhere first",
            ));
        }
        diesel::delete(user_groups::table.find(id)).execute(conn)?;
        let deleted = caller
            .event(Kind::GroupDeleted)
            .detail("group", id.to_owned())
            .detail("name", group.name);
        audit::store::record(conn, &deleted, now)?;
        Ok(())
    })
}

/// Makes `user_id` a direct member of group `id`; already one is no change.
pub fn add_member(
    conn: &mut DbConn,
    id: &str,
    user_id: &str,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<(), AppError> {
    let added = crate::db::transaction(conn, |conn| {
        find(conn, id)?;
        crate::users::repo::find(conn, user_id)?;
        let member = group_members::table
            .filter(group_members::group_id.eq(id))
            .filter(group_members::user_id.eq(user_id));
        if diesel::select(diesel::dsl::exists(member)).get_result::<bool>(conn)? {
            return Ok(());
        }
        diesel::insert_into(group_members::table)
            .values((
                group_members::group_id.eq(id),
                group_members::user_id.eq(user_id),
                group_members::added.eq(now),
            ))
            .execute(conn)?;
        record_membership(conn, Kind::GroupMemberAdded, id, user_id, now, caller)
    });
    match added {
        // Added by another request at the same moment (PostgreSQL): a member.
        Err(AppError::Conflict { .. }) => Ok(()),
        other => other,
    }
}

pub fn remove_member(
    conn: &mut DbConn,
    id: &str,
    user_id: &str,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<(), AppError> {
    crate::db::transaction(conn, |conn| {
        let removed = diesel::delete(
            group_members::table
                .filter(group_members::group_id.eq(id))
                .filter(group_members::user_id.eq(user_id)),
        )
        .execute(conn)?;
        if removed == 0 {
            return Err(AppError::not_found("member of this group"));
        }
        record_membership(conn, Kind::GroupMemberRemoved, id, user_id, now, caller)
    })
}

/// The audit event of a membership change: the user, and the group.
fn record_membership(
    conn: &mut DbConn,
    kind: Kind,
    group_id: &str,
    user_id: &str,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<(), AppError> {
    let event = caller
        .event(kind)
        .user(user_id)
        .detail("group", group_id.to_owned());
    audit::store::record(conn, &event, now)?;
    Ok(())
}

/// The groups directly inside group `id`, by name.
pub fn subgroups(conn: &mut DbConn, id: &str) -> Result<Vec<Group>, AppError> {
    Ok(user_groups::table
        .filter(user_groups::parent_id.eq(id))
        .order(lower(user_groups::name))
        .select(Group::as_select())
        .load(conn)?)
}

/// The direct members of group `id`, by login; and how many.
pub fn members(conn: &mut DbConn, id: &str, page: Page) -> Result<(Vec<User>, i64), AppError> {
    find(conn, id)?;
    let found = group_members::table
        .inner_join(users::table)
        .filter(group_members::group_id.eq(id))
        .order(lower(users::login))
        .offset(page.skip)
        .limit(page.top)
        .select(User::as_select())
        .load(conn)?;
    let total = match page.count_total {
        true => group_members::table
            .filter(group_members::group_id.eq(id))
            .count()
            .get_result(conn)?,
        false => 0,
    };
    Ok((found, total))
}

/// The groups `user_id` is a direct member of, by name.
pub fn groups_of(conn: &mut DbConn, user_id: &str) -> Result<Vec<Group>, AppError> {
    Ok(group_members::table
        .inner_join(user_groups::table)
        .filter(group_members::user_id.eq(user_id))
        .order(lower(user_groups::name))
        .select(Group::as_select())
        .load(conn)?)
}

/// The groups of `user_id` and every ancestor of them, by name: one query
/// per level of nesting, at most `MAX_DEPTH`.
pub fn transitive_groups_of(conn: &mut DbConn, user_id: &str) -> Result<Vec<Group>, AppError> {
    let mut found = groups_of(conn, user_id)?;
    let mut seen: HashSet<String> = found.iter().map(|g| g.id.clone()).collect();
    let mut wanted: Vec<String> = found.iter().filter_map(|g| g.parent_id.clone()).collect();
    for _ in 0..MAX_DEPTH {
        wanted.retain(|id| !seen.contains(id));
        if wanted.is_empty() {
            break;
        }
        let parents: Vec<Group> = user_groups::table
            .filter(user_groups::id.eq_any(&wanted))
            .select(Group::as_select())
            .load(conn)?;
        wanted = parents.iter().filter_map(|g| g.parent_id.clone()).collect();
        for parent in parents {
            if seen.insert(parent.id.clone()) {
                found.push(parent);
            }
        }
    }
    found.sort_by_key(|group| group.name.to_lowercase());
    Ok(found)
}
