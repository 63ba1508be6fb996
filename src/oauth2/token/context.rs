//! What the grants read besides the request and the clock.
use std::sync::Arc;

use chrono::Duration;

use crate::audit::{Origin, Recorder};
use crate::config::Settings;
use crate::db::{DbConn, DbPool};
use crate::oauth2::access_token::TokenChecks;
use crate::oauth2::client_auth::{self, Client, PresentedClient};
use crate::oauth2::error::OAuthError;
use crate::oauth2::revoked_set::RevokedSet;
use crate::oauth2::verified::VerifiedTokens;
use crate::oidc::keystore::KeySet;
use crate::registry::cache::ServiceCache;
use crate::sessions::lockout::Lockout;
use crate::users::cache::UserCache;
use crate::users::password_hash::PasswordHasher;

/// Lifetimes and switches of the token endpoint, read from the settings once.
#[derive(Debug, Clone, Copy)]
pub struct TokenPolicy {
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl: Duration,
    pub password_grant_enabled: bool,
}

impl TokenPolicy {
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            access_token_ttl_secs: settings.access_token_ttl_secs,
            refresh_token_ttl: Duration::seconds(settings.refresh_token_ttl_secs),
            password_grant_enabled: settings.password_grant_enabled,
        }
    }
}

/// What a grant's database work reads from memory.
pub struct GrantCaches<'a> {
    pub services: &'a ServiceCache,
    pub users: &'a UserCache,
    pub revoked: &'a RevokedSet,
    /// Where the request came from: a replay is recorded with it.
    pub origin: &'a Origin,
    /// The request's DPoP key thumbprint, if it sent a proof.
    pub dpop_jkt: Option<&'a str>,
}

/// What the grants read besides the request and the clock.
pub struct GrantDeps<'a> {
    pub pool: &'a DbPool,
    pub services: &'a Arc<ServiceCache>,
    pub revoked: &'a Arc<RevokedSet>,
    /// Whether the user is banned, and the ID token's claims, from memory.
    pub users: &'a Arc<UserCache>,
    pub hasher: &'a PasswordHasher,
    pub lockout: Lockout,
    pub policy: TokenPolicy,
    /// Who must have a second factor (the password grant refuses them).
    pub second_factor_policy: crate::config::SecondFactorPolicy,
    /// Where the request came from, and where events go that are not
    /// written in a transaction of their own.
    pub origin: Origin,
    pub audit: &'a Recorder,
    /// The thumbprint of the key of the request's checked DPoP proof.
    pub dpop_jkt: Option<String>,
    /// What a token exchange checks its subject token with.
    pub verified: &'a VerifiedTokens,
    pub keys: &'a KeySet,
    pub issuer: &'a str,
}

impl GrantDeps<'_> {
    /// Runs a grant's database work on a pooled connection, with what it
    /// reads from memory.
    pub async fn run_with_caches<T, F>(&self, work: F) -> Result<T, OAuthError>
    where
        F: FnOnce(&mut DbConn, GrantCaches<'_>) -> Result<T, OAuthError> + Send + 'static,
        T: Send + 'static,
    {
        let services = Arc::clone(self.services);
        let revoked = Arc::clone(self.revoked);
        let users = Arc::clone(self.users);
        let origin = self.origin.clone();
        let jkt = self.dpop_jkt.clone();
        crate::oauth2::run(self.pool, move |conn| {
            let caches = GrantCaches {
                services: &services,
                users: &users,
                revoked: &revoked,
                origin: &origin,
                dpop_jkt: jkt.as_deref(),
            };
            work(conn, caches)
        })
        .await
    }

    /// Runs a grant's database work for the client `presented` proves to
    /// be, authenticated in the same visit: the one client-authentication
    /// step of the grants that go to the database anyway.
    pub async fn run_for_client<T, F>(
        &self,
        presented: PresentedClient,
        work: F,
    ) -> Result<T, OAuthError>
    where
        F: FnOnce(&mut DbConn, GrantCaches<'_>, Client) -> Result<T, OAuthError> + Send + 'static,
        T: Send + 'static,
    {
        self.run_with_caches(move |conn, caches| {
            let client = client_auth::authenticate(conn, caches.services, &presented)?;
            work(conn, caches, client)
        })
        .await
    }

    /// What judging a presented access token's state reads.
    pub fn token_checks(&self) -> TokenChecks<'_> {
        TokenChecks {
            pool: self.pool,
            services: self.services,
            users: self.users,
            revoked: self.revoked,
        }
    }
}
