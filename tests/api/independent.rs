//! Verifies idhub's JWTs with jwt-simple against the published JWKS: a library
//! we did not write, fed only what any resource server would fetch.
use std::collections::HashSet;

use base64::Engine;
use jwt_simple::prelude::*;
use serde_json::Value;

use crate::helpers::{peek, TestApp};

fn b64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .expect("base64url")
}

/// Returns the verified claims, or panics with the reason.
pub async fn verify_with_jwks(app: &TestApp, token: &str) -> Value {
    let jwks: Value = app.public_json("/api/rest/oauth2/keys").await;
    let kid = peek(token, 0)["kid"].as_str().expect("kid").to_owned();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .unwrap_or_else(|| panic!("kid {kid} not in the JWKS {jwks}"))
        .clone();
    let options = VerificationOptions {
        allowed_issuers: Some(HashSet::from([app.address.clone()])),
        required_key_id: Some(kid),
        ..Default::default()
    };
    let field = |name: &str| {
        jwk[name]
            .as_str()
            .unwrap_or_else(|| panic!("jwk lacks {name}"))
    };
    let claims: JWTClaims<Value> = match jwk["kty"].as_str() {
        Some("RSA") => RS256PublicKey::from_components(&b64(field("n")), &b64(field("e")))
            .unwrap()
            .verify_token(token, Some(options)),
        Some("EC") => {
            let mut point = vec![4u8];
            point.extend(b64(field("x")));
            point.extend(b64(field("y")));
            ES256PublicKey::from_bytes(&point)
                .unwrap()
                .verify_token(token, Some(options))
        }
        Some("OKP") => Ed25519PublicKey::from_bytes(&b64(field("x")))
            .unwrap()
            .verify_token(token, Some(options)),
        other => panic!("unexpected key type {other:?}"),
    }
    .unwrap_or_else(|e| panic!("jwt-simple rejected the token: {e}"));
    serde_json::to_value(&claims).unwrap()
}
