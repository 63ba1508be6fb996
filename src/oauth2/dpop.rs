//! DPoP proofs (RFC 9449): a JWT the client signs, with its public key in the
//! header, for one request (`htm`, `htu`), once (`jti`, recorded across
//! instances), recently (`iat`), and at a resource for one access token
//! (`ath`). A token bound to a key (`cnf.jkt`) is only honoured with a proof
//! signed by that key. Checking a proof costs one signature verification.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::NaiveDateTime;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::access_token::AccessClaims;
use super::dpop_nonce::NonceKey;
use super::error::{ErrorCode, OAuthError};
use super::used_jtis::{JtiLedger, Ticket, Use};

pub use crate::oidc::jwt::DPOP_ALGORITHMS;
/// How old a proof may be.
pub const MAX_AGE_SECS: i64 = 60;
/// How far ahead of our clock a proof's `iat` may be.
pub const MAX_SKEW_SECS: i64 = 10;
const MAX_PROOF_BYTES: usize = 8 * 1024;
const MAX_JTI_CHARS: usize = 256;
/// Members of a JWK that only a private key has.
const PRIVATE_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// What a proof must match.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// `htm`: the request's method.
    pub method: &'a str,
    /// `htu`: the URL the request was sent to, without query or fragment.
    pub url: &'a str,
    /// At a resource, the access token the proof must name (`ath`).
    pub access_token: Option<&'a str>,
    /// Unix seconds.
    pub now: i64,
    /// When server nonces are required, their key.
    pub nonces: Option<&'a NonceKey>,
}

/// A proof whose signature, claims and age checked out; its `jti` is not
/// yet recorded (`record`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The RFC 7638 SHA-256 thumbprint of the proof's key.
    pub jkt: String,
    pub jti: String,
    pub iat: i64,
}

#[derive(Deserialize)]
struct ProofClaims {
    jti: String,
    htm: String,
    htu: String,
    iat: i64,
    ath: Option<String>,
    nonce: Option<String>,
}

fn invalid(why: &str) -> OAuthError {
    OAuthError::invalid_dpop_proof(format!("invalid DPoP proof: {why}"))
}

/// The RFC 7638 thumbprint of a public JWK, from its required members only.
/// `None` for keys a proof may not use (symmetric, private, or malformed).
pub fn thumbprint(jwk: &Map<String, Value>) -> Option<String> {
    if PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m)) {
        return None;
    }
    let text = |name: &str| jwk.get(name).and_then(Value::as_str);
    let members: &[&str] = match text("kty")? {
        "EC" => &["crv", "kty", "x", "y"],
        "RSA" => &["e", "kty", "n"],
        "OKP" => &["crv", "kty", "x"],
        _ => return None,
    };
    // Members in lexicographic order, no whitespace (RFC 7638 §3.2).
    let mut canonical = String::from("{");
    for (i, name) in members.iter().enumerate() {
        if i > 0 {
            canonical.push(',');
        }
        let value = serde_json::to_string(text(name)?).ok()?;
        canonical.push_str(&format!("\"{name}\":{value}"));
    }
    canonical.push('}');
    Some(URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes())))
}

/// The proof's header as JSON, to read the key exactly as sent.
fn raw_header(proof: &str) -> Option<Map<String, Value>> {
    let first = proof.split('.').next()?;
    let bytes = URL_SAFE_NO_PAD.decode(first).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// `htu` compared as RFC 9449 §4.3 says: scheme and host case-insensitive,
/// default ports implied, no query or fragment.
fn same_url(presented: &str, expected: &str) -> bool {
    let strip = |text: &str| {
        url::Url::parse(text).ok().map(|mut u| {
            u.set_query(None);
            u.set_fragment(None);
            u
        })
    };
    matches!((strip(presented), strip(expected)), (Some(a), Some(b)) if a == b)
}

/// The `ath` of an access token: base64url of its SHA-256.
pub fn token_hash(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(access_token.as_bytes()))
}

