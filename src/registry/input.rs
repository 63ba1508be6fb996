//! The JSON body of service create and update, checked field by field.
use serde::Deserialize;

use super::model::ServiceChanges;
use super::redirect_uri;
use crate::error::AppError;
use crate::validate::{self, MAX_LONG_TEXT, MAX_SHORT_TEXT};

const MAX_URIS: usize = 100;

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceInput {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::validate::nullable")]
    pub key: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::validate::nullable")]
    pub home_url: Option<Option<String>>,
    pub base_urls: Option<Vec<String>>,
    pub redirect_uris: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::validate::nullable")]
    pub application_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::validate::nullable")]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::validate::nullable")]
    pub vendor: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::validate::nullable")]
    pub version: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::validate::nullable")]
    pub icon_url: Option<Option<String>>,
    pub trusted: Option<bool>,
    pub consent_required: Option<bool>,
    pub pkce_required: Option<bool>,
    pub public_client: Option<bool>,
    pub impersonation: Option<bool>,
    pub implicit_flow_enabled: Option<bool>,
    pub password_flow_enabled: Option<bool>,
    pub client_credentials_flow_enabled: Option<bool>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::validate::nullable")]
    pub backchannel_logout_uri: Option<Option<String>>,
    /// A JWK set of public keys (`private_key_jwt`).
    #[serde(default, deserialize_with = "crate::validate::nullable")]
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<Option<serde_json::Value>>,
    #[serde(default, deserialize_with = "crate::validate::nullable")]
    pub jwks_uri: Option<Option<String>>,
    pub par_required: Option<bool>,
    pub device_flow_enabled: Option<bool>,
    pub dpop_required: Option<bool>,
    pub token_exchange_enabled: Option<bool>,
}

/// A checked request: column changes plus the new redirect URI list, if given.
#[derive(Debug, Default)]
pub struct CheckedInput {
    pub changes: ServiceChanges,
    pub redirect_uris: Option<Vec<String>>,
}

impl ServiceInput {
    pub fn check(self, creating: bool) -> Result<CheckedInput, AppError> {
        let name = match (creating, self.name.as_deref()) {
            (true, value) => Some(validate::required_text("name", value, MAX_SHORT_TEXT)?),
            (false, None) => None,
            (false, value) => Some(validate::required_text("name", value, MAX_SHORT_TEXT)?),
        };
        let changes = ServiceChanges {
            name,
            key: text_patch("key", self.key, MAX_SHORT_TEXT)?,
            home_url: url_patch("homeUrl", self.home_url)?,
            base_urls: self
                .base_urls
                .map(|urls| check_base_urls(&urls))
                .transpose()?,
            application_name: text_patch("applicationName", self.application_name, MAX_SHORT_TEXT)?,
            description: text_patch("description", self.description, MAX_LONG_TEXT)?,
            vendor: text_patch("vendor", self.vendor, MAX_SHORT_TEXT)?,
            version: text_patch("version", self.version, MAX_SHORT_TEXT)?,
            icon_url: url_patch("iconUrl", self.icon_url)?,
            trusted: self.trusted,
            consent_required: self.consent_required,
            pkce_required: self.pkce_required,
            public_client: self.public_client,
            impersonation: self.impersonation,
            implicit_flow_enabled: self.implicit_flow_enabled,
            password_flow_enabled: self.password_flow_enabled,
            client_credentials_flow_enabled: self.client_credentials_flow_enabled,
            post_logout_redirect_uris: self
                .post_logout_redirect_uris
                .map(|uris| check_uri_list("postLogoutRedirectUris", &uris))
                .transpose()?
                .map(|uris| serde_json::to_string(&uris))
                .transpose()
                .map_err(|e| AppError::internal_from("serializing URIs", e))?,
            backchannel_logout_uri: url_patch("backchannelLogoutUri", self.backchannel_logout_uri)?,
            jwks: self
                .jwks
                .map(|jwks| jwks.map(|set| check_jwks(&set)).transpose())
                .transpose()?,
            jwks_uri: url_patch("jwksUri", self.jwks_uri)?,
            par_required: self.par_required,
            device_flow_enabled: self.device_flow_enabled,
            dpop_required: self.dpop_required,
            token_exchange_enabled: self.token_exchange_enabled,
        };
        let redirect_uris = self
            .redirect_uris
            .map(|uris| check_redirect_uris(&uris))
            .transpose()?;
        Ok(CheckedInput {
            changes,
            redirect_uris,
        })
    }
}

