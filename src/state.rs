//! What the HTTP handlers share: the pool, the settings and the in-memory
//! caches. Built once by `startup::prepare`; handlers take the parts they need
//! and hand the protocol and domain functions only those.
use std::sync::Arc;

use crate::config::Settings;
use crate::db::DbPool;
use crate::oauth2::token::TokenPolicy;
use crate::oauth2::verified::VerifiedTokens;
use crate::oidc::keystore::KeyStore;
use crate::registry::cache::ServiceCache;
use crate::sessions::lockout::Lockout;
use crate::users::cache::UserCache;
use crate::users::password_hash::PasswordHasher;

pub struct AppState {
    pub pool: DbPool,
    pub settings: Settings,
    pub hasher: PasswordHasher,
    pub keys: KeyStore,
    pub services: Arc<ServiceCache>,
    pub users: Arc<UserCache>,
    pub verified: VerifiedTokens,
    /// Failed sign-ins that lock a user or a client, from the settings.
    pub lockout: Lockout,
    /// Lifetimes and switches of the token endpoint, from the settings.
    pub token_policy: TokenPolicy,
    /// `settings.issuer()`, computed once.
    pub issuer: String,
    /// The discovery document, serialized once.
    pub discovery: String,
}

impl AppState {
    /// Cookies get `Secure` whenever the public address is https.
    pub fn secure_cookies(&self) -> bool {
        self.issuer.starts_with("https://")
    }
}
