//! The DPoP proof of a token request (RFC 9449 §5): checked and recorded
//! when sent, required when the client's service says `dpopRequired`.
use actix_web::HttpRequest;
use chrono::NaiveDateTime;

use crate::oauth2::dpop::{self, Checked, Expected, Recording};
use crate::oauth2::error::OAuthError;
use crate::rest::dpop::proof_header;
use crate::state::AppState;

/// The thumbprint of the proof's key, when the request has a good proof,
/// and its `jti` on the way to the database: the caller confirms it before
/// answering.
pub async fn at_token_endpoint(
    state: &AppState,
    req: &HttpRequest,
    url: &str,
    client_id: &str,
    now: NaiveDateTime,
) -> Result<Option<(String, Recording)>, OAuthError> {
    let Some(checked) = checked_proof(state, req, url, now)? else {
        if requires_dpop(state, client_id).await? {
            return Err(OAuthError::invalid_dpop_proof(
                "this client must send a DPoP proof (dpopRequired)",
            ));
        }
        return Ok(None);
    };
    let recording = dpop::submit(&state.jtis, &checked)?;
    Ok(Some((checked.jkt, recording)))
}

fn checked_proof(
    state: &AppState,
    req: &HttpRequest,
    url: &str,
    now: NaiveDateTime,
) -> Result<Option<Checked>, OAuthError> {
    let Some(proof) = proof_header(req)? else {
        return Ok(None);
    };
    let expected = Expected {
        method: "POST",
        url,
        access_token: None,
        now: now.and_utc().timestamp(),
        nonces: state.dpop_nonces.as_deref(),
    };
    dpop::check(&proof, expected).map(Some)
}

/// The thumbprint of the key of the request's proof for a POST to `url`,
/// checked and its `jti` recorded; `None` without a `DPoP` header.
pub async fn proven_key(
    state: &AppState,
    req: &HttpRequest,
    url: &str,
    now: NaiveDateTime,
) -> Result<Option<String>, OAuthError> {
    let Some(checked) = checked_proof(state, req, url, now)? else {
        return Ok(None);
    };
    dpop::record(&state.jtis, &checked).await?;
    Ok(Some(checked.jkt))
}

/// From the service cache; an unknown client requires nothing here (its
/// authentication fails next).
async fn requires_dpop(state: &AppState, client_id: &str) -> Result<bool, OAuthError> {
    if client_id.is_empty() {
        return Ok(false);
    }
    let service = state.services.get(&state.pool, client_id).await?;
    Ok(service.is_some_and(|s| s.dpop_required))
}
