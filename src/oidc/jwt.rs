//! Compact JWS: signed with a cached key, verified against the published set.
use jsonwebtoken::{decode, decode_header, Validation};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;

use super::keys::SigningKey;
use super::keystore::KeySet;
use crate::error::AppError;
use crate::secrets::base64url;

pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";
pub const ID_TOKEN_TYPE: &str = "JWT";
/// What clients may sign their `private_key_jwt` assertions with:
/// asymmetric algorithms only (a shared secret is no key).
pub const CLIENT_ASSERTION_ALGORITHMS: [&str; 9] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];
/// What clients may sign DPoP proofs with (RFC 9449): asymmetric, as above.
pub const DPOP_ALGORITHMS: &[&str] = &["ES256", "ES384", "RS256", "PS256", "EdDSA"];

pub fn encode(key: &SigningKey, typ: &str, claims: &impl Serialize) -> Result<String, AppError> {
    let header = json!({"alg": key.algorithm.name(), "typ": typ, "kid": key.kid});
    let claims = serde_json::to_vec(claims).map_err(|e| AppError::internal_from("claims", e))?;
    let mut token = base64url(header.to_string().as_bytes());
    token.push('.');
    token.push_str(&base64url(&claims));
    let signature = key.sign(token.as_bytes()).map_err(AppError::internal)?;
    token.push('.');
    token.push_str(&base64url(&signature));
    Ok(token)
}

/// Why a presented JWT is not accepted; kept vague towards clients.
#[derive(Debug, PartialEq, Eq)]
pub struct Rejected(pub String);

pub fn verify<T: DeserializeOwned>(
    keys: &KeySet,
    token: &str,
    typ: &str,
    issuer: &str,
) -> Result<T, Rejected> {
    verify_with(keys, token, typ, issuer, Expiry::Enforced)
}

/// Whether `exp` is checked: an `id_token_hint` may have expired (OIDC
/// RP-Initiated Logout §2) and still say who signed in where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    Enforced,
    Ignored,
}

pub fn verify_with<T: DeserializeOwned>(
    keys: &KeySet,
    token: &str,
    typ: &str,
    issuer: &str,
    expiry: Expiry,
) -> Result<T, Rejected> {
    let header = decode_header(token).map_err(|e| Rejected(format!("malformed token: {e}")))?;
    let type_matches = header
        .typ
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case(typ));
    if !type_matches {
        return Err(Rejected(format!("the token is not of type {typ}")));
    }
    let kid = header
        .kid
        .ok_or_else(|| Rejected("the token has no kid".into()))?;
    let key = keys
        .published
        .get(&kid)
        .ok_or_else(|| Rejected("the token's key is unknown or retired".into()))?;
    if header.alg != key.algorithm.jwt_algorithm() {
        return Err(Rejected(
            "the token's algorithm does not match its key".into(),
        ));
    }
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[issuer]);
    validation.validate_aud = false;
    validation.leeway = 0;
    // RFC 7519 §4.1.4: invalid on or after `exp`; jsonwebtoken alone accepts
    // the second of `exp` itself.
    validation.reject_tokens_expiring_in_less_than = 1;
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    if expiry == Expiry::Ignored {
        validation.validate_exp = false;
        validation.reject_tokens_expiring_in_less_than = 0;
    }
    decode::<T>(token, &key.decoding, &validation)
        .map(|data| data.claims)
        .map_err(|e| Rejected(format!("the token is invalid: {e}")))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use serde_json::Value;

    use super::*;
    use crate::oidc::keys::{generate_pem, SigningAlgorithm};

    fn key_set() -> KeySet {
        let algorithm = SigningAlgorithm::Es256;
        let pem = generate_pem(algorithm).unwrap_or_default();
        let key = Arc::new(SigningKey::from_pem("k1", algorithm, &pem).expect("key"));
        KeySet {
            published: HashMap::from([("k1".to_owned(), Arc::clone(&key))]),
            current: key,
            jwks: String::new(),
        }
    }

    #[test]
    fn a_token_is_invalid_from_the_second_of_its_exp() {
        let keys = key_set();
        let now = crate::clock::unix_now();
        let token_until = |exp: i64| {
            let claims = json!({"iss": "https://id", "sub": "s", "exp": exp});
            encode(&keys.current, ACCESS_TOKEN_TYPE, &claims).expect("signed")
        };
        let live = verify::<Value>(
            &keys,
            &token_until(now + 60),
            ACCESS_TOKEN_TYPE,
            "https://id",
        );
        assert!(live.is_ok());
        let at_exp = verify::<Value>(&keys, &token_until(now), ACCESS_TOKEN_TYPE, "https://id");
        assert!(at_exp.is_err(), "RFC 7519: invalid on or after exp");
    }
}
