//! A sign-in waiting for its second factor: after the right password, the
//! browser holds `idhub_pending` = `USER.EXPIRY.MAC` for five minutes, the
//! MAC (the key every instance shares) binding the user, the expiry and
//! their password hash, so a password change voids it, and the step it
//! opens. Nothing is stored.
use super::familiar_devices::DeviceKey;

pub const PENDING_COOKIE: &str = "idhub_pending";
pub const PENDING_TTL_SECS: i64 = 300;

/// Where a pending sign-in goes on: a factor the user has, or setting one
/// up (a user who must have one and has none). A cookie opens its own
/// step only: one issued to check a factor never opens the set-up, which
/// would let a password alone add a factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    Verify,
    Enrol,
}

impl NextStep {
    fn purpose(self) -> &'static str {
        match self {
            NextStep::Verify => "pending-second-factor",
            NextStep::Enrol => "pending-set-up",
        }
    }
}

/// The cookie for `user_id` (whose password hash is `credential`) at `now`.
pub fn issue(key: &DeviceKey, step: NextStep, user_id: &str, credential: &str, now: i64) -> String {
    let expires = now.saturating_add(PENDING_TTL_SECS).to_string();
    let mac = key.mac(step.purpose(), &[user_id, &expires, credential]);
    format!("{user_id}.{expires}.{mac}")
}

/// The user a cookie names, unchecked: look them up, then `holds`.
pub fn user_of(cookie: &str) -> Option<&str> {
    cookie.split('.').next().filter(|id| !id.is_empty())
}

/// Whether the cookie is unexpired and was issued for this user, password
/// and step.
pub fn holds(
    key: &DeviceKey,
    step: NextStep,
    cookie: &str,
    user_id: &str,
    credential: &str,
    now: i64,
) -> bool {
    let mut parts = cookie.splitn(3, '.');
    let (Some(id), Some(expires), Some(mac)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let unexpired = expires.parse::<i64>().is_ok_and(|at| at > now);
    id == user_id
        && unexpired
        && key.verify_mac(step.purpose(), &[user_id, expires, credential], mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERIFY: NextStep = NextStep::Verify;

    #[test]
    fn a_pending_cookie_holds_for_its_user_password_step_and_five_minutes() {
        let key = DeviceKey::from_secret(b"key");
        let cookie = issue(&key, VERIFY, "u1", "hash-1", 1000);
        assert_eq!(user_of(&cookie), Some("u1"));
        assert!(holds(&key, VERIFY, &cookie, "u1", "hash-1", 1000));
        let later = 1000 + PENDING_TTL_SECS;
        assert!(!holds(&key, VERIFY, &cookie, "u1", "hash-1", later));
        assert!(
            !holds(&key, VERIFY, &cookie, "u1", "hash-2", 1000),
            "password changed"
        );
        assert!(!holds(&key, VERIFY, &cookie, "u2", "hash-1", 1000));
        assert!(
            !holds(&key, NextStep::Enrol, &cookie, "u1", "hash-1", 1000),
            "a cookie to check a factor does not open the set-up"
        );
        let forged = cookie.replace("u1.", "u2.");
        assert!(!holds(&key, VERIFY, &forged, "u2", "hash-1", 1000));
        let other = DeviceKey::from_secret(b"other");
        assert!(!holds(&other, VERIFY, &cookie, "u1", "hash-1", 1000));
    }
}
