//! PKCE (RFC 7636), S256 only: `plain` would leak the verifier with the request.
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::secrets::base64url;

fn is_unreserved(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// A verifier is 43 to 128 unreserved characters.
pub fn valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len()) && is_unreserved(verifier)
}

/// An S256 challenge is the base64url SHA-256 of a verifier: 43 characters.
pub fn valid_challenge(challenge: &str) -> bool {
    challenge.len() == 43 && is_unreserved(challenge)
}

pub fn s256(verifier: &str) -> String {
    base64url(&Sha256::digest(verifier.as_bytes()))
}

pub fn verify(verifier: &str, challenge: &str) -> bool {
    valid_verifier(verifier) && bool::from(s256(verifier).as_bytes().ct_eq(challenge.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert_eq!(s256(verifier), challenge);
        assert!(verify(verifier, challenge));
        assert!(!verify(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX",
            challenge
        ));
        assert!(valid_challenge(challenge));
    }

    #[test]
    fn malformed_verifiers_and_challenges() {
        assert!(!valid_verifier("short"));
        assert!(!valid_verifier(&"a".repeat(129)));
        assert!(!valid_verifier(&format!("{}!", "a".repeat(50))));
        assert!(!valid_challenge("plain-value"));
    }
}
