//! Who a sign-in through an auth module is: the rule every module kind
//! shares once the provider or directory has vouched for someone. A known
//! identity (the module and the provider's stable subject) is its user;
//! else, when the module allows, the user with the same verified email is
//! linked; else, when it allows, a user is created; else the sign-in is
//! refused. Links are never made by an unverified email. The module's
//! group mappings then set the user's membership of the mapped groups.
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::model::AuthModule;
use super::repo;
use crate::audit::{self, Caller, Kind};
use crate::db::schema::{auth_modules, identities, users};
use crate::db::{lower, DbConn};
use crate::error::AppError;
use crate::users::model::User;
use crate::users::repo as users_repo;

/// What a provider or directory said about whoever signed in.
#[derive(Debug, Clone, Default)]
pub struct External {
    /// Stable at the provider (`sub`, an id field, an entry's DN).
    pub subject: String,
    pub login: Option<String>,
    pub email: Option<String>,
    /// The provider says it checked the address.
    pub email_verified: bool,
    pub name: Option<String>,
    /// Its groups (names or DNs), for the module's mappings.
    pub groups: Vec<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Nobody here is this person, and the module may not create them.
    NoAccount,
    /// They are, and banned.
    Banned,
}

impl Refusal {
    /// Its name in the audit trail and the metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::NoAccount => "no_account",
            Refusal::Banned => "banned",
        }
    }
}

#[derive(Debug)]
pub enum Resolved {
    /// The user, and whether they were created just now.
    User(User, bool),
    Refused(Refusal),
}

/// One way a user signs in through a module, as `…/identities` lists it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdentityView {
    pub id: String,
    pub auth_module: ModuleRef,
    pub subject: String,
    pub login: Option<String>,
    pub email: Option<String>,
    /// Milliseconds since the epoch.
    pub created: i64,
    pub last_used: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ModuleRef {
    pub id: String,
    pub name: String,
}

