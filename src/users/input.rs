//! A user as a request describes it (the REST API's JSON, the console's
//! forms), checked field by field before anything is hashed or stored.
use chrono::NaiveDateTime;
use serde::Deserialize;

use super::model::{User, UserChanges};
use super::password_hash;
use super::repo::new_user;
use super::rules::ChangeRequest;
use crate::error::AppError;
use crate::validate::{self, MAX_SHORT_TEXT};

/// No `Debug`: it holds passwords.
#[derive(Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserInput {
    pub login: Option<String>,
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::validate::nullable")]
    pub email: Option<Option<String>>,
    pub password: Option<String>,
    /// Required with `password` when users change their own.
    pub current_password: Option<String>,
    pub admin: Option<bool>,
    pub banned: Option<bool>,
}

/// A checked update: the column changes, and the new password (checked
/// against the password rules, not yet hashed) with the current one.
pub struct CheckedUpdate {
    pub request: ChangeRequest,
    pub changes: UserChanges,
    pub password: Option<String>,
    pub current_password: Option<String>,
}

/// A checked new user, its password not yet hashed.
pub struct CheckedNew {
    pub user: User,
    pub password: Option<String>,
}

fn checked_email(email: Option<Option<String>>) -> Result<Option<Option<String>>, AppError> {
    email
        .map(|inner| match inner.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => validate::email(text).map(Some),
        })
        .transpose()
}

fn checked_password(password: Option<String>) -> Result<Option<String>, AppError> {
    if let Some(plain) = &password {
        password_hash::validate(plain)?;
    }
    Ok(password)
}

impl UserInput {
    pub fn check_new(self, now: NaiveDateTime) -> Result<CheckedNew, AppError> {
        let login = validate::login(self.login.as_deref().unwrap_or(""))?;
        let name = validate::optional_text("name", self.name.as_deref(), MAX_SHORT_TEXT)?;
        let mut user = new_user(login, name, now);
        user.email = checked_email(self.email)?.flatten();
        user.admin = self.admin.unwrap_or(false);
        user.banned = self.banned.unwrap_or(false);
        Ok(CheckedNew {
            user,
            password: checked_password(self.password)?,
        })
    }

    /// The parts of the change that only some may make, judged by
    /// `rules::may_change` before the fields are checked.
    pub fn change_request(&self) -> ChangeRequest {
        ChangeRequest {
            login: self.login.is_some(),
            admin: self.admin,
            banned: self.banned,
        }
    }

    pub fn check_update(self, now: NaiveDateTime) -> Result<CheckedUpdate, AppError> {
        let request = self.change_request();
        let changes = UserChanges {
            login: self.login.as_deref().map(validate::login).transpose()?,
            name: match self.name.as_deref() {
                None => None,
                value => Some(validate::required_text("name", value, MAX_SHORT_TEXT)?),
            },
            email: checked_email(self.email)?,
            admin: self.admin,
            banned: self.banned,
            updated: Some(now),
            password_hash: None,
        };
        Ok(CheckedUpdate {
            request,
            changes,
            password: checked_password(self.password)?,
            current_password: self.current_password,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_email_clears_it_and_bad_ones_are_refused() {
        let now = crate::clock::now();
        let clear = UserInput {
            email: Some(Some("  ".into())),
            ..UserInput::default()
        };
        assert_eq!(clear.check_update(now).unwrap().changes.email, Some(None));
        let bad = UserInput {
            email: Some(Some("nobody".into())),
            ..UserInput::default()
        };
        assert!(bad.check_update(now).is_err());
    }

    #[test]
    fn short_passwords_are_refused_before_hashing() {
        let now = crate::clock::now();
        let input = UserInput {
            login: Some("jane".into()),
            password: Some("short".into()),
            ..UserInput::default()
        };
        assert!(input.check_new(now).is_err());
    }
}
