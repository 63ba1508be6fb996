//! Browsers that signed in to an account before (OWASP's "device cookies"):
//! a successful sign-in leaves a cookie `nonce.mac`, the MAC (under a key
//! every instance shares) of the user's id, a random nonce and the user's
//! current password hash, so a password change retires every cookie. The
//! account-wide lock, the backstop against guessing from many addresses,
//! does not apply to a browser with a valid cookie: strangers with a botnet
//! cannot lock an administrator out of their own browser. Such a browser is
//! counted per address and account like any other, and per cookie instead
//! of per account, so a stolen cookie buys a few guesses, not the account's
//! allowance from every address. A new browser during such an attack waits
//! for the lock to end (or an operator runs `idhub users unlock`).
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

    fn message(user_id: &str, nonce: &str, credential: &str) -> Vec<u8> {
        [user_id, nonce, credential].join("\0").into_bytes()
    }

    /// A new cookie for a browser that signed in as `user_id`, whose
    /// password hash is `credential`.
    pub fn issue(&self, user_id: &str, credential: &str) -> String {
        let nonce = crate::secrets::generate();
        let mac = hmac::sign(&self.key, &Self::message(user_id, &nonce, credential));
        format!("{nonce}.{}", URL_SAFE_NO_PAD.encode(mac))
    }

    /// The MAC of `parts` under this key, for another short-lived browser
    /// cookie (`pending`): `purpose` keeps the two kinds apart.
    pub fn mac(&self, purpose: &str, parts: &[&str]) -> String {
        let message = [&[purpose], parts].concat().join("\0");
        URL_SAFE_NO_PAD.encode(hmac::sign(&self.key, message.as_bytes()))
    }

    /// Whether `mac` is that MAC, compared in constant time.
    pub fn verify_mac(&self, purpose: &str, parts: &[&str], mac: &str) -> bool {
        let message = [&[purpose], parts].concat().join("\0");
        URL_SAFE_NO_PAD
            .decode(mac)
            .is_ok_and(|mac| hmac::verify(&self.key, message.as_bytes(), &mac).is_ok())
    }

    /// The cookie's nonce when it was issued for `user_id` with this
    /// credential (the MAC compared in constant time).
    pub fn recognize(&self, cookie: &str, user_id: &str, credential: &str) -> Option<String> {
        let (nonce, mac) = cookie.split_once('.')?;
        let mac = URL_SAFE_NO_PAD.decode(mac).ok()?;
        hmac::verify(&self.key, &Self::message(user_id, nonce, credential), &mac)
            .ok()
            .map(|()| nonce.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_is_recognized_for_its_user_and_password_only() {
        let key = DeviceKey::from_secret(b"key");
        let cookie = key.issue("u1", "hash-1");
        assert!(key.recognize(&cookie, "u1", "hash-1").is_some());
        assert!(key.recognize(&cookie, "u2", "hash-1").is_none());
        assert!(
            key.recognize(&cookie, "u1", "hash-2").is_none(),
            "password changed"
        );
        assert!(DeviceKey::from_secret(b"other")
            .recognize(&cookie, "u1", "hash-1")
            .is_none());
        assert!(key.recognize("no-dot", "u1", "hash-1").is_none());
        assert_ne!(cookie, key.issue("u1", "hash-1"), "a nonce per browser");
    }
}