/// Checks a proof's form, signature and claims (one signature verification).
pub fn check(proof: &str, expected: Expected<'_>) -> Result<Checked, OAuthError> {
    if proof.len() > MAX_PROOF_BYTES {
        return Err(invalid("too long"));
    }
    let mut header = raw_header(proof).ok_or_else(|| invalid("not a JWT"))?;
    if header.get("typ").and_then(Value::as_str) != Some("dpop+jwt") {
        return Err(invalid("typ must be dpop+jwt"));
    }
    let algorithm: Algorithm = header
        .get("alg")
        .and_then(Value::as_str)
        .filter(|alg| DPOP_ALGORITHMS.contains(alg))
        .and_then(|alg| alg.parse().ok())
        .ok_or_else(|| invalid("unsupported alg"))?;
    let Some(Value::Object(raw_jwk)) = header.remove("jwk") else {
        return Err(invalid("the header has no jwk"));
    };
    let jkt =
        thumbprint(&raw_jwk).ok_or_else(|| invalid("jwk must be a public EC, RSA or OKP key"))?;
    let jwk: Jwk =
        serde_json::from_value(Value::Object(raw_jwk)).map_err(|_| invalid("unusable jwk"))?;
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| invalid("unusable jwk"))?;
    let mut validation = Validation::new(algorithm);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = decode::<ProofClaims>(proof, &key, &validation)
        .map_err(|_| invalid("bad signature or claims"))?
        .claims;
    if claims.jti.is_empty() || claims.jti.chars().count() > MAX_JTI_CHARS {
        return Err(invalid("jti must be 1 to 256 characters"));
    }
    if claims.htm != expected.method {
        return Err(invalid("htm does not match the request's method"));
    }
    if !same_url(&claims.htu, expected.url) {
        return Err(invalid("htu does not match the request's URL"));
    }
    let age = expected.now.saturating_sub(claims.iat);
    if !(-MAX_SKEW_SECS..=MAX_AGE_SECS).contains(&age) {
        return Err(invalid("iat is too far from the current time"));
    }
    if let Some(token) = expected.access_token {
        if claims.ath.as_deref() != Some(token_hash(token).as_str()) {
            return Err(invalid("ath does not match the access token"));
        }
    }
    if let Some(nonces) = expected.nonces {
        let fresh = claims
            .nonce
            .as_deref()
            .is_some_and(|nonce| nonces.accepts(nonce, expected.now));
        if !fresh {
            let mut refusal = OAuthError::new(
                ErrorCode::UseDpopNonce,
                "the proof must carry the nonce of the DPoP-Nonce header",
            );
            refusal.dpop_nonce = Some(nonces.current(expected.now));
            return Err(refusal);
        }
    }
    Ok(Checked {
        jkt,
        jti: claims.jti,
        iat: claims.iat,
    })
}

/// Records the proof's `jti` for as long as the proof could be accepted;
/// a second use, on any instance, is refused.
pub async fn record(jtis: &JtiLedger, proof: &Checked) -> Result<(), OAuthError> {
    submit(jtis, proof)?.confirm().await
}

/// Hands the proof's `jti` to the writer now; `Recording::confirm` says
/// later whether the proof was fresh.
pub fn submit(jtis: &JtiLedger, proof: &Checked) -> Result<Recording, OAuthError> {
    let accepted_until = proof.iat.saturating_add(MAX_AGE_SECS + MAX_SKEW_SECS);
    let until = chrono::DateTime::from_timestamp(accepted_until, 0)
        .map(|t| t.naive_utc())
        .ok_or_else(|| invalid("iat out of range"))?;
    let ticket = jtis.submit(Use::DpopProof, &proof.jkt, &proof.jti, until)?;
    Ok(Recording { ticket })
}

/// A proof's `jti` on its way to the database.
#[derive(Debug)]
pub struct Recording {
    ticket: Ticket,
}

impl Recording {
    /// Refuses a proof whose `jti` was used before.
    pub async fn confirm(self) -> Result<(), OAuthError> {
        match self.ticket.first().await? {
            true => Ok(()),
            false => Err(invalid("the proof was already used (jti)")),
        }
    }
}

/// How an access token came to a resource (RFC 9449 §7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    Bearer(String),
    /// `Authorization: DPoP <token>`, with the `DPoP` header's proof.
    Dpop {
        token: String,
        proof: Option<String>,
    },
}

