//! First-start data: the built-in Hub service, a banned `guest`, and `admin`.
//! Safe when several instances start at once: a lost insert race is ignored.
use chrono::NaiveDateTime;

use crate::audit::Caller;
use crate::config::Settings;
use crate::db::DbConn;
use crate::error::AppError;
use crate::registry::model::{Service, ServiceChanges, HUB_SERVICE_ID};
use crate::registry::repo as services_repo;
use crate::secrets;
use crate::users::model::{ADMIN_LOGIN, GUEST_LOGIN};
use crate::users::password_hash::{self, PasswordHasher};
use crate::users::repo as users_repo;

/// What first-start found of the `admin` user.
#[derive(Debug, PartialEq, Eq)]
pub enum Admin {
    /// Made now; with the password when it was generated here, so the
    /// caller can show it this one time.
    Created(Option<String>),
    /// There already (or made by another instance starting at the same
    /// time): `IDHUB_ADMIN_PASSWORD` did nothing.
    Existing,
}

/// Creates whatever is missing.
pub fn ensure(
    conn: &mut DbConn,
    settings: &Settings,
    hasher: &PasswordHasher,
    now: NaiveDateTime,
) -> Result<Admin, AppError> {
    ensure_hub_service(conn, now)?;
    if users_repo::find_by_login(conn, GUEST_LOGIN)?.is_none() {
        let mut guest = users_repo::new_user(GUEST_LOGIN.into(), Some("Guest".into()), now);
        guest.guest = true;
        guest.banned = true;
        ignore_race(users_repo::create(conn, guest, &Caller::system()).map(|_| ()))?;
    }
    if users_repo::find_by_login(conn, ADMIN_LOGIN)?.is_some() {
        return Ok(Admin::Existing);
    }
    let (password, generated) = match &settings.admin_password {
        Some(password) if !password.expose().is_empty() => {
            // The same rules as any password set through the API.
            password_hash::validate(password.expose()).map_err(|e| {
                AppError::bad_field("IDHUB_ADMIN_PASSWORD", format!("IDHUB_ADMIN_PASSWORD: {e}"))
            })?;
            (password.expose().to_owned(), false)
        }
        _ => (secrets::generate(), true),
    };
    let mut admin = users_repo::new_user(ADMIN_LOGIN.into(), Some("Administrator".into()), now);
    admin.admin = true;
    admin.password_hash = Some(hasher.hash(&password)?);
    match users_repo::create(conn, admin, &Caller::system()) {
        Ok(_) => Ok(Admin::Created(generated.then_some(password))),
        Err(AppError::Conflict { .. }) => Ok(Admin::Existing),
        Err(other) => Err(other),
    }
}

fn ensure_hub_service(conn: &mut DbConn, now: NaiveDateTime) -> Result<(), AppError> {
    match services_repo::find(conn, HUB_SERVICE_ID) {
        Ok(_) => return Ok(()),
        Err(AppError::NotFound(_)) => {}
        Err(other) => return Err(other),
    }
    // Nobody knows this secret; an admin resets it to use Hub as a client.
    let mut hub = Service::new("Hub".into(), secrets::hash(&secrets::generate()), now);
    hub.id = HUB_SERVICE_ID.into();
    hub.key = Some("hub".into());
    hub.trusted = true;
    let no_changes = ServiceChanges::default();
    let created = services_repo::create(conn, hub, &no_changes, &[], &Caller::system());
    ignore_race(created.map(|_| ()))
}

fn ignore_race(result: Result<(), AppError>) -> Result<(), AppError> {
    match result {
        Err(AppError::Conflict { .. }) => Ok(()),
        other => other,
    }
}
