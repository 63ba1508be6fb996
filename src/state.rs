//! What the HTTP handlers share: the pool, the settings and the in-memory
//! caches. Built once by `startup::prepare`; handlers take the parts they need
//! and hand the protocol and domain functions only those.
use std::net::IpAddr;
use std::sync::Arc;

use actix_web::HttpRequest;

use crate::accounts::{AccountDeps, Requester};
use crate::audit::{Origin, Recorder};
use crate::authz::cache::AccessCache;
use crate::config::Settings;
use crate::db::DbPool;
use crate::feed_proof::FeedProof;
use crate::oauth2::access_token::TokenChecks;
use crate::oauth2::client_assertion::ClientKeys;
use crate::oauth2::client_throttle::ClientThrottle;
use crate::oauth2::dpop_nonce::NonceKey;
use crate::oauth2::revoked_set::RevokedSet;
use crate::oauth2::token::TokenPolicy;
use crate::oauth2::used_jtis::JtiLedger;
use crate::oauth2::verified::VerifiedTokens;
use crate::oidc::keystore::KeyStore;
use crate::registry::cache::ServiceCache;
use crate::sessions::familiar_devices::DeviceKey;
use crate::sessions::lockout::{Lockout, Source};
use crate::users::cache::UserCache;
use crate::users::model::User;
use crate::users::password_hash::PasswordHasher;

pub struct AppState {
    pub pool: DbPool,
    pub settings: Settings,
    pub hasher: PasswordHasher,
    pub keys: Arc<KeyStore>,
    /// Wakes the back-channel logout worker when this instance ends a
    /// session (it also polls for other processes' sign-outs).
    pub logout_wake: Arc<tokio::sync::Notify>,
    pub services: Arc<ServiceCache>,
    pub users: Arc<UserCache>,
    /// What users may do, where: the permission cache services ask.
    pub access: Arc<AccessCache>,
    /// What the change feed vouches for: shared by the caches, the revoked
    /// set and the feed's watcher.
    pub feed_proof: Arc<FeedProof>,
    /// Writes the audit events of the hot paths in the background.
    pub audit: Recorder,
    pub verified: VerifiedTokens,
    /// Keys of `private_key_jwt` clients fetched from their `jwksUri`.
    pub client_keys: Arc<ClientKeys>,
    /// Writes the ids of client assertions and DPoP proofs, once each.
    pub jtis: JtiLedger,
    /// The key of DPoP nonces, when the settings require them.
    pub dpop_nonces: Option<Arc<NonceKey>>,
    /// The key of the cookies that mark browsers familiar to an account.
    pub devices: Arc<DeviceKey>,
    /// Revoked access tokens and grants, so token checks skip the database.
    pub revoked: Arc<RevokedSet>,
    /// Failed sign-ins that lock a user or a client, from the settings.
    pub lockout: Lockout,
    /// Failed client authentications that lock a source, from the settings.
    pub client_throttle: Arc<ClientThrottle>,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// Lifetimes and switches of the token endpoint, from the settings.
    pub token_policy: TokenPolicy,
    /// `settings.issuer()`, computed once.
    pub issuer: String,
    /// Passkeys' relying party (the issuer's host); None when that host is
    /// an IP address, where WebAuthn cannot work.
    pub passkeys: Option<Arc<crate::factors::passkeys::RelyingParty>>,
    /// The sign-in page's "Sign in with NAME" buttons (auth modules).
    pub sign_in_buttons: Arc<crate::auth_modules::buttons::SignInButtons>,
    /// The discovery document, serialized once.
    pub discovery: String,
    /// Keys of the console's creating forms already acted on.
    pub submissions: crate::submissions::Submissions,
}

impl AppState {
    /// What changing user accounts needs.
    pub fn account_deps(&self) -> AccountDeps<'_> {
        AccountDeps {
            pool: &self.pool,
            hasher: &self.hasher,
            lockout: self.lockout,
            audit: &self.audit,
            users: &self.users,
        }
    }

    /// The signed-in `user` asking for an account change by this request.
    pub fn requester(&self, user: User, req: &HttpRequest) -> Requester {
        Requester {
            user,
            origin: self.origin(req),
            source: Source::Address(self.client_address(req)),
        }
    }

    /// What judging an access token's state reads.
    pub fn token_checks(&self) -> TokenChecks<'_> {
        TokenChecks {
            pool: &self.pool,
            services: &self.services,
            users: &self.users,
            revoked: &self.revoked,
        }
    }

    /// Cookies get `Secure` whenever the public address is https.
    pub fn secure_cookies(&self) -> bool {
        self.issuer.starts_with("https://")
    }

    /// Where a request came from, for the audit trail.
    pub fn origin(&self, req: &HttpRequest) -> Origin {
        let agent = req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|value| value.to_str().ok());
        Origin::new(self.client_address(req), agent)
    }

    /// The caller's address: the peer, or behind a trusted proxy the last
    /// `X-Forwarded-For` entry that is not itself a trusted proxy. Entries
    /// further left were written by the client and prove nothing.
    pub fn client_address(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = req.peer_addr()?.ip();
        if !self.trusted_proxies.contains(&peer) {
            return Some(peer);
        }
        let forwarded = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        forwarded
            .iter()
            .rev()
            .map(|entry| entry.parse::<IpAddr>().ok())
            .find(|ip| ip.is_none_or(|ip| !self.trusted_proxies.contains(&ip)))
            .unwrap_or(Some(peer))
    }
}
