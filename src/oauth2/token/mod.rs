//! The token endpoint's protocol (RFC 6749 §4–6), free of HTTP: a typed token
//! request, one module per grant deciding what to issue, and the signing of
//! the §5.1 response. `crate::endpoints::token` puts it on the wire.
pub mod authorization_code;
pub mod client_credentials;
pub mod context;
pub mod device_code;
pub mod issued;
pub mod password;
pub mod refresh_token;
pub mod token_exchange;

use chrono::NaiveDateTime;
use serde::Deserialize;

pub use context::{GrantDeps, TokenPolicy};
pub use issued::{sign, IdTokenRequest, Issued, TokenResponse};

use super::client_auth::PresentedClient;
use super::error::{ErrorCode, OAuthError};
use crate::grant_types;

/// A token request, by its `grant_type`. Parameters a grant does not use
/// (client credentials among them) are ignored here.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(tag = "grant_type", rename_all = "snake_case")]
pub enum TokenRequest {
    AuthorizationCode(authorization_code::CodeExchange),
    ClientCredentials(client_credentials::ClientCredentialsRequest),
    Password(password::PasswordRequest),
    RefreshToken(refresh_token::RefreshRequest),
    #[serde(rename = "urn:ietf:params:oauth:grant-type:device_code")]
    DeviceCode(device_code::DeviceCodeRequest),
    #[serde(rename = "urn:ietf:params:oauth:grant-type:token-exchange")]
    TokenExchange(token_exchange::ExchangeRequest),
}

pub const GRANT_TYPES: &[&str] = &[
    "authorization_code",
    "client_credentials",
    "password",
    "refresh_token",
    grant_types::DEVICE_CODE,
    grant_types::TOKEN_EXCHANGE,
];

impl TokenRequest {
    /// The `grant_type` it came with.
    pub fn grant_type(&self) -> &'static str {
        match self {
            TokenRequest::AuthorizationCode(_) => "authorization_code",
            TokenRequest::ClientCredentials(_) => "client_credentials",
            TokenRequest::Password(_) => "password",
            TokenRequest::RefreshToken(_) => "refresh_token",
            TokenRequest::DeviceCode(_) => grant_types::DEVICE_CODE,
            TokenRequest::TokenExchange(_) => grant_types::TOKEN_EXCHANGE,
        }
    }

    /// Whether the grant changes nothing stored (no code, refresh token or
    /// device code used up), so its tokens may be made while the request's
    /// DPoP proof is still being recorded, and thrown away if it was a replay.
    pub fn changes_nothing(&self) -> bool {
        matches!(
            self,
            TokenRequest::ClientCredentials(_) | TokenRequest::TokenExchange(_)
        )
    }

    /// Reads a request from its form parameters (each present once, none empty).
    pub fn from_params(params: &[(String, String)]) -> Result<Self, OAuthError> {
        let grant_type = params
            .iter()
            .find(|(k, _)| k == "grant_type")
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| OAuthError::invalid_request("parameter 'grant_type' is missing"))?;
        if !GRANT_TYPES.contains(&grant_type) {
            return Err(OAuthError::new(
                ErrorCode::UnsupportedGrantType,
                format!(
                    "grant_type '{}' is not supported",
                    grant_type.chars().take(64).collect::<String>()
                ),
            ));
        }
        crate::oauth2::from_params(params)
            .map_err(|e| OAuthError::invalid_request(format!("invalid token request: {e}")))
    }
}

/// Runs the request's grant.
pub async fn grant(
    deps: &GrantDeps<'_>,
    client: Option<PresentedClient>,
    request: TokenRequest,
    now: NaiveDateTime,
) -> Result<Issued, OAuthError> {
    // Every grant is a confidential client's, or a public one naming itself.
    let client = super::client_auth::require_client(client)?;
    match request {
        TokenRequest::AuthorizationCode(exchange) => {
            authorization_code::grant(deps, client, exchange, now).await
        }
        TokenRequest::ClientCredentials(request) => {
            client_credentials::grant(deps, client, request).await
        }
        TokenRequest::Password(request) => password::grant(deps, client, request, now).await,
        TokenRequest::RefreshToken(request) => {
            refresh_token::grant(deps, client, request, now).await
        }
        TokenRequest::DeviceCode(request) => device_code::grant(deps, client, request, now).await,
        TokenRequest::TokenExchange(request) => {
            token_exchange::grant(deps, client, request, now).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::oauth2::test_params as params;

    #[test]
    fn requests_are_typed_by_grant_type() {
        let request = TokenRequest::from_params(&params(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "r"),
            ("client_id", "ignored here"),
        ]));
        assert!(matches!(request, Ok(TokenRequest::RefreshToken(r)) if r.refresh_token == "r"));
        let missing = TokenRequest::from_params(&params(&[("grant_type", "authorization_code")]));
        assert!(matches!(missing, Err(e) if e.code == ErrorCode::InvalidRequest));
        let unknown = TokenRequest::from_params(&params(&[("grant_type", "magic")]));
        assert!(matches!(unknown, Err(e) if e.code == ErrorCode::UnsupportedGrantType));
        let absent = TokenRequest::from_params(&[]);
        assert!(matches!(absent, Err(e) if e.code == ErrorCode::InvalidRequest));
    }
}
