//! Browsers that signed in to an account before (OWASP's "device cookies"):
//! a successful sign-in leaves a cookie that is an HMAC of the user's id
//! under a key every instance shares. The account-wide lock, the backstop
//! against guessing from many addresses, does not apply to a browser that
//! carries the account's cookie, so strangers with a botnet cannot lock an
//! administrator out of their own browser; that browser is still throttled
//! per address and account like any other. A new browser during such an
//! attack waits for the lock to end (or an operator runs `idhub users
//! unlock`).
use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::db::{server_secrets, DbConn};
use crate::error::StoreError;

pub const DEVICE_COOKIE: &str = "idhub_device";
const SECRET_NAME: &str = "familiar-devices";

pub struct DeviceKey {
    key: hmac::Key,
}

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceKey")
    }
}

impl DeviceKey {
    pub fn load_or_create(conn: &mut DbConn) -> Result<Self, StoreError> {
        let secret = server_secrets::load_or_create(conn, SECRET_NAME)?;
        Ok(Self::from_secret(secret.as_bytes()))
    }

    pub fn from_secret(secret: &[u8]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        }
    }

    /// The cookie's value for a browser that signed in as `user_id`.
    pub fn tag(&self, user_id: &str) -> String {
        URL_SAFE_NO_PAD.encode(hmac::sign(&self.key, user_id.as_bytes()))
    }

    /// Whether `cookie` is the tag of `user_id` (compared in constant time).
    pub fn recognizes(&self, cookie: &str, user_id: &str) -> bool {
        URL_SAFE_NO_PAD
            .decode(cookie)
            .is_ok_and(|tag| hmac::verify(&self.key, user_id.as_bytes(), &tag).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_is_recognized_for_its_user_only() {
        let key = DeviceKey::from_secret(b"key");
        let tag = key.tag("u1");
        assert!(key.recognizes(&tag, "u1"));
        assert!(!key.recognizes(&tag, "u2"));
        assert!(!DeviceKey::from_secret(b"other").recognizes(&tag, "u1"));
        assert!(!key.recognizes("not base64 !", "u1"));
    }
}
