//! `private_key_jwt` client authentication (RFC 7523 §2.2, OpenID Connect
//! Core §9): a JWT the client signs with a key whose public half the service
//! holds (`jwks`) or publishes (`jwksUri`). `iss` and `sub` are the client id,
//! `aud` is the issuer or the endpoint's URL, `exp` at most five minutes
//! ahead, and each `jti` is accepted once, whichever instance sees it (the
//! database decides).
//!
//! Keys at a `jwksUri` are fetched with a timeout, kept five minutes, and
//! fetched again when an assertion names an unknown `kid`, never more than
//! once a minute per service.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::NaiveDateTime;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, DecodingKey, Header, Validation};
use serde::Deserialize;

use super::error::OAuthError;
use super::used_jtis::{JtiLedger, Use};
use crate::db::DbPool;
use crate::oidc::jwt::CLIENT_ASSERTION_ALGORITHMS;
use crate::outbound::{Outbound, Reach};
use crate::registry::cache::ServiceCache;
use crate::registry::model::Service;

pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const MAX_LIFETIME_SECS: i64 = 300;
const LEEWAY_SECS: u64 = 30;
const KEEP_KEYS: Duration = Duration::from_secs(300);
const REFETCH_AFTER: Duration = Duration::from_secs(60);
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_JWKS_BYTES: usize = 64 * 1024;

/// That an assertion checked out, for the client it names. Only `prove`
/// makes one.
#[derive(Debug, Clone)]
pub struct Proof {
    client_id: String,
}

impl Proof {
    pub fn client_id(&self) -> &str {
        &self.client_id
    }
}

/// The `sub` of an assertion, read without verifying it: whose keys are to
/// verify it.
pub fn subject(assertion: &str) -> Option<String> {
    let payload = assertion.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let sub = claims.get("sub")?.as_str()?;
    let acceptable = !sub.is_empty() && sub.len() <= 255 && !sub.chars().any(char::is_control);
    acceptable.then(|| sub.to_owned())
}

/// A fetch's outcome: the set, or None for a failure (not retried for a
/// minute, so a service whose keys are down costs one fetch, not one per
/// request).
struct Fetched {
    set: Option<Arc<JwkSet>>,
    at: Instant,
}

/// Keys fetched from services' `jwksUri`, per service.
pub struct ClientKeys {
    http: Outbound,
    fetched: Mutex<HashMap<String, Fetched>>,
}

impl ClientKeys {
    pub fn new() -> Result<Self, String> {
        let http = Outbound::new(FETCH_TIMEOUT)?;
        Ok(Self {
            http,
            fetched: Mutex::new(HashMap::new()),
        })
    }

    fn remembered(&self, source: &str, fresh_for: Duration) -> Option<Option<Arc<JwkSet>>> {
        let fetched = self.fetched.lock().ok()?;
        let entry = fetched.get(source)?;
        let fresh_for = match entry.set {
            Some(_) => fresh_for,
            None => REFETCH_AFTER,
        };
        (entry.at.elapsed() < fresh_for).then(|| entry.set.clone())
    }

    fn remember(&self, source: String, set: Option<Arc<JwkSet>>) {
        if let Ok(mut fetched) = self.fetched.lock() {
            fetched.insert(
                source,
                Fetched {
                    set,
                    at: Instant::now(),
                },
            );
        }
    }

    /// The service's keys; `again` asks for a new fetch (an unknown `kid`),
    /// which is skipped when the last one is under a minute old.
    async fn of(&self, service: &Service, again: bool) -> Result<Arc<JwkSet>, OAuthError> {
        if let Some(inline) = &service.jwks {
            return serde_json::from_str(inline)
                .map(Arc::new)
                .map_err(|_| OAuthError::invalid_client());
        }
        let Some(uri) = &service.jwks_uri else {
            return Err(OAuthError::invalid_client());
        };
        // Keyed by service and URI: a changed jwksUri is fetched at once.
        let source = format!("{} {uri}", service.id);
        let keep = if again { REFETCH_AFTER } else { KEEP_KEYS };
        if let Some(remembered) = self.remembered(&source, keep) {
            return remembered.ok_or_else(OAuthError::invalid_client);
        }
        let reach = match service.vouched_for() {
            true => Reach::Anywhere,
            false => Reach::PublicOnly,
        };
        match self.fetch(uri, reach).await {
            Ok(set) => {
                let set = Arc::new(set);
                self.remember(source, Some(Arc::clone(&set)));
                Ok(set)
            }
            Err(why) => {
                tracing::warn!(service = %service.id, %why, "client keys could not be fetched");
                self.remember(source, None);
                Err(OAuthError::invalid_client())
            }
        }
    }

    async fn fetch(&self, uri: &str, reach: Reach) -> Result<JwkSet, String> {
        let client = self.http.client_for(uri, reach)?;
        let mut response = client.get(uri).send().await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("answered {}", response.status().as_u16()));
        }
        if response
            .content_length()
            .is_some_and(|length| length > MAX_JWKS_BYTES as u64)
        {
            return Err("the key set is too large".into());
        }
        // Read up to the cap, whatever the headers said.
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
            if body.len().saturating_add(chunk.len()) > MAX_JWKS_BYTES {
                return Err("the key set is too large".into());
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|e| format!("not a JWK set: {e}"))
    }
}

