//! A client's DPoP key and the proofs it signs, for the tests.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use idhub::oidc::keys::{generate_pem, SigningAlgorithm, SigningKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub struct DpopKey {
    key: SigningKey,
}

impl DpopKey {
    pub fn new(algorithm: SigningAlgorithm) -> Self {
        let pem = generate_pem(algorithm).unwrap();
        Self {
            key: SigningKey::from_pem("dpop", algorithm, &pem).unwrap(),
        }
    }

    pub fn es256() -> Self {
        Self::new(SigningAlgorithm::Es256)
    }

    /// The RFC 7638 thumbprint, computed here independently of idhub.
    pub fn thumbprint(&self) -> String {
        let jwk = &serde_json::to_value(&self.key.jwk).unwrap();
        let canonical = match jwk["kty"].as_str().unwrap() {
            "EC" => json!({"crv": jwk["crv"], "kty": "EC", "x": jwk["x"], "y": jwk["y"]}),
            "RSA" => json!({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}),
            _ => json!({"crv": jwk["crv"], "kty": "OKP", "x": jwk["x"]}),
        };
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.to_string().as_bytes()))
    }

    /// A proof for `method` at `url`, naming `access_token` when given, with
    /// `changes` applied to the claims.
    pub fn proof(
        &self,
        method: &str,
        url: &str,
        access_token: Option<&str>,
        changes: Value,
    ) -> String {
        let mut claims = json!({
            "jti": uuid::Uuid::new_v4().to_string(),
            "htm": method,
            "htu": url,
            "iat": chrono::Utc::now().timestamp(),
        });
        if let Some(token) = access_token {
            claims["ath"] = json!(URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes())));
        }
        if let (Some(claims), Some(changes)) = (claims.as_object_mut(), changes.as_object()) {
            claims.extend(changes.clone());
        }
        self.sign(
            json!({"typ": "dpop+jwt", "alg": self.key.algorithm.name(), "jwk": self.key.jwk}),
            &claims,
        )
    }

    /// Any header and claims, signed with this key.
    pub fn sign(&self, header: Value, claims: &Value) -> String {
        let mut token = URL_SAFE_NO_PAD.encode(header.to_string());
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(claims.to_string()));
        let signature = self.key.sign(token.as_bytes()).unwrap();
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(signature));
        token
    }
}
