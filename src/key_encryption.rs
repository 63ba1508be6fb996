//! Secrets encrypted at rest (signing keys, TOTP secrets): AES-256-GCM
//! (aws-lc-rs) under the key in `IDHUB_KEY_ENCRYPTION_KEY`, with the row's
//! id as associated data (a key id; `totp:` and a user id), so a sealed
//! secret cannot be moved to another row. A stored key is either a PEM
//! (not encrypted) or `aes256gcm:` and the base64 of nonce, ciphertext and
//! tag; both load, so keys can be encrypted while servers run.
use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;

const SEALED_PREFIX: &str = "aes256gcm:";
const KEY_BYTES: usize = 32;

pub struct KeyEncryption {
    key: LessSafeKey,
}

impl std::fmt::Debug for KeyEncryption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyEncryption(***)")
    }
}

/// Why a stored key could not be read.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("signing key {0} is encrypted: set IDHUB_KEY_ENCRYPTION_KEY to the key it was encrypted with")]
    NoKey(String),
    #[error("IDHUB_KEY_ENCRYPTION_KEY does not decrypt signing key {0}: it was encrypted with another key, or altered")]
    WrongKey(String),
}

impl KeyEncryption {
    /// From the setting: 32 bytes in base64 (standard or URL-safe).
    pub fn from_setting(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let bytes = STANDARD
            .decode(text)
            .or_else(|_| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')))
            .map_err(|_| invalid_setting())?;
        if bytes.len() != KEY_BYTES {
            return Err(invalid_setting());
        }
        let key = UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| invalid_setting())?;
        Ok(Self {
            key: LessSafeKey::new(key),
        })
    }

    /// A new random key, as the setting takes it.
    pub fn generate() -> Result<String, String> {
        let mut bytes = [0u8; KEY_BYTES];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| "no randomness for a key".to_owned())?;
        Ok(STANDARD.encode(bytes))
    }

    /// The PEM of key `kid`, encrypted for storage.
    pub fn seal(&self, kid: &str, pem: &str) -> Result<String, String> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| "no randomness for a nonce".to_owned())?;
        let mut sealed = pem.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(kid.as_bytes()),
                &mut sealed,
            )
            .map_err(|_| format!("cannot encrypt signing key {kid}"))?;
        let mut stored = nonce.to_vec();
        stored.append(&mut sealed);
        Ok(format!("{SEALED_PREFIX}{}", STANDARD.encode(stored)))
    }

    fn open_sealed(&self, kid: &str, sealed: &str) -> Result<String, OpenError> {
        let wrong = || OpenError::WrongKey(kid.to_owned());
        let mut bytes = STANDARD.decode(sealed).map_err(|_| wrong())?;
        if bytes.len() < NONCE_LEN {
            return Err(wrong());
        }
        let mut ciphertext = bytes.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&bytes).map_err(|_| wrong())?;
        let pem = self
            .key
            .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut ciphertext)
            .map_err(|_| wrong())?;
        String::from_utf8(pem.to_vec()).map_err(|_| wrong())
    }
}

fn invalid_setting() -> String {
    "invalid settings: key_encryption_key must be 32 bytes in base64 \
     (`idhub keys new-encryption-key` makes one)"
        .to_owned()
}

/// Whether a stored key is encrypted.
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(SEALED_PREFIX)
}

/// `stored` sealed with `new`: opened with `current` first, or with `new`
/// when a run before sealed it already (a re-run after an interruption).
/// What `idhub keys encrypt` and `change-encryption-key` do to each secret.
pub fn reseal(
    current: Option<&KeyEncryption>,
    new: &KeyEncryption,
    associated: &str,
    stored: &str,
) -> Result<String, String> {
    let text = open(current, associated, stored)
        .or_else(|_| open(Some(new), associated, stored))
        .map_err(|e| e.to_string())?;
    new.seal(associated, &text)
}

/// The PEM of a stored key: as stored when not encrypted, else decrypted.
pub fn open(
    encryption: Option<&KeyEncryption>,
    kid: &str,
    stored: &str,
) -> Result<String, OpenError> {
    let Some(sealed) = stored.strip_prefix(SEALED_PREFIX) else {
        return Ok(stored.to_owned());
    };
    match encryption {
        Some(encryption) => encryption.open_sealed(kid, sealed),
        None => Err(OpenError::NoKey(kid.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encryption() -> KeyEncryption {
        let key = KeyEncryption::generate().expect("a key");
        KeyEncryption::from_setting(&key).expect("a valid key")
    }

    #[test]
    fn a_sealed_key_opens_with_its_key_and_kid_only() {
        let first = encryption();
        let sealed = first
            .seal("kid-1", "-----BEGIN PRIVATE KEY-----")
            .expect("sealed");
        assert!(is_sealed(&sealed));
        assert!(!sealed.contains("PRIVATE"));
        assert_eq!(
            open(Some(&first), "kid-1", &sealed).expect("opens"),
            "-----BEGIN PRIVATE KEY-----"
        );
        assert!(matches!(
            open(Some(&encryption()), "kid-1", &sealed),
            Err(OpenError::WrongKey(_))
        ));
        assert!(matches!(
            open(Some(&first), "kid-2", &sealed),
            Err(OpenError::WrongKey(_))
        ));
        assert!(matches!(
            open(None, "kid-1", &sealed),
            Err(OpenError::NoKey(_))
        ));
        assert_eq!(
            open(None, "kid-1", "-----BEGIN").expect("plain"),
            "-----BEGIN"
        );
    }

    #[test]
    fn the_setting_is_32_bytes_of_base64() {
        assert!(KeyEncryption::from_setting(&STANDARD.encode([7u8; 32])).is_ok());
        assert!(KeyEncryption::from_setting(&URL_SAFE_NO_PAD.encode([7u8; 32])).is_ok());
        assert!(KeyEncryption::from_setting(&STANDARD.encode([7u8; 16])).is_err());
        assert!(KeyEncryption::from_setting("not base64 at all!").is_err());
    }

    #[test]
    fn altered_ciphertext_is_refused() {
        let key = encryption();
        let sealed = key.seal("kid", "pem").expect("sealed");
        let mut bytes = STANDARD
            .decode(sealed.trim_start_matches(SEALED_PREFIX))
            .expect("base64");
        if let Some(last) = bytes.last_mut() {
            *last ^= 1;
        }
        let altered = format!("{SEALED_PREFIX}{}", STANDARD.encode(bytes));
        assert!(open(Some(&key), "kid", &altered).is_err());
    }
}
