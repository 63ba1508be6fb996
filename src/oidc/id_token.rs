//! OpenID Connect ID tokens, with `at_hash`/`c_hash` where the response carries
//! an access token or a code.
use chrono::NaiveDateTime;
use serde::Serialize;
use sha2::{Digest, Sha256, Sha512};

use super::jwt::{self, ID_TOKEN_TYPE};
use super::keys::SigningAlgorithm;
use super::keystore::KeySet;
use super::user_claims::UserClaims;
use crate::error::AppError;
use crate::secrets::base64url;
use crate::users::model::User;

#[derive(Debug, Serialize)]
pub struct IdClaims {
    pub iss: String,
    #[serde(flatten)]
    pub user: UserClaims,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub c_hash: Option<String>,
    /// The browser session that signed in (OIDC Back-Channel Logout).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// How the user signed in (RFC 8176).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
    /// `mfa` after two factors, else `pwd`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acr: Option<&'static str>,
}

/// OIDC Core §3.1.3.6: the left half of the hash that matches the JWS algorithm
/// (SHA-512 for Ed25519), base64url-encoded.
pub fn half_hash(algorithm: SigningAlgorithm, value: &str) -> String {
    let digest: Vec<u8> = match algorithm {
        SigningAlgorithm::Rs256 | SigningAlgorithm::Es256 => {
            Sha256::digest(value.as_bytes()).to_vec()
        }
        SigningAlgorithm::EdDsa => Sha512::digest(value.as_bytes()).to_vec(),
    };
    base64url(&digest[..digest.len() / 2])
}

/// What an ID token says besides the key and lifetimes.
pub struct IdTokenFor<'a> {
    pub user: &'a User,
    pub client_id: &'a str,
    pub scope: &'a [String],
    pub auth_time: NaiveDateTime,
    pub nonce: Option<&'a str>,
    pub access_token: Option<&'a str>,
    pub code: Option<&'a str>,
    pub sid: Option<&'a str>,
    /// The `groups` claim, when the scope asks for it.
    pub groups: Option<Vec<String>>,
    /// How the user signed in (`amr` values, space-separated), if known.
    pub amr: Option<&'a str>,
}

pub use crate::factors::amr::{acr_of, HWK, MFA, OTP, PWD, SWK};

pub fn sign(
    keys: &KeySet,
    issuer: &str,
    subject: IdTokenFor<'_>,
    ttl_secs: i64,
    now: NaiveDateTime,
) -> Result<String, AppError> {
    let algorithm = keys.current.algorithm;
    let has = |s: &str| subject.scope.iter().any(|x| x == s);
    let iat = now.and_utc().timestamp();
    let claims = IdClaims {
        iss: issuer.to_owned(),
        user: UserClaims {
            groups: subject.groups,
            ..UserClaims::of(subject.user, has)
        },
        aud: subject.client_id.to_owned(),
        exp: iat + ttl_secs,
        iat,
        auth_time: subject.auth_time.and_utc().timestamp(),
        nonce: subject.nonce.map(str::to_owned),
        at_hash: subject.access_token.map(|t| half_hash(algorithm, t)),
        c_hash: subject.code.map(|c| half_hash(algorithm, c)),
        sid: subject.sid.map(str::to_owned),
        amr: subject
            .amr
            .map(|methods| methods.split_whitespace().map(str::to_owned).collect()),
        acr: subject.amr.map(acr_of),
    };
    jwt::encode(&keys.current, ID_TOKEN_TYPE, &claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_matches_the_oidc_example() {
        // OIDC Core A.3: access token and at_hash of the RS256 example.
        assert_eq!(
            half_hash(
                SigningAlgorithm::Rs256,
                "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
            ),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
        assert_eq!(half_hash(SigningAlgorithm::EdDsa, "x").len(), 43);
    }
}