impl Sent {
    pub fn token(&self) -> &str {
        match self {
            Sent::Bearer(token) | Sent::Dpop { token, .. } => token,
        }
    }
}

/// What a resource checks a bound token's proof against.
pub struct AtResource<'a> {
    pub jtis: &'a JtiLedger,
    pub nonces: Option<&'a NonceKey>,
    pub method: &'a str,
    pub url: &'a str,
    pub now: NaiveDateTime,
}

/// A resource honours the token's binding: a bound token needs the DPoP
/// scheme and a proof by its key for this request and this token; an
/// unbound one must come as Bearer.
pub async fn honour_binding(
    resource: AtResource<'_>,
    claims: &AccessClaims,
    sent: &Sent,
) -> Result<(), OAuthError> {
    let challenge = |code: ErrorCode, why: &str| OAuthError::new(code, why).dpop();
    match (claims.jkt(), sent) {
        (None, Sent::Bearer(_)) => Ok(()),
        (None, Sent::Dpop { .. }) => Err(challenge(
            ErrorCode::InvalidToken,
            "the token is not DPoP-bound; send it as Bearer",
        )),
        (Some(_), Sent::Bearer(_)) => Err(challenge(
            ErrorCode::InvalidToken,
            "the token is DPoP-bound; send it with the DPoP scheme and a proof",
        )),
        (Some(_), Sent::Dpop { proof: None, .. }) => Err(challenge(
            ErrorCode::InvalidDpopProof,
            "a DPoP proof is required",
        )),
        (
            Some(jkt),
            Sent::Dpop {
                token,
                proof: Some(proof),
            },
        ) => {
            let expected = Expected {
                method: resource.method,
                url: resource.url,
                access_token: Some(token),
                now: resource.now.and_utc().timestamp(),
                nonces: resource.nonces,
            };
            let checked = check(proof, expected).map_err(OAuthError::dpop)?;
            if checked.jkt != jkt {
                return Err(challenge(
                    ErrorCode::InvalidDpopProof,
                    "the proof is not signed with the token's key",
                ));
            }
            record(resource.jtis, &checked)
                .await
                .map_err(OAuthError::dpop)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(json: Value) -> Map<String, Value> {
        match json {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn thumbprint_matches_rfc_7638_example() {
        // RFC 7638 §3.1.
        let jwk = object(serde_json::json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        }));
        assert_eq!(
            thumbprint(&jwk).as_deref(),
            Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
        );
    }

    #[test]
    fn private_and_symmetric_keys_have_no_thumbprint() {
        let private =
            object(serde_json::json!({"kty": "EC", "crv": "P-256", "x": "a", "y": "b", "d": "c"}));
        assert_eq!(thumbprint(&private), None);
        let symmetric = object(serde_json::json!({"kty": "oct", "k": "c2VjcmV0"}));
        assert_eq!(thumbprint(&symmetric), None);
        let missing = object(serde_json::json!({"kty": "EC", "crv": "P-256", "x": "a"}));
        assert_eq!(thumbprint(&missing), None);
        let odd = object(serde_json::json!({"kty": "EC", "crv": "Ed25519", "x": "a", "y": 1}));
        assert_eq!(thumbprint(&odd), None);
    }

    #[test]
    fn htu_ignores_query_fragment_and_case() {
        assert!(same_url(
            "HTTPS://Server.Example:443/token?x=1#f",
            "https://server.example/token"
        ));
        assert!(!same_url(
            "https://server.example/other",
            "https://server.example/token"
        ));
        assert!(!same_url("not a url", "https://server.example/token"));
    }

    #[test]
    fn garbage_is_refused_without_panic() {
        let expected = Expected {
            method: "POST",
            url: "https://server.example/token",
            access_token: None,
            now: 0,
            nonces: None,
        };
        for proof in ["", "a.b.c", "e30.e30.", &"x".repeat(MAX_PROOF_BYTES + 1)] {
            let refused = check(proof, expected);
            assert!(matches!(refused, Err(e) if e.code == ErrorCode::InvalidDpopProof));
        }
    }
}
