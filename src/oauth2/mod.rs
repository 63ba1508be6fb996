//! OAuth 2.0, free of HTTP: the grants and what they issue, authorization
//! requests, client authentication, the state of codes, refresh tokens,
//! grants and consents, introspection and revocation. The endpoints that put
//! this on the wire are in `crate::endpoints`.
pub mod access_token;
pub mod authorize;
pub mod authorized_apps;
pub mod client_assertion;
pub mod client_auth;
pub mod client_throttle;
pub mod codes;
pub mod consents;
pub mod device;
pub mod dpop;
pub mod dpop_nonce;
pub mod error;
pub mod grants;
pub mod introspection;
pub mod logout;
pub mod par;
pub mod pkce;
pub mod refresh_tokens;
pub mod revocation;
pub mod revoked_set;
pub mod scope_rules;
pub mod single_use;
pub mod token;
pub mod used_jtis;
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

/// Reads a request type from form parameters (each present once, none
/// empty): serde with the parameters as a map of strings, so unknown ones
/// are ignored and absent ones are `None`.
pub fn from_params<T: serde::de::DeserializeOwned>(
    params: &[(String, String)],
) -> Result<T, serde_json::Error> {
    let object: serde_json::Map<String, serde_json::Value> = params
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    serde_json::from_value(serde_json::Value::Object(object))
}

/// Request parameters for the unit tests of the protocol functions.
#[cfg(test)]
pub(crate) fn test_params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
