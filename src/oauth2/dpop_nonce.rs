//! Server-issued DPoP nonces (RFC 9449 §8), when `DPOP_NONCE_REQUIRED` is on:
//! a proof must carry a nonce idhub gave out lately, so a proof made ahead
//! of time by a thief with the key's use, not the key, is worthless. A nonce
//! is an HMAC of the current five-minute window under a key every instance
//! reads from the database, so any instance accepts any instance's nonce
//! with no shared state per client. A nonce is good for its window and the
//! next one.
use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::db::server_secrets;
use crate::db::DbConn;
use crate::error::StoreError;

const SECRET_NAME: &str = "dpop-nonce";
pub const WINDOW_SECS: i64 = 300;

pub struct NonceKey {
    key: hmac::Key,
}

impl std::fmt::Debug for NonceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NonceKey")
    }
}

impl NonceKey {
    /// The shared key, made by whichever instance needs it first.
    pub fn load_or_create(conn: &mut DbConn) -> Result<Self, StoreError> {
        let secret = server_secrets::load_or_create(conn, SECRET_NAME)?;
        Ok(Self::from_secret(secret.as_bytes()))
    }

    pub fn from_secret(secret: &[u8]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        }
    }

    fn for_window(&self, window: i64) -> String {
        URL_SAFE_NO_PAD.encode(hmac::sign(&self.key, &window.to_be_bytes()))
    }

    /// The nonce to hand out at `now` (Unix seconds).
    pub fn current(&self, now: i64) -> String {
        self.for_window(now.div_euclid(WINDOW_SECS))
    }

    /// Whether `nonce` was handed out in this window or the last one.
    pub fn accepts(&self, nonce: &str, now: i64) -> bool {
        let Ok(tag) = URL_SAFE_NO_PAD.decode(nonce) else {
            return false;
        };
        let window = now.div_euclid(WINDOW_SECS);
        [window, window.saturating_sub(1)]
            .iter()
            .any(|w| hmac::verify(&self.key, &w.to_be_bytes(), &tag).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_lasts_its_window_and_the_next() {
        let key = NonceKey::from_secret(b"test secret");
        let issued = key.current(1_000_000);
        assert!(key.accepts(&issued, 1_000_000));
        assert!(key.accepts(&issued, 1_000_000 + WINDOW_SECS));
        assert!(!key.accepts(&issued, 1_000_000 + 2 * WINDOW_SECS));
        assert!(!key.accepts("not base64 !", 1_000_000));
        let other = NonceKey::from_secret(b"another secret");
        assert!(!other.accepts(&issued, 1_000_000));
    }
}
