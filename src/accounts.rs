//! Creating, changing and deleting user accounts on someone's request: the
//! one path of the REST API and the console. Who may change what
//! (`users::rules`), the field checks (`users::input`), the current password
//! asked before one's own is changed (checked like a sign-in, with its
//! lockout), hashing off the async workers, and the cache of the changed user.
//! The CLI, run by the operator, skips the requester checks but stores through
//! the same `users::repo` functions.
use chrono::NaiveDateTime;

use crate::audit::{Caller, Origin, Recorder};
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::sessions::lockout::{Lockout, Source};
use crate::sessions::sign_in::{self, Attempt, Outcome, Via};
use crate::users::cache::UserCache;
use crate::users::input::UserInput;
use crate::users::model::User;
use crate::users::password_hash::PasswordHasher;
use crate::users::repo as users_repo;
use crate::users::rules;

/// What account changes need from the server.
pub struct AccountDeps<'a> {
    pub pool: &'a DbPool,
    pub hasher: &'a PasswordHasher,
    pub lockout: Lockout,
    pub audit: &'a Recorder,
    pub users: &'a UserCache,
}

/// Who asks for a change, and from where.
pub struct Requester {
    pub user: User,
    pub origin: Origin,
    pub source: Source,
}

impl Requester {
    fn caller(&self) -> Caller {
        Caller::user(&self.user.id, self.origin.clone())
    }

    fn require_admin(&self) -> Result<(), AppError> {
        match self.user.is_admin() {
            true => Ok(()),
            false => Err(AppError::Forbidden("this needs an administrator".into())),
        }
    }
}

/// Hashes on the blocking pool; Argon2 must not stall an async worker.
async fn hash(hasher: &PasswordHasher, plain: Option<String>) -> Result<Option<String>, AppError> {
    let Some(plain) = plain else { return Ok(None) };
    hasher
        .run(move |hasher| hasher.hash(&plain))
        .await?
        .map(Some)
}

/// An administrator creates a user.
pub async fn create(
    deps: &AccountDeps<'_>,
    requester: &Requester,
    input: UserInput,
    now: NaiveDateTime,
) -> Result<User, AppError> {
    requester.require_admin()?;
    let checked = input.check_new(now)?;
    let mut user = checked.user;
    user.password_hash = hash(deps.hasher, checked.password).await?;
    let caller = requester.caller();
    db::run(deps.pool, move |conn| {
        users_repo::create(conn, user, &caller)
    })
    .await
}

/// Changes a user: anyone their own name, email and password (the password
/// with the current one); administrators anything of anyone but their own
/// admin flag and ban. Setting a password ends the user's sessions.
pub async fn update(
    deps: &AccountDeps<'_>,
    requester: &Requester,
    target_id: &str,
    input: UserInput,
    now: NaiveDateTime,
) -> Result<User, AppError> {
    rules::may_change(&requester.user, target_id, input.change_request())?;
    let checked = input.check_update(now)?;
    if checked.password.is_some() && rules::needs_current_password(&requester.user, target_id) {
        verify_current_password(deps, requester, target_id, checked.current_password, now).await?;
    }
    let mut changes = checked.changes;
    changes.password_hash = hash(deps.hasher, checked.password).await?.map(Some);
    let (caller, id) = (requester.caller(), target_id.to_owned());
    let user = db::run(deps.pool, move |conn| {
        users_repo::update(conn, &id, changes, &caller)
    })
    .await?;
    deps.users.invalidate(&user.id);
    Ok(user)
}

/// An administrator deletes a user other than themselves and the guest.
pub async fn delete(
    deps: &AccountDeps<'_>,
    requester: &Requester,
    target_id: &str,
) -> Result<(), AppError> {
    requester.require_admin()?;
    if target_id == requester.user.id {
        return Err(AppError::bad_request(
            "administrators cannot delete themselves",
        ));
    }
    let (caller, id) = (requester.caller(), target_id.to_owned());
    db::run(deps.pool, move |conn| delete_user(conn, &id, &caller)).await?;
    deps.users.invalidate(target_id);
    Ok(())
}

/// Deletes a user and what is theirs (grants, tokens, sessions), never the
/// guest, which is banned instead: the rule for the REST API, the console
/// and the CLI.
pub fn delete_user(conn: &mut db::DbConn, id: &str, caller: &Caller) -> Result<User, AppError> {
    let user = users_repo::find(conn, id)?;
    if user.guest {
        return Err(AppError::Forbidden(
            "the guest account cannot be deleted; ban it instead".into(),
        ));
    }
    users_repo::delete(conn, id, caller)?;
    Ok(user)
}

/// The current password, checked by the sign-in rule (failures count towards
/// the lockout like any other sign-in).
async fn verify_current_password(
    deps: &AccountDeps<'_>,
    requester: &Requester,
    user_id: &str,
    current: Option<String>,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let Some(current) = current.filter(|c| !c.is_empty()) else {
        return Err(AppError::bad_field(
            "currentPassword",
            "currentPassword is required to change your own password",
        ));
    };
    let attempt = Attempt {
        identifier: user_id.to_owned(),
        password: current,
        source: requester.source.clone(),
        origin: requester.origin.clone(),
        via: Via::PasswordChange,
        device: None,
        // Only the password is asked about here.
        policy: crate::config::SecondFactorPolicy::None,
    };
    let outcome = sign_in::check(
        deps.pool,
        deps.hasher,
        deps.lockout,
        deps.audit,
        attempt,
        now,
    )
    .await?;
    match outcome {
        Outcome::Verified(user, _)
        | Outcome::SecondFactorNeeded(user, _)
        | Outcome::EnrolFirst(user, _)
            if user.id == user_id =>
        {
            Ok(())
        }
        Outcome::Locked => Err(AppError::Forbidden(
            "too many failed attempts; try again later".into(),
        )),
        _ => Err(AppError::bad_field(
            "currentPassword",
            "the current password is wrong",
        )),
    }
}
