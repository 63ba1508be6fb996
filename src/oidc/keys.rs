//! One signing key: made, stored as PKCS#8 PEM, parsed once into an aws-lc-rs
//! key pair, and published as a JWK.
//!
//! We sign with aws-lc-rs directly instead of `jsonwebtoken::encode`, which
//! re-parses (and re-checks) the private key on every signature; verification
//! uses `jsonwebtoken` with keys built once.
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256,
};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Serialize;
use utoipa::ToSchema;

use crate::secrets::base64url;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningAlgorithm {
    Rs256,
    Es256,
    EdDsa,
}

impl SigningAlgorithm {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "RS256" => Ok(Self::Rs256),
            "ES256" => Ok(Self::Es256),
            "EdDSA" => Ok(Self::EdDsa),
            other => Err(format!(
                "unsupported signing algorithm '{other}': use RS256, ES256 or EdDSA"
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
        }
    }

    pub fn jwt_algorithm(self) -> Algorithm {
        match self {
            Self::Rs256 => Algorithm::RS256,
            Self::Es256 => Algorithm::ES256,
            Self::EdDsa => Algorithm::EdDSA,
        }
    }
}

enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

pub struct SigningKey {
    pub kid: String,
    pub algorithm: SigningAlgorithm,
    signer: Signer,
    pub jwk: Jwk,
    pub decoding: DecodingKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .finish()
    }
}

const PEM_TAG: &str = "PRIVATE KEY";

/// A fresh private key in PKCS#8 PEM.
pub fn generate_pem(algorithm: SigningAlgorithm) -> Result<String, String> {
    let failed = |_| format!("cannot generate a {} key", algorithm.name());
    let der: Vec<u8> = match algorithm {
        SigningAlgorithm::Rs256 => RsaKeyPair::generate(KeySize::Rsa2048)
            .map_err(failed)?
            .as_der()
            .map_err(failed)?
            .as_ref()
            .to_vec(),
        SigningAlgorithm::Es256 => {
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .map_err(failed)?
                .as_ref()
                .to_vec()
        }
        SigningAlgorithm::EdDsa => Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map_err(failed)?
            .as_ref()
            .to_vec(),
    };
    Ok(pem::encode(&pem::Pem::new(PEM_TAG, der)))
}

/// A public signing key (RFC 7517): RSA (`n`, `e`), EC (`crv`, `x`, `y`)
/// or OKP (`crv`, `x`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Jwk {
    pub kty: &'static str,
    #[serde(rename = "use")]
    pub usage: &'static str,
    pub alg: &'static str,
    pub kid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

impl Jwk {
    fn new(kty: &'static str, algorithm: SigningAlgorithm, kid: &str) -> Self {
        Self {
            kty,
            usage: "sig",
            alg: algorithm.name(),
            kid: kid.to_owned(),
            n: None,
            e: None,
            crv: None,
            x: None,
            y: None,
        }
    }
}

/// The keys that verify idhub's tokens, the current one and those rotated out
/// while tokens they signed may live.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

impl SigningKey {
    pub fn from_pem(
        kid: &str,
        algorithm: SigningAlgorithm,
        private_pem: &str,
    ) -> Result<Self, String> {
        let rejected =
            |e: aws_lc_rs::error::KeyRejected| format!("signing key {kid} is unusable: {e}");
        let der =
            pem::parse(private_pem).map_err(|e| format!("signing key {kid} is not PEM: {e}"))?;
        let der = der.contents();
        let (signer, jwk, decoding) = match algorithm {
            SigningAlgorithm::Rs256 => {
                let pair = RsaKeyPair::from_pkcs8(der).map_err(rejected)?;
                let public = pair.public_key();
                let n = base64url(public.modulus().big_endian_without_leading_zero());
                let e = base64url(public.exponent().big_endian_without_leading_zero());
                let decoding =
                    DecodingKey::from_rsa_components(&n, &e).map_err(|e| e.to_string())?;
                let jwk = Jwk {
                    n: Some(n),
                    e: Some(e),
                    ..Jwk::new("RSA", algorithm, kid)
                };
                (Signer::Rsa(pair), jwk, decoding)
            }
            SigningAlgorithm::Es256 => {
                let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map_err(rejected)?;
                // Uncompressed point: 0x04 || x || y.
                let point = pair.public_key().as_ref();
                if point.len() != 65 {
                    return Err(format!("signing key {kid} has an unexpected public key"));
                }
                let (x, y) = (base64url(&point[1..33]), base64url(&point[33..]));
                let decoding =
                    DecodingKey::from_ec_components(&x, &y).map_err(|e| e.to_string())?;
                let jwk = Jwk {
                    crv: Some("P-256"),
                    x: Some(x),
                    y: Some(y),
                    ..Jwk::new("EC", algorithm, kid)
                };
                (Signer::Ec(pair), jwk, decoding)
            }
            SigningAlgorithm::EdDsa => {
                let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map_err(rejected)?;
                let x = base64url(pair.public_key().as_ref());
                let decoding = DecodingKey::from_ed_components(&x).map_err(|e| e.to_string())?;
                let jwk = Jwk {
                    crv: Some("Ed25519"),
                    x: Some(x),
                    ..Jwk::new("OKP", algorithm, kid)
                };
                (Signer::Ed(pair), jwk, decoding)
            }
        };
        Ok(Self {
            kid: kid.to_owned(),
            algorithm,
            signer,
            jwk,
            decoding,
        })
    }

    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        let failed = |_| format!("signing with key {} failed", self.kid);
        match &self.signer {
            Signer::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(
                    &RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    message,
                    &mut signature,
                )
                .map_err(failed)?;
                Ok(signature)
            }
            Signer::Ec(pair) => pair
                .sign(&SystemRandom::new(), message)
                .map(|s| s.as_ref().to_vec())
                .map_err(failed),
            Signer::Ed(pair) => Ok(pair.sign(message).as_ref().to_vec()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_round_trips_through_pem_and_jwk() {
        for algorithm in [
            SigningAlgorithm::Rs256,
            SigningAlgorithm::Es256,
            SigningAlgorithm::EdDsa,
        ] {
            let pem = generate_pem(algorithm).unwrap();
            let key = SigningKey::from_pem("k1", algorithm, &pem).unwrap();
            assert_eq!(key.jwk.kid, "k1");
            assert_eq!(key.jwk.alg, algorithm.name());
            assert!(!key.sign(b"message").unwrap().is_empty());
            assert!(SigningKey::from_pem("k1", algorithm, "garbage").is_err());
        }
        assert!(SigningAlgorithm::parse("HS256").is_err());
        assert_eq!(
            SigningAlgorithm::parse("EdDSA").unwrap(),
            SigningAlgorithm::EdDsa
        );
    }
}
