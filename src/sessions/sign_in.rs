//! Checking a login and password, with lockout: the one rule behind the
//! sign-in page, the password grant and a password change. Argon2 runs on the
//! blocking pool between two short database steps, so no connection is held
//! while hashing. Known and unknown logins take the same steps (a hash, the
//! same counters), so neither the answer nor its timing tells them apart.
use chrono::NaiveDateTime;

use std::sync::Arc;

use super::familiar_devices::DeviceKey;
use super::lockout::{self, Counters, Device, Lockout, Source};
use crate::audit::{self, Actor, Event, Kind, Origin, Recorder};
use crate::config::SecondFactorPolicy;
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::users::model::User;
use crate::users::password_hash::PasswordHasher;
use crate::users::repo as users_repo;
use crate::{factors, telemetry};

/// One attempt to sign in.
pub struct Attempt {
    /// A login, an email address or a user id.
    pub identifier: String,
    pub password: String,
    /// Where it comes from: failures are throttled per source too.
    pub source: Source,
    /// For the audit trail: the request's address and agent, and the way in.
    pub origin: Origin,
    pub via: Via,
    /// On the sign-in page: the key of device cookies and the cookie the
    /// browser sent, if any (`familiar_devices`).
    pub device: Option<PresentedDevice>,
    /// Who must have a second factor.
    pub policy: SecondFactorPolicy,
}

pub struct PresentedDevice {
    pub key: Arc<DeviceKey>,
    pub cookie: Option<String>,
}

/// The way a password reached idhub, as the audit trail names it.
#[derive(Debug, Clone)]
pub enum Via {
    SignInPage,
    /// The password grant, by this service.
    PasswordGrant(String),
    /// The current password, asked before a password change.
    PasswordChange,
}

impl Via {
    fn name(&self) -> &'static str {
        match self {
            Via::SignInPage => "signin_page",
            Via::PasswordGrant(_) => "password_grant",
            Via::PasswordChange => "password_change",
        }
    }
}

/// The event recording an attempt's outcome. The identifier typed is not
/// kept (people type passwords into login fields); a known user's id is.
fn audit_event(user: Option<&User>, origin: &Origin, via: &Via, failure: Option<&str>) -> Event {
    // Whoever failed is not known to be the account's owner.
    let (kind, actor) = match (failure, user) {
        (None, Some(user)) => (Kind::SignInSucceeded, Actor::User(user.id.clone())),
        _ => (Kind::SignInFailed, Actor::Anonymous),
    };
    let mut event = Event::new(kind, actor, origin.clone()).detail("via", via.name());
    if let Some(user) = user {
        event = event.user(&user.id);
    }
    if let Via::PasswordGrant(service_id) = via {
        event = event.service(service_id);
    }
    match failure {
        Some(reason) => event.detail("reason", reason),
        None => event,
    }
}

#[derive(Debug)]
pub enum Outcome {
    /// The password is right. The user may still be banned: callers say so
    /// in their own words. On the sign-in page, the device cookie to set.
    Verified(User, Option<String>),
    /// The password is right and the user has a second factor enrolled:
    /// the sign-in page asks for it next; the password grant refuses.
    SecondFactorNeeded(User, Option<String>),
    /// The password is right, the user must have a second factor and has
    /// none: the sign-in page sets one up first; the password grant refuses.
    EnrolFirst(User, Option<String>),
    /// Unknown user or wrong password, answered alike.
    WrongCredentials,
    /// Too many recent failures from this source, for this account, or both.
    Locked,
}

pub async fn check(
    pool: &DbPool,
    hasher: &PasswordHasher,
    lockout: Lockout,
    recorder: &Recorder,
    attempt: Attempt,
    now: NaiveDateTime,
) -> Result<Outcome, AppError> {
    let Attempt {
        identifier,
        password,
        source,
        origin,
        via,
        device,
        policy,
    } = attempt;
    let (origin_then, via_then) = (origin.clone(), via.clone());
    let (user, counters, locked, device_tag) = db::run(pool, move |conn| {
        // No login, email or id holds a control character (and PostgreSQL
        // refuses a NUL in a query): such an identifier names nobody.
        let identifier = identifier.trim();
        let user = match identifier.chars().any(char::is_control) {
            true => None,
            false => users_repo::find_by_identifier(conn, identifier)?.filter(|u| !u.guest),
        };
        let account = lockout::account_key(user.as_ref().map(|u| u.id.as_str()), identifier);
        let (familiar, device_tag) = match (&device, &user) {
            (Some(presented), Some(user)) => {
                // A password change retires the cookies issued before.
                let credential = user.password_hash.as_deref().unwrap_or_default();
                let familiar = presented
                    .cookie
                    .as_deref()
                    .and_then(|cookie| presented.key.recognize(cookie, &user.id, credential))
                    .map_or(Device::Unknown, |nonce| Device::Familiar {
                        user_id: user.id.clone(),
                        nonce,
                    });
                (familiar, Some(presented.key.issue(&user.id, credential)))
            }
            _ => (Device::Unknown, None),
        };
        let counters = Counters::new(&lockout, &source, &account, familiar);
        let locked = counters.locked(conn, now)?;
        Ok((user, counters, locked, device_tag))
    })
    .await?;
    if locked {
        // Queued, not written here: a locked source may keep trying, and
        // each try must stay cheap (the queue drops what it cannot hold).
        telemetry::sign_in_failed(via_then.name(), "locked");
        let event = audit_event(user.as_ref(), &origin_then, &via_then, Some("locked"));
        recorder.submit(event);
        return Ok(Outcome::Locked);
    }
    let stored_hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let verified = hasher
        .run(move |hasher| hasher.check(&password, stored_hash.as_deref()))
        .await?;
    let known = user.clone();
    let second_factor = db::run(pool, move |conn| {
        match verified {
            true => counters.record_success(conn)?,
            false => counters.record_failure(conn, now)?,
        }
        let failure = match (&known, verified) {
            (Some(user), true) if user.banned => Some("banned"),
            (Some(_), true) => None,
            _ => Some("wrong_credentials"),
        };
        if let Some(reason) = failure {
            telemetry::sign_in_failed(via.name(), reason);
        }
        let status = match (&known, failure) {
            (Some(user), None) => Some(factors::repo::sign_in_needs(conn, &user.id)?),
            _ => None,
        };
        let second_factor = status.map(|(enabled, _)| enabled);
        let mut event = audit_event(known.as_ref(), &origin, &via, failure);
        let must = known
            .as_ref()
            .is_some_and(|user| policy.requires(user.admin))
            || status.is_some_and(|(_, required)| required);
        // The password was right; the sign-in is not done until the second
        // factor is (its own events say how that went).
        let next = match second_factor {
            Some(true) => Some("asked"),
            Some(false) if must => Some("to_set_up"),
            _ => None,
        };
        if let Some(next) = next {
            event.kind = Kind::SignInPasswordVerified;
            event = event.detail("secondFactor", next);
        }
        audit::store::record(conn, &event, now)?;
        Ok((second_factor, must))
    })
    .await?;
    Ok(match (user, second_factor) {
        (Some(user), (Some(true), _)) if verified => Outcome::SecondFactorNeeded(user, device_tag),
        (Some(user), (Some(false), true)) if verified => Outcome::EnrolFirst(user, device_tag),
        (Some(user), _) if verified => Outcome::Verified(user, device_tag),
        _ => Outcome::WrongCredentials,
    })
}
