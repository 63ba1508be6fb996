//! RFC 6749 §5.2 errors, with Hub's meanings for each code.
use serde::Serialize;

use crate::error::{cause_chain, AppError, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidRequest,
    /// Unknown service or bad credentials (answered alike).
    InvalidClient,
    /// Unknown, used, expired or foreign code/refresh token, or bad user credentials.
    InvalidGrant,
    /// A grant the service may not use.
    UnauthorizedClient,
    UnsupportedGrantType,
    /// An unknown service id, or a scope the grant may not carry.
    InvalidScope,
    AccessDenied,
    UnsupportedResponseType,
    /// `prompt=none` / `request_credentials=silent` without a session.
    LoginRequired,
    /// `prompt=none` / `request_credentials=silent` when consent would be asked.
    ConsentRequired,
    InvalidToken,
    InsufficientScope,
    ServerError,
    TemporarilyUnavailable,
    /// RFC 7591 §3.2.2: a redirect URI the registration refuses.
    InvalidRedirectUri,
    /// RFC 7591 §3.2.2: any other metadata the registration refuses.
    InvalidClientMetadata,
    /// RFC 8628 §3.5: the user has not decided on the device request yet.
    AuthorizationPending,
    /// RFC 8628 §3.5: the device polls faster than its interval.
    SlowDown,
    /// RFC 8628 §3.5: the device code expired before the user decided.
    ExpiredToken,
    /// RFC 8628 §3.5: the user denied the device request. The same word
    /// as `AccessDenied`, but a 400 at the token endpoint, not a 403.
    #[serde(rename = "access_denied")]
    DeviceDenied,
    /// RFC 9449 §5: the DPoP proof is missing where required, or invalid.
    InvalidDpopProof,
    /// RFC 9449 §8: the proof must carry the nonce the server gives.
    UseDpopNonce,
    /// RFC 8693 §2.2.2: a token exchange's audience the server will not
    /// issue a token for.
    InvalidTarget,
    /// OpenID Connect Core §3.1.2.6: a request object (`request`), which
    /// idhub does not take; pushed requests (RFC 9126) are the way to send
    /// a request the browser cannot change.
    RequestNotSupported,
    /// OpenID Connect Core §3.1.2.6: the request asks for a way of
    /// signing in (`acr_values=mfa`) the user cannot meet (no second factor).
    UnmetAuthenticationRequirements,
}

#[derive(Debug, thiserror::Error)]
#[error("{code:?}: {description}")]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: String,
    /// The resource was asked for with a DPoP-bound token or a DPoP proof:
    /// the challenge is `DPoP`, not `Bearer` (RFC 9449 §7.1).
    pub dpop_challenge: bool,
    /// A nonce for the client's next DPoP proof (RFC 9449 §8).
    pub dpop_nonce: Option<String>,
    /// The caller went past a rate: a 429 with `Retry-After` (RFC 6585).
    pub retry_after_secs: Option<u64>,
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
            dpop_challenge: false,
            dpop_nonce: None,
            retry_after_secs: None,
        }
    }

    /// The same error, challenging with the `DPoP` scheme.
    pub fn dpop(mut self) -> Self {
        self.dpop_challenge = true;
        self
    }

    pub fn invalid_dpop_proof(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidDpopProof, description)
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    pub fn invalid_client() -> Self {
        Self::new(ErrorCode::InvalidClient, "client authentication failed")
    }

    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidGrant, description)
    }

    pub fn invalid_scope(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidScope, description)
    }

    pub fn code_name(&self) -> String {
        serde_json::to_value(self.code)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "server_error".into())
    }

    pub fn unauthorized_client(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::UnauthorizedClient, description)
    }
}

/// Storage and internal failures seen from the OAuth endpoints.
impl From<AppError> for OAuthError {
    fn from(error: AppError) -> Self {
        match error {
            unavailable if unavailable.is_unavailable() => {
                tracing::warn!(error = %cause_chain(&unavailable), "database unavailable");
                Self::new(
                    ErrorCode::TemporarilyUnavailable,
                    "the database is unavailable",
                )
            }
            AppError::PayloadTooLarge(limit) => {
                Self::invalid_request(format!("the body is larger than {limit} bytes"))
            }
            AppError::BadRequest { message, .. } => Self::invalid_request(message),
            AppError::TooManyRequests {
                message,
                retry_after_secs,
            } => Self {
                retry_after_secs: Some(retry_after_secs),
                ..Self::new(ErrorCode::TemporarilyUnavailable, message)
            },
            other => {
                tracing::error!(error = %cause_chain(&other), "OAuth endpoint failure");
                Self::new(ErrorCode::ServerError, "internal error")
            }
        }
    }
}

impl From<StoreError> for OAuthError {
    fn from(error: StoreError) -> Self {
        AppError::from(error).into()
    }
}

impl From<diesel::result::Error> for OAuthError {
    fn from(error: diesel::result::Error) -> Self {
        AppError::from(error).into()
    }
}
