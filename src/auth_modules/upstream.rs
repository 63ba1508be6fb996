//! The client side of an `oidc` auth module, through the `openidconnect`
//! crate: the provider's discovery document, the code flow with PKCE,
//! `state` and `nonce`, and the ID token's verification (signature from
//! the provider's JWKS, `iss`, `aud`, `exp`, `nonce`). Calls time out after
//! five seconds and follow no redirects.
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};

use super::identities::External;
use super::model::Settings;

/// How long an upstream call may take.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// Why an upstream sign-in failed, said to the person on the page.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("the provider could not be reached or answered wrongly ({0})")]
    Provider(String),
    #[error("the provider's answer did not check out ({0})")]
    Refused(String),
}

/// What the browser's round trip to the provider must bring back: kept
/// by idhub (single use) under the `state` it carries.
#[derive(Debug, Serialize, Deserialize)]
pub struct Pending {
    pub module_id: String,
    pub nonce: String,
    pub verifier: String,
    pub return_to: String,
}

/// A module's client configuration.
pub struct Upstream<'a> {
    pub settings: &'a Settings,
    pub secret: Option<String>,
    /// idhub's callback for this module.
    pub redirect_uri: String,
}

pub fn http_client() -> Result<reqwest::Client, UpstreamError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .build()
        .map_err(|e| UpstreamError::Provider(e.to_string()))
}

fn provider(e: impl std::fmt::Display) -> UpstreamError {
    UpstreamError::Provider(e.to_string())
}

impl Upstream<'_> {
    async fn metadata(
        &self,
        http: &reqwest::Client,
    ) -> Result<CoreProviderMetadata, UpstreamError> {
        let issuer = self.settings.issuer.clone().unwrap_or_default();
        let issuer = IssuerUrl::new(issuer).map_err(provider)?;
        CoreProviderMetadata::discover_async(issuer, http)
            .await
            .map_err(provider)
    }

    fn client(
        &self,
        metadata: CoreProviderMetadata,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        UpstreamError,
    > {
        let client_id = ClientId::new(self.settings.client_id.clone().unwrap_or_default());
        let redirect = RedirectUrl::new(self.redirect_uri.clone()).map_err(provider)?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            client_id,
            self.secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect))
    }

    /// Where to send the browser, its `state`, and what to keep for the
    /// callback.
    pub async fn start(
        &self,
        module_id: &str,
        return_to: &str,
    ) -> Result<(String, String, Pending), UpstreamError> {
        let http = http_client()?;
        let client = self.client(self.metadata(&http).await?)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let scopes = self
            .settings
            .scopes
            .clone()
            .unwrap_or_else(|| "openid".into());
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in scopes.split_whitespace().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.to_owned()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        let pending = Pending {
            module_id: module_id.to_owned(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
            return_to: return_to.to_owned(),
        };
        Ok((url.to_string(), state.secret().clone(), pending))
    }

    /// Exchanges the code and verifies the ID token: who signed in.
    pub async fn finish(&self, code: &str, pending: &Pending) -> Result<External, UpstreamError> {
        let http = http_client()?;
        let client = self.client(self.metadata(&http).await?)?;
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(provider)?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
            .request_async(&http)
            .await
            .map_err(|e| UpstreamError::Refused(format!("the code was not exchanged: {e}")))?;
        let id_token = tokens
            .id_token()
            .ok_or_else(|| UpstreamError::Refused("no ID token".into()))?;
        let claims = id_token
            .claims(
                &client.id_token_verifier(),
                &Nonce::new(pending.nonce.clone()),
            )
            .map_err(|e| UpstreamError::Refused(e.to_string()))?;
        let text = |value: Option<String>| value.filter(|v| !v.is_empty());
        Ok(External {
            subject: claims.subject().to_string(),
            login: text(claims.preferred_username().map(|u| u.to_string())),
            email: text(claims.email().map(|e| e.to_string())),
            email_verified: claims.email_verified().unwrap_or(false),
            name: text(
                claims
                    .name()
                    .and_then(|name| name.get(None))
                    .map(|name| name.to_string()),
            ),
            groups: groups_of(&id_token.to_string()),
        })
    }
}

/// The `groups` claim of an ID token already verified (the crate's claims
/// type has no room for it).
fn groups_of(id_token: &str) -> Vec<String> {
    id_token
        .split('.')
        .nth(1)
        .and_then(|payload| URL_SAFE_NO_PAD.decode(payload).ok())
        .and_then(|json| serde_json::from_slice::<serde_json::Value>(&json).ok())
        .and_then(|claims| {
            claims["groups"].as_array().map(|groups| {
                groups
                    .iter()
                    .filter_map(|g| g.as_str().map(str::to_owned))
                    .collect()
            })
        })
        .unwrap_or_default()
}
