//! Access tokens whose signature was already checked, by SHA-256 of the token,
//! until they expire. A signature never stops being valid, so resource servers
//! introspecting the same token again cost a hash, not an RSA verification.
//! Revocation is not cached: callers still check it on every use. The map is a
//! bounded `moka` cache: past its capacity the least useful entries go, one
//! at a time, so a flood of distinct tokens costs some verifications, never
//! a sudden loss of every entry.
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::access_token::{self, AccessClaims};
use crate::clock;
use crate::oidc::jwt::Rejected;
use crate::oidc::keystore::KeySet;
use crate::telemetry::CacheCounters;

/// Tokens kept at most (about 450 bytes each with the map's overhead).
pub const MAX_ENTRIES: u64 = 100_000;

/// Each entry leaves the cache when its token expires.
struct UntilExpiry;

impl moka::Expiry<[u8; 32], Arc<AccessClaims>> for UntilExpiry {
    fn expire_after_create(
        &self,
        _key: &[u8; 32],
        claims: &Arc<AccessClaims>,
        _created_at: Instant,
    ) -> Option<Duration> {
        let left = claims.exp.saturating_sub(clock::unix_now()).max(0);
        Some(Duration::from_secs(u64::try_from(left).unwrap_or(0)))
    }
}

pub struct VerifiedTokens {
    entries: moka::sync::Cache<[u8; 32], Arc<AccessClaims>>,
    lookups: CacheCounters,
}

impl Default for VerifiedTokens {
    fn default() -> Self {
        Self {
            entries: moka::sync::Cache::builder()
                .max_capacity(MAX_ENTRIES)
                .expire_after(UntilExpiry)
                .build(),
            lookups: CacheCounters::new("verified_tokens"),
        }
    }
}

impl VerifiedTokens {
    pub fn verify(
        &self,
        keys: &KeySet,
        token: &str,
        issuer: &str,
    ) -> Result<Arc<AccessClaims>, Rejected> {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let now = clock::unix_now();
        let cached = self.entries.get(&key).filter(|claims| claims.exp > now);
        self.lookups.record(cached.is_some());
        if let Some(claims) = cached {
            return Ok(claims);
        }
        let claims = Arc::new(access_token::verify(keys, token, issuer)?);
        self.entries.insert(key, Arc::clone(&claims));
        Ok(claims)
    }
}
