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
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    decode::<T>(token, &key.decoding, &validation)
        .map(|data| data.claims)
        .map_err(|e| Rejected(format!("the token is invalid: {e}")))
}
