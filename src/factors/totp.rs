//! RFC 6238 time-based codes as authenticator apps make them: HMAC-SHA-1,
//! 6 digits, 30-second steps, one step of drift either way. A code is
//! accepted once: the step it matched is returned, and a step at or before
//! the last one accepted is refused.
use totp_rs::{Algorithm, TOTP};

/// Seconds per step.
pub const STEP: u64 = 30;
pub const DIGITS: usize = 6;
/// 160 bits, as RFC 4226 recommends.
pub const SECRET_BYTES: usize = 20;

/// A new random secret.
pub fn new_secret() -> Vec<u8> {
    use rand::RngCore;
    let mut secret = vec![0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    secret
}

fn totp(secret: &[u8], issuer: &str, account: &str) -> Option<TOTP> {
    // totp-rs refuses ':' in the issuer and account of an otpauth URI.
    let clean = |text: &str| text.replace(':', " ");
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        1,
        STEP,
        secret.to_vec(),
        Some(clean(issuer)),
        clean(account),
    )
    .ok()
}

/// The `otpauth://totp/…` URI an authenticator app scans.
pub fn otpauth_uri(secret: &[u8], issuer: &str, account: &str) -> Option<String> {
    totp(secret, issuer, account).map(|t| t.get_url())
}

/// The secret as people type it into an app: base32, in groups of four.
pub fn secret_text(secret: &[u8]) -> String {
    let encoded = totp_rs::Secret::Raw(secret.to_vec())
        .to_encoded()
        .to_string();
    encoded
        .trim_end_matches('=')
        .as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The secret of its text form (what `secret_text` shows, spaces allowed).
pub fn secret_from_text(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.split_whitespace().collect();
    totp_rs::Secret::Encoded(compact).to_bytes().ok()
}

/// The step of `code` at `now` (unix seconds) if it is right within one
/// step of drift and later than `last_step`; `None` otherwise.
pub fn accept(secret: &[u8], code: &str, now: u64, last_step: u64) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let generator = totp(secret, "idhub", "user")?;
    let current = now / STEP;
    let mut matched = None;
    // Every candidate is computed and compared, so the time taken does not
    // say which step matched.
    for step in [
        current.saturating_sub(1),
        current,
        current.saturating_add(1),
    ] {
        let expected = generator.generate(step.saturating_mul(STEP));
        let equal: bool =
            subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), code.as_bytes()).into();
        if equal && step > last_step && matched.is_none() {
            matched = Some(step);
        }
    }
    matched
}

/// The code of `secret` at `now`, as an app shows it (tests and docs).
pub fn code_at(secret: &[u8], now: u64) -> Option<String> {
    totp(secret, "idhub", "user").map(|t| t.generate(now))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1, truncated to 6 digits.
    #[test]
    fn codes_match_the_rfc_vectors() {
        let secret = b"12345678901234567890";
        assert_eq!(code_at(secret, 59).unwrap(), "287082");
        assert_eq!(code_at(secret, 1_111_111_109).unwrap(), "081804");
        assert_eq!(code_at(secret, 1_234_567_890).unwrap(), "005924");
    }

    #[test]
    fn a_code_is_accepted_once_within_one_step_of_drift() {
        let secret = new_secret();
        let now = 1_700_000_015;
        let code = code_at(&secret, now).unwrap();
        let step = accept(&secret, &code, now, 0).expect("right now");
        assert_eq!(step, now / STEP);
        assert_eq!(accept(&secret, &code, now, step), None, "used in its step");
        let earlier = code_at(&secret, now - STEP).unwrap();
        assert!(accept(&secret, &earlier, now, 0).is_some(), "one step late");
        let older = code_at(&secret, now - 2 * STEP).unwrap();
        assert_eq!(accept(&secret, &older, now, 0), None, "two steps late");
        assert_eq!(accept(&secret, "12345", now, 0), None);
        assert_eq!(accept(&secret, "abcdef", now, 0), None);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert!(accept(&secret, &spaced, now, 0).is_some());
    }

    #[test]
    fn the_uri_and_text_carry_the_secret() {
        let secret = b"12345678901234567890";
        let uri = otpauth_uri(secret, "idhub: test", "ada").unwrap();
        assert!(uri.starts_with("otpauth://totp/"), "{uri}");
        assert!(
            uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
            "{uri}"
        );
        assert_eq!(
            secret_text(secret),
            "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ"
        );
    }
}