fn text_patch(
    field: &str,
    value: Option<Option<String>>,
    max: usize,
) -> Result<Option<Option<String>>, AppError> {
    value
        .map(|inner| validate::optional_text(field, inner.as_deref(), max))
        .transpose()
}

fn url_patch(
    field: &str,
    value: Option<Option<String>>,
) -> Result<Option<Option<String>>, AppError> {
    value
        .map(|inner| match inner.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(url) => validate::web_url(field, url).map(Some),
        })
        .transpose()
}

fn check_base_urls(urls: &[String]) -> Result<String, AppError> {
    if urls.len() > MAX_URIS {
        return Err(AppError::bad_field(
            "baseUrls",
            format!("at most {MAX_URIS} base URLs"),
        ));
    }
    let checked = urls
        .iter()
        .map(|url| validate::web_url("baseUrls", url))
        .collect::<Result<Vec<_>, _>>()?;
    serde_json::to_string(&checked).map_err(|e| AppError::internal_from("serializing base URLs", e))
}

pub fn check_redirect_uris(uris: &[String]) -> Result<Vec<String>, AppError> {
    check_uri_list("redirectUris", uris)
}

/// Redirect URIs and post-logout redirect URIs follow the same rules: exact
/// match later, so absolute, https or loopback http, no fragment.
fn check_uri_list(field: &str, uris: &[String]) -> Result<Vec<String>, AppError> {
    if uris.len() > MAX_URIS {
        return Err(AppError::bad_field(
            field,
            format!("at most {MAX_URIS} URIs"),
        ));
    }
    let mut checked: Vec<String> = Vec::with_capacity(uris.len());
    for uri in uris.iter().map(|u| u.trim()) {
        redirect_uri::validate(uri).map_err(|why| {
            AppError::bad_field(field, format!("redirect URI '{}' {why}", shorten(uri)))
        })?;
        if !checked.iter().any(|c| c == uri) {
            checked.push(uri.to_owned());
        }
    }
    Ok(checked)
}

/// A JWK set of public keys only: a private key here would be a secret
/// published to every administrator.
fn check_jwks(set: &serde_json::Value) -> Result<String, AppError> {
    let parsed: jsonwebtoken::jwk::JwkSet = serde_json::from_value(set.clone())
        .map_err(|e| AppError::bad_field("jwks", format!("jwks is not a JWK set: {e}")))?;
    if parsed.keys.is_empty() || parsed.keys.len() > MAX_URIS {
        return Err(AppError::bad_field("jwks", "jwks holds 1 to 100 keys"));
    }
    let private = ["d", "p", "q", "dp", "dq", "qi", "k"];
    let keys = set["keys"].as_array().cloned().unwrap_or_default();
    if keys
        .iter()
        .any(|key| private.iter().any(|member| key.get(member).is_some()))
    {
        return Err(AppError::bad_field(
            "jwks",
            "jwks must hold public keys only",
        ));
    }
    serde_json::to_string(set).map_err(|e| AppError::internal_from("serializing jwks", e))
}

fn shorten(text: &str) -> String {
    text.chars().take(100).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_needs_a_name_update_does_not() {
        assert!(ServiceInput::default().check(true).is_err());
        assert!(ServiceInput::default().check(false).is_ok());
        let input = ServiceInput {
            name: Some("  ".into()),
            ..Default::default()
        };
        assert!(input.check(false).is_err());
    }

    #[test]
    fn bad_redirect_uri_names_the_field() {
        let input = ServiceInput {
            name: Some("x".into()),
            redirect_uris: Some(vec!["http://evil.example/cb".into()]),
            ..Default::default()
        };
        match input.check(true) {
            Err(AppError::BadRequest { field, .. }) => {
                assert_eq!(field.as_deref(), Some("redirectUris"))
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn null_clears_and_absent_keeps() {
        let input: ServiceInput = serde_json::from_str(r#"{"homeUrl": null}"#).unwrap();
        let checked = input.check(false).unwrap();
        assert_eq!(checked.changes.home_url, Some(None));
        assert_eq!(checked.changes.vendor, None);
    }
}
