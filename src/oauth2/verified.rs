//! Access tokens whose signature was already checked, by SHA-256 of the token,
//! until they expire. A signature never stops being valid, so resource servers
//! introspecting the same token again cost a hash, not an RSA verification.
//! Revocation is not cached: callers still check it on every use.
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use sha2::{Digest, Sha256};

use super::access_token::{self, AccessClaims};
use crate::oidc::jwt::Rejected;
use crate::oidc::keystore::KeySet;

const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub struct VerifiedTokens {
    entries: RwLock<HashMap<[u8; 32], Arc<AccessClaims>>>,
}

impl VerifiedTokens {
    pub fn verify(
        &self,
        keys: &KeySet,
        token: &str,
        issuer: &str,
    ) -> Result<Arc<AccessClaims>, Rejected> {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let now = crate::clock::unix_now();
        if let Some(claims) = self.entries.read().ok().and_then(|e| e.get(&key).cloned()) {
            if claims.exp > now {
                return Ok(claims);
            }
        }
        let claims = Arc::new(access_token::verify(keys, token, issuer)?);
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= MAX_ENTRIES {
                entries.retain(|_, c| c.exp > now);
                if entries.len() >= MAX_ENTRIES {
                    entries.clear();
                }
            }
            entries.insert(key, Arc::clone(&claims));
        }
        Ok(claims)
    }
}
