//! `idhub users`: list, add, ban, unban, unlock, set-password, delete. `set-password` is also
//! the way back in for a locked-out admin (docs/cli.md).
use clap::Subcommand;
use serde_json::json;

use super::common::{fail, with_conn, Output};
use super::passwords::read_new;
use crate::audit::Caller;
use crate::error::AppError;
use crate::paging::{Page, MAX_TOP};
use crate::sessions::lockout;
use crate::state::AppState;
use crate::users::model::{User, UserChanges, UserView};
use crate::users::{password_hash as password, repo as users_repo};
use crate::{clock, validate};

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// List users: id, login, name and flags, one per line, by login.
    List {
        /// Only users whose login, name or email contains every word.
        #[arg(long, default_value = "")]
        query: String,
        /// How many at most.
        #[arg(long, default_value_t = MAX_TOP)]
        top: i64,
        #[command(flatten)]
        output: Output,
    },
    /// Create a user. The password comes from --password, else a prompt (or
    /// the first line of stdin).
    Add {
        #[arg(long)]
        login: String,
        /// Visible to other local users in the process list; prefer the prompt.
        #[arg(long)]
        password: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        admin: bool,
        #[command(flatten)]
        output: Output,
    },
    /// Ban a user (login, email or id): their tokens stop working at once.
    Ban { user: String },
    /// Lift a ban.
    Unban { user: String },
    /// Lift the locks failed sign-ins put on a user's account (from every
    /// address), e.g. when guesses from many addresses locked it.
    Unlock { user: String },
    /// Set a user's password, asked for on a prompt (or read from stdin);
    /// ends their browser sessions.
    SetPassword { user: String },
    /// Remove a user's second factors (authenticator app and recovery
    /// codes), for one who lost both: they sign in with the password alone.
    RemoveSecondFactor { user: String },
    /// Delete a user (login, email or id) with their grants, tokens and
    /// sessions; the guest cannot be deleted (ban it instead).
    Delete { user: String },
}

pub fn run(command: UsersCommand, state: &AppState) -> anyhow::Result<String> {
    match command {
        UsersCommand::List { query, top, output } => list(state, &query, top, output.json),
        UsersCommand::Add {
            login,
            password,
            email,
            name,
            admin,
            output,
        } => {
            let plain = match password {
                Some(plain) => plain,
                None => read_new(&login)?,
            };
            let user = NewUser {
                login,
                email,
                name,
                admin,
            };
            add(state, user, &plain, output.json)
        }
        UsersCommand::Ban { user } => set_banned(state, &user, true),
        UsersCommand::Unban { user } => set_banned(state, &user, false),
        UsersCommand::Unlock { user } => unlock(state, &user),
        UsersCommand::SetPassword { user } => set_password(state, &user),
        UsersCommand::RemoveSecondFactor { user } => {
            let user = with_conn(state, |conn| {
                let user = find(conn, &user)?;
                crate::factors::repo::remove(
                    conn,
                    &user.id,
                    crate::factors::repo::Removal::Everything,
                    clock::now(),
                    &Caller::cli(),
                )?;
                Ok(user)
            })?;
            Ok(format!(
                "second factors removed for {} ({}): they sign in with their password alone",
                user.login, user.id
            ))
        }
        UsersCommand::Delete { user } => {
            let deleted = with_conn(state, |conn| {
                let user = find(conn, &user)?;
                crate::accounts::delete_user(conn, &user.id, &Caller::cli())
            })?;
            Ok(format!("user {} ({}) deleted", deleted.login, deleted.id))
        }
    }
}

fn list(state: &AppState, query: &str, top: i64, as_json: bool) -> anyhow::Result<String> {
    let page = Page {
        skip: 0,
        top: top.clamp(1, MAX_TOP),
        count_total: false,
    };
    let (users, _) = with_conn(state, |conn| users_repo::list(conn, query, page, None))?;
    let lines: Vec<String> = users
        .iter()
        .map(|user| match as_json {
            true => serde_json::to_string(&UserView::from(user)).unwrap_or_default(),
            false => user_line(user),
        })
        .collect();
    Ok(lines.join("\n"))
}

fn user_line(user: &User) -> String {
    let flags: Vec<&str> = [
        ("admin", user.admin),
        ("banned", user.banned),
        ("guest", user.guest),
    ]
    .into_iter()
    .filter_map(|(flag, set)| set.then_some(flag))
    .collect();
    format!(
        "{}  {}  {}  {}",
        user.id,
        user.login,
        user.name,
        flags.join(",")
    )
    .trim_end()
    .to_owned()
}

struct NewUser {
    login: String,
    email: Option<String>,
    name: Option<String>,
    admin: bool,
}

fn add(state: &AppState, user: NewUser, plain: &str, as_json: bool) -> anyhow::Result<String> {
    let login = validate::login(&user.login).map_err(fail)?;
    password::validate(plain).map_err(fail)?;
    let name = validate::optional_text("name", user.name.as_deref(), validate::MAX_SHORT_TEXT)
        .map_err(fail)?;
    let mut new_user = users_repo::new_user(login, name, clock::now());
    new_user.email = user
        .email
        .as_deref()
        .map(validate::email)
        .transpose()
        .map_err(fail)?;
    new_user.admin = user.admin;
    new_user.password_hash = Some(state.hasher.hash(plain).map_err(fail)?);
    let user = with_conn(state, |conn| {
        users_repo::create(conn, new_user, &Caller::cli())
    })?;
    Ok(if as_json {
        json!({ "id": user.id }).to_string()
    } else {
        user.id
    })
}

/// A user by login, email or id, as every command names one.
pub(super) fn find(conn: &mut crate::db::DbConn, identifier: &str) -> Result<User, AppError> {
    users_repo::find_by_identifier(conn, identifier)?.ok_or_else(|| AppError::not_found("user"))
}

fn set_banned(state: &AppState, identifier: &str, banned: bool) -> anyhow::Result<String> {
    let user = with_conn(state, |conn| {
        let user = find(conn, identifier)?;
        let changes = UserChanges {
            banned: Some(banned),
            updated: Some(clock::now()),
            ..UserChanges::default()
        };
        users_repo::update(conn, &user.id, changes, &Caller::cli())
    })?;
    let done = if banned { "banned" } else { "no longer banned" };
    Ok(format!("user {} ({}) is {done}", user.login, user.id))
}

fn unlock(state: &AppState, identifier: &str) -> anyhow::Result<String> {
    let (user, lifted) = with_conn(state, |conn| {
        let user = find(conn, identifier)?;
        let lifted = lockout::unlock_account(conn, &user.id)?;
        Ok((user, lifted))
    })?;
    Ok(format!(
        "{lifted} lock(s) and failure counts lifted for {} ({})",
        user.login, user.id
    ))
}

fn set_password(state: &AppState, identifier: &str) -> anyhow::Result<String> {
    let user = with_conn(state, |conn| find(conn, identifier))?;
    let plain = read_new(&user.login)?;
    let hash = state.hasher.hash(&plain).map_err(fail)?;
    with_conn(state, |conn| {
        let changes = UserChanges {
            password_hash: Some(Some(hash)),
            updated: Some(clock::now()),
            ..UserChanges::default()
        };
        users_repo::update(conn, &user.id, changes, &Caller::cli()).map(drop)
    })?;
    Ok(format!("password set for {} ({})", user.login, user.id))
}
