//! How a resource (the REST API, userinfo) reads an access token and its
//! DPoP proof from a request (RFC 6750 §2.1, RFC 9449 §7), and honours the
//! token's binding with `oauth2::dpop`.
use actix_web::http::header;
use actix_web::HttpRequest;

use crate::error::AppError;
use crate::oauth2::access_token::AccessClaims;
use crate::oauth2::dpop::{self, AtResource, Sent};
use crate::oauth2::error::{ErrorCode, OAuthError};
use crate::state::AppState;

/// The request's one `DPoP` header, if it has one.
pub fn proof_header(req: &HttpRequest) -> Result<Option<String>, OAuthError> {
    let mut values = req.headers().get_all("DPoP");
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(OAuthError::invalid_dpop_proof("send one DPoP header"));
    }
    let proof = first
        .to_str()
        .map_err(|_| OAuthError::invalid_dpop_proof("the DPoP header is not readable"))?;
    Ok(Some(proof.trim().to_owned()))
}

/// The access token in the `Authorization` header: `Bearer` or `DPoP`.
pub fn sent_token(req: &HttpRequest) -> Result<Option<Sent>, OAuthError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || {
        OAuthError::new(
            ErrorCode::InvalidToken,
            "expected 'Authorization: Bearer <token>' or 'Authorization: DPoP <token>'",
        )
    };
    let value = value.to_str().map_err(|_| malformed())?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    let token = token.trim();
    if token.is_empty() {
        let known = ["bearer", "dpop"]
            .iter()
            .any(|s| scheme.eq_ignore_ascii_case(s));
        return Err(match known {
            // Most often a shell variable that came out empty.
            true => OAuthError::new(
                ErrorCode::InvalidToken,
                format!("the {scheme} token in the Authorization header is empty"),
            ),
            false => malformed(),
        });
    }
    if scheme.eq_ignore_ascii_case("bearer") {
        Ok(Some(Sent::Bearer(token.to_owned())))
    } else if scheme.eq_ignore_ascii_case("dpop") {
        let proof = proof_header(req).map_err(OAuthError::dpop)?;
        Ok(Some(Sent::Dpop {
            token: token.to_owned(),
            proof,
        }))
    } else {
        Err(malformed())
    }
}

/// Honours the binding of a verified token sent to this resource.
pub async fn honour(
    state: &AppState,
    req: &HttpRequest,
    claims: &AccessClaims,
    sent: &Sent,
) -> Result<(), OAuthError> {
    // The URL as the client addressed it: the issuer's origin and this path.
    let url = format!("{}{}", state.issuer, req.path());
    let resource = AtResource {
        jtis: &state.jtis,
        nonces: state.dpop_nonces.as_deref(),
        method: req.method().as_str(),
        url: &url,
        now: crate::clock::now(),
    };
    dpop::honour_binding(resource, claims, sent).await
}

/// A refusal from the token checks, as the REST API answers it.
pub fn refusal(error: OAuthError) -> AppError {
    match error.code {
        ErrorCode::InvalidToken if !error.dpop_challenge => {
            AppError::InvalidToken(error.description)
        }
        ErrorCode::InvalidToken | ErrorCode::InvalidDpopProof | ErrorCode::UseDpopNonce => {
            AppError::DpopChallenge {
                code: error.code_name(),
                message: error.description,
                nonce: error.dpop_nonce,
            }
        }
        _ => AppError::internal(format!("checking a token failed: {}", error.description)),
    }
}