/// What proving an assertion reads.
pub struct AssertionDeps<'a> {
    pub pool: &'a DbPool,
    pub services: &'a Arc<ServiceCache>,
    pub keys: &'a ClientKeys,
    pub jtis: &'a JtiLedger,
    pub issuer: &'a str,
    /// The full URL of the endpoint the assertion was sent to.
    pub endpoint: &'a str,
}

#[derive(Debug, Deserialize)]
struct AssertionClaims {
    exp: i64,
    jti: String,
    iat: Option<i64>,
    nbf: Option<i64>,
}

impl AssertionClaims {
    /// Made now, not ahead: `iat` and `nbf` no later than now and the
    /// leeway, and a lifetime of at most `MAX_LIFETIME_SECS` from now.
    fn timely(&self, now_secs: i64) -> bool {
        let leeway = LEEWAY_SECS as i64;
        let latest = now_secs.saturating_add(leeway);
        self.iat.is_none_or(|iat| iat <= latest)
            && self.nbf.is_none_or(|nbf| nbf <= latest)
            && self.exp.saturating_sub(now_secs) <= MAX_LIFETIME_SECS.saturating_add(leeway)
    }
}

enum Rejected {
    UnknownKey,
    Invalid,
}

fn verify(
    assertion: &str,
    header: &Header,
    set: &JwkSet,
    validation: &Validation,
) -> Result<AssertionClaims, Rejected> {
    let candidates: Vec<_> = match &header.kid {
        Some(kid) => set.find(kid).into_iter().collect(),
        None => set.keys.iter().collect(),
    };
    if candidates.is_empty() {
        return Err(Rejected::UnknownKey);
    }
    candidates
        .into_iter()
        .filter_map(|jwk| DecodingKey::from_jwk(jwk).ok())
        .find_map(|key| decode::<AssertionClaims>(assertion, &key, validation).ok())
        .map(|data| data.claims)
        .ok_or(Rejected::Invalid)
}

/// Proves an assertion by `client_id`; with the proof the client
/// authenticates as confidential (`client_auth::check`). Anything wrong is
/// `invalid_client`, like a wrong secret.
pub async fn prove(
    deps: &AssertionDeps<'_>,
    client_id: &str,
    assertion: &str,
    now: NaiveDateTime,
) -> Result<Proof, OAuthError> {
    let header = decode_header(assertion).map_err(|_| OAuthError::invalid_client())?;
    let algorithm = format!("{:?}", header.alg);
    if !CLIENT_ASSERTION_ALGORITHMS.contains(&algorithm.as_str()) {
        return Err(OAuthError::invalid_client());
    }
    let service = deps
        .services
        .get(deps.pool, client_id)
        .await?
        .ok_or_else(OAuthError::invalid_client)?;
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[deps.issuer, deps.endpoint]);
    validation.set_issuer(&[service.id.as_str()]);
    validation.sub = Some(service.id.clone());
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    validation.leeway = LEEWAY_SECS;
    let set = deps.keys.of(&service, false).await?;
    let claims = match verify(assertion, &header, &set, &validation) {
        Err(Rejected::UnknownKey) if service.jwks_uri.is_some() => {
            let set = deps.keys.of(&service, true).await?;
            verify(assertion, &header, &set, &validation)
        }
        other => other,
    }
    .map_err(|_| OAuthError::invalid_client())?;
    if !claims.timely(now.and_utc().timestamp()) {
        return Err(OAuthError::invalid_client());
    }
    // Kept as long as the assertion could be accepted, leeway included.
    let accepted_until = claims.exp.saturating_add(LEEWAY_SECS as i64);
    let expires = chrono::DateTime::from_timestamp(accepted_until, 0)
        .map(|t| t.naive_utc())
        .ok_or_else(OAuthError::invalid_client)?;
    let first_use = deps
        .jtis
        .first_use(Use::ClientAssertion, &service.id, &claims.jti, expires)
        .await?;
    if !first_use {
        return Err(OAuthError::new(
            super::error::ErrorCode::InvalidClient,
            "the client assertion was already used",
        ));
    }
    Ok(Proof {
        client_id: service.id.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_assertion_made_ahead_is_not_timely() {
        let now = 1_800_000_000;
        let claims = |iat: Option<i64>, nbf: Option<i64>, exp: i64| AssertionClaims {
            exp,
            jti: "j".into(),
            iat,
            nbf,
        };
        assert!(claims(Some(now), None, now + 60).timely(now));
        assert!(claims(None, None, now + 60).timely(now));
        assert!(
            claims(Some(now + 20), Some(now + 20), now + 60).timely(now),
            "within the leeway"
        );
        assert!(
            !claims(Some(now + 86_400), None, now + 60).timely(now),
            "iat a day ahead"
        );
        assert!(
            !claims(None, Some(now + 86_400), now + 60).timely(now),
            "nbf a day ahead"
        );
        assert!(
            !claims(Some(now), None, now + 600).timely(now),
            "lives too long"
        );
    }

    #[test]
    fn the_subject_is_read_from_the_payload() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"client-1","iss":"client-1"}"#);
        assert_eq!(
            subject(&format!("e30.{payload}.sig")),
            Some("client-1".into())
        );
        assert_eq!(subject("e30.!!!.sig"), None);
        let control = URL_SAFE_NO_PAD.encode(br#"{"sub":"a\u0000b"}"#);
        assert_eq!(subject(&format!("e30.{control}.sig")), None);
    }
}
