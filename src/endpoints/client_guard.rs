//! Every endpoint that authenticates clients runs its work through `guarded`:
//! a locked source is refused before any check, and a failed client
//! authentication is counted (`oauth2::client_throttle`).
use std::future::Future;
use std::net::IpAddr;

use crate::clock;
use crate::db;
use crate::error::cause_chain;
use crate::oauth2::client_assertion::{self, AssertionDeps};
use crate::oauth2::client_auth::PresentedClient;
use crate::oauth2::error::{ErrorCode, OAuthError};
use crate::oidc::discovery::OAUTH_BASE;
use crate::state::AppState;

/// Proves a `private_key_jwt` assertion sent to the endpoint at `path`
/// (under the OAuth base); other credentials pass through untouched.
pub async fn proven(
    state: &AppState,
    path: &str,
    presented: Option<PresentedClient>,
) -> Result<Option<PresentedClient>, OAuthError> {
    let Some(mut presented) = presented else {
        return Ok(None);
    };
    let Some(assertion) = presented.assertion.clone() else {
        return Ok(Some(presented));
    };
    let endpoint = format!("{}{OAUTH_BASE}/{path}", state.issuer);
    let deps = AssertionDeps {
        pool: &state.pool,
        services: &state.services,
        keys: &state.client_keys,
        jtis: &state.jtis,
        issuer: &state.issuer,
        endpoint: &endpoint,
    };
    let proof =
        client_assertion::prove(&deps, &presented.client_id, &assertion, clock::now()).await?;
    presented.proof = Some(proof);
    Ok(Some(presented))
}

pub async fn guarded<T>(
    state: &AppState,
    address: Option<IpAddr>,
    client_id: &str,
    work: impl Future<Output = Result<T, OAuthError>>,
) -> Result<T, OAuthError> {
    if state.client_throttle.is_locked(address, client_id) {
        return Err(OAuthError::new(
            ErrorCode::InvalidClient,
            "too many failed client authentications from this address; try again later",
        ));
    }
    let result = work.await;
    if matches!(&result, Err(error) if error.code == ErrorCode::InvalidClient) {
        let throttle = std::sync::Arc::clone(&state.client_throttle);
        let client_id = client_id.to_owned();
        let counted = db::run(&state.pool, move |conn| {
            Ok(throttle.record_failure(conn, address, &client_id, clock::now())?)
        })
        .await;
        if let Err(error) = counted {
            tracing::warn!(error = %cause_chain(&error), "counting a failed client authentication failed");
        }
    }
    result
}
