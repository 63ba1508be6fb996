//! OAuth 2.0: the token endpoint and its grants, introspection and revocation.
pub mod access_token;
pub mod authorize;
pub mod authorized_apps;
pub mod client_auth;
pub mod codes;
pub mod consents;
pub mod error;
pub mod form;
pub mod grants;
pub mod introspect;
pub mod pkce;
pub mod refresh_tokens;
pub mod revoke;
pub mod routes;
pub mod scope;
pub mod throttle;
pub mod token;
pub mod verified;

use error::OAuthError;

use crate::db::{self, DbConn, DbPool};

/// `db::run` for protocol code whose own errors are OAuth errors.
pub async fn run<T, F>(pool: &DbPool, work: F) -> Result<T, OAuthError>
where
    F: FnOnce(&mut DbConn) -> Result<T, OAuthError> + Send + 'static,
    T: Send + 'static,
{
    db::run(pool, move |conn| Ok(work(conn))).await?
}

pub fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}
