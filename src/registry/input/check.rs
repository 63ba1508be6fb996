//! `ServiceInput::check`: a create or update request, field by field, as
//! the changes to store.
use super::{CheckedInput, ServiceInput};
use crate::error::AppError;
use crate::registry::client_metadata::AUTH_METHODS;
use crate::registry::model::ServiceChanges;
use crate::registry::redirect_uri;
use crate::registry::switches::SWITCHES;
use crate::validate::{self, MAX_LONG_TEXT, MAX_SHORT_TEXT};

const MAX_URIS: usize = 100;

impl ServiceInput {
    pub fn check(mut self, creating: bool) -> Result<CheckedInput, AppError> {
        if let Some(kind) = self.application_type.take() {
            if !creating {
                return Err(AppError::bad_field(
                    "applicationType",
                    "applicationType is chosen when a service is created; \
                     to change a service, set its switches",
                ));
            }
            for (field, on) in kind.preset() {
                if let Some(switch) = SWITCHES.iter().find(|s| s.field == field) {
                    (switch.asked)(&mut self).get_or_insert(on);
                }
            }
        }
        let mut switched = ServiceChanges::default();
        for switch in SWITCHES {
            *(switch.change)(&mut switched) = (switch.asked)(&mut self).take();
        }
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
            token_endpoint_auth_method: self
                .token_endpoint_auth_method
                .map(|method| method.map(check_auth_method).transpose())
                .transpose()?,
            ..switched
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

fn check_auth_method(method: String) -> Result<String, AppError> {
    match AUTH_METHODS.contains(&method.as_str()) {
        true => Ok(method),
        false => Err(AppError::bad_field(
            "tokenEndpointAuthMethod",
            format!(
                "'{}' is not supported (use one of {}, or null for any)",
                shorten(&method),
                AUTH_METHODS.join(", ")
            ),
        )),
    }
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

fn check_redirect_uris(uris: &[String]) -> Result<Vec<String>, AppError> {
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
    if keys.iter().any(short_rsa_key) {
        return Err(AppError::bad_field(
            "jwks",
            "RSA keys in jwks must have at least 2048 bits (a shorter one could never sign in)",
        ));
    }
    serde_json::to_string(set).map_err(|e| AppError::internal_from("serializing jwks", e))
}

/// An RSA key whose modulus is under 2048 bits, which the verifier refuses.
fn short_rsa_key(key: &serde_json::Value) -> bool {
    use base64::Engine;
    if key.get("kty").and_then(|k| k.as_str()) != Some("RSA") {
        return false;
    }
    let modulus = key
        .get("n")
        .and_then(|n| n.as_str())
        .and_then(|n| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(n)
                .ok()
        })
        .unwrap_or_default();
    let significant = modulus.iter().skip_while(|byte| **byte == 0).count();
    significant < 256
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
