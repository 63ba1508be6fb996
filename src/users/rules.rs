//! Who may change what about a user: one rule for the REST API, and for the
//! console and the CLI when they change users.
use crate::error::AppError;
use crate::users::model::User;

/// The parts of a change that only some may make.
#[derive(Debug, Default, Clone, Copy)]
pub struct ChangeRequest {
    pub login: bool,
    pub admin: Option<bool>,
    pub banned: Option<bool>,
}

/// Checks that `actor` may make `change` to the user `target_id`: the guest
/// changes nobody, only administrators change other users and anyone's
/// login, admin and banned, and nobody demotes or bans themselves.
pub fn may_change(actor: &User, target_id: &str, change: ChangeRequest) -> Result<(), AppError> {
    if actor.guest {
        return Err(AppError::Forbidden(
            "the guest account cannot change users".into(),
        ));
    }
    let is_admin = actor.is_admin();
    if !is_admin && target_id != actor.id {
        return Err(AppError::Forbidden(
            "only an administrator may change other users".into(),
        ));
    }
    if !is_admin && (change.login || change.admin.is_some() || change.banned.is_some()) {
        return Err(AppError::Forbidden(
            "only an administrator may change login, admin or banned".into(),
        ));
    }
    if target_id == actor.id {
        if change.admin == Some(false) {
            return Err(AppError::bad_field(
                "admin",
                "administrators cannot demote or ban themselves",
            ));
        }
        if change.banned == Some(true) {
            return Err(AppError::bad_field(
                "banned",
                "administrators cannot demote or ban themselves",
            ));
        }
    }
    Ok(())
}

/// Changing one's own password needs the current one (a stolen token or an
/// unattended session must not be enough); an administrator setting another
/// user's password does not.
pub fn needs_current_password(actor: &User, target_id: &str) -> bool {
    actor.id == target_id
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::users::repo::new_user;

    #[test]
    fn guests_plain_users_and_admins() {
        let now = crate::clock::now();
        let mut admin = new_user("root".into(), None, now);
        admin.admin = true;
        let plain = new_user("jane".into(), None, now);
        let mut guest = new_user("guest".into(), None, now);
        guest.guest = true;
        let ban = ChangeRequest {
            banned: Some(true),
            ..ChangeRequest::default()
        };
        assert!(may_change(&guest, &guest.id, ChangeRequest::default()).is_err());
        assert!(may_change(&plain, &plain.id, ChangeRequest::default()).is_ok());
        assert!(may_change(&plain, &plain.id, ban).is_err());
        assert!(may_change(&admin, &plain.id, ban).is_ok());
        assert!(may_change(&admin, &admin.id, ban).is_err());
        let rename = ChangeRequest::default();
        assert!(
            may_change(&plain, &admin.id, rename).is_err(),
            "others' accounts"
        );
    }
}