/// The user `external` is, through `module`: found, linked or created (as
/// the module allows), their mapped groups set; audited.
pub fn resolve(
    conn: &mut DbConn,
    module: &AuthModule,
    external: &External,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<Resolved, AppError> {
    crate::db::transaction(conn, |conn| {
        let known: Option<String> = identities::table
            .filter(identities::module_id.eq(&module.id))
            .filter(identities::subject.eq(&external.subject))
            .select(identities::user_id)
            .first(conn)
            .optional()?;
        let (user, created) = match known {
            Some(user_id) => {
                diesel::update(
                    identities::table
                        .filter(identities::module_id.eq(&module.id))
                        .filter(identities::subject.eq(&external.subject)),
                )
                .set((
                    identities::login.eq(&external.login),
                    identities::email.eq(&external.email),
                    identities::last_used.eq(Some(now)),
                ))
                .execute(conn)?;
                (users_repo::find(conn, &user_id)?, false)
            }
            None => match linkable(conn, module, external)? {
                Some(user) => {
                    link(conn, module, &user, external, now, caller)?;
                    (user, false)
                }
                None if module.auto_create_users => {
                    let user = create_user(conn, external, now, caller)?;
                    link(conn, module, &user, external, now, caller)?;
                    (user, true)
                }
                None => return Ok(Resolved::Refused(Refusal::NoAccount)),
            },
        };
        if user.banned {
            return Ok(Resolved::Refused(Refusal::Banned));
        }
        apply_group_mappings(conn, module, &user.id, &external.groups, now, caller)?;
        Ok(Resolved::User(user, created))
    })
}

/// The user with the same email, when the module links by email and the
/// provider verified the address.
fn linkable(
    conn: &mut DbConn,
    module: &AuthModule,
    external: &External,
) -> Result<Option<User>, AppError> {
    let Some(email) = external
        .email
        .as_deref()
        .filter(|_| external.email_verified)
    else {
        return Ok(None);
    };
    if !module.link_by_email {
        return Ok(None);
    }
    let found: Option<String> = users::table
        .filter(
            users::email
                .is_not_null()
                .and(lower(users::email.assume_not_null()).eq(email.to_lowercase())),
        )
        .filter(users::guest.eq(false))
        .select(users::id)
        .first(conn)
        .optional()?;
    found.map(|id| users_repo::find(conn, &id)).transpose()
}

fn link(
    conn: &mut DbConn,
    module: &AuthModule,
    user: &User,
    external: &External,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<(), AppError> {
    let id = uuid::Uuid::new_v4().to_string();
    diesel::insert_into(identities::table)
        .values((
            identities::id.eq(&id),
            identities::user_id.eq(&user.id),
            identities::module_id.eq(&module.id),
            identities::subject.eq(&external.subject),
            identities::login.eq(&external.login),
            identities::email.eq(&external.email),
            identities::created.eq(now),
            identities::last_used.eq(Some(now)),
        ))
        .execute(conn)?;
    let event = caller
        .event(Kind::IdentityLinked)
        .user(&user.id)
        .detail("authModule", module.id.as_str())
        .detail("identity", id);
    audit::store::record(conn, &event, now)?;
    Ok(())
}

/// A login for a new user from what the provider said: its login, else
/// the email's local part, made valid and unique (`ada`, `ada-2`, …).
fn free_login(conn: &mut DbConn, external: &External) -> Result<String, AppError> {
    let wanted = external
        .login
        .clone()
        .or_else(|| {
            external
                .email
                .as_deref()
                .and_then(|email| email.split('@').next().map(str::to_owned))
        })
        .unwrap_or_else(|| "user".to_owned());
    let cleaned: String = wanted
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .take(56)
        .collect();
    let base = crate::validate::login(&cleaned).unwrap_or_else(|_| "user".to_owned());
    for n in 1..=100u32 {
        let candidate = match n {
            1 => base.clone(),
            n => format!("{base}-{n}"),
        };
        if users_repo::find_by_login(conn, &candidate)?.is_none() {
            return Ok(candidate);
        }
    }
    Ok(format!("{base}-{}", uuid::Uuid::new_v4().simple()))
}

fn create_user(
    conn: &mut DbConn,
    external: &External,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<User, AppError> {
    let login = free_login(conn, external)?;
    let mut user = users_repo::new_user(login, external.name.clone(), now);
    // An address another user has is not taken over: the new user has none.
    let email_free = match external.email.as_deref() {
        Some(email) => !diesel::select(diesel::dsl::exists(
            users::table.filter(
                users::email
                    .is_not_null()
                    .and(lower(users::email.assume_not_null()).eq(email.to_lowercase())),
            ),
        ))
        .get_result::<bool>(conn)?,
        None => false,
    };
    if email_free {
        user.email = external.email.clone();
    }
    users_repo::create(conn, user, caller)
}

/// Sets the user's membership of each group the module maps: a member
/// when the provider lists the mapped group, not otherwise.
fn apply_group_mappings(
    conn: &mut DbConn,
    module: &AuthModule,
    user_id: &str,
    external_groups: &[String],
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<(), AppError> {
    let mappings = repo::group_mappings(conn, &module.id)?;
    let wanted: Vec<&str> = mappings
        .iter()
        .filter(|m| {
            external_groups
                .iter()
                .any(|g| g.eq_ignore_ascii_case(&m.external))
        })
        .map(|m| m.group.id.as_str())
        .collect();
    let current: Vec<String> = crate::groups::repo::groups_of(conn, user_id)?
        .into_iter()
        .map(|group| group.id)
        .collect();
    for mapping in &mappings {
        let group = mapping.group.id.as_str();
        let member = current.iter().any(|id| id == group);
        match (wanted.contains(&group), member) {
            (true, false) => crate::groups::repo::add_member(conn, group, user_id, now, caller)?,
            (false, true) => crate::groups::repo::remove_member(conn, group, user_id, now, caller)?,
            _ => {}
        }
    }
    Ok(())
}

/// An identity joined with its module's name, as read.
#[derive(Queryable)]
struct IdentityRow {
    id: String,
    module_id: String,
    module_name: String,
    subject: String,
    login: Option<String>,
    email: Option<String>,
    created: NaiveDateTime,
    last_used: Option<NaiveDateTime>,
}

/// The identities of a user, for `…/identities` and the account page.
pub fn of_user(conn: &mut DbConn, user_id: &str) -> Result<Vec<IdentityView>, AppError> {
    let rows: Vec<IdentityRow> = identities::table
        .inner_join(auth_modules::table)
        .filter(identities::user_id.eq(user_id))
        .order((identities::created, identities::id))
        .select((
            identities::id,
            auth_modules::id,
            auth_modules::name,
            identities::subject,
            identities::login,
            identities::email,
            identities::created,
            identities::last_used,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|row| IdentityView {
            id: row.id,
            auth_module: ModuleRef {
                id: row.module_id,
                name: row.module_name,
            },
            subject: row.subject,
            login: row.login,
            email: row.email,
            created: crate::clock::millis(row.created),
            last_used: row.last_used.map(crate::clock::millis),
        })
        .collect())
}

/// Unlinks one identity of `user_id`: that way in no longer leads to them.
pub fn unlink(
    conn: &mut DbConn,
    user_id: &str,
    id: &str,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<(), AppError> {
    crate::db::transaction(conn, |conn| {
        let deleted = diesel::delete(
            identities::table
                .filter(identities::id.eq(id))
                .filter(identities::user_id.eq(user_id)),
        )
        .execute(conn)?;
        if deleted == 0 {
            return Err(AppError::not_found("identity"));
        }
        let event = caller
            .event(Kind::IdentityUnlinked)
            .user(user_id)
            .detail("identity", id);
        audit::store::record(conn, &event, now)?;
        Ok(())
    })
}
