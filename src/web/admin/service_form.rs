//! The console's service form: every field of the registry, read into the
//! REST API's `ServiceInput` so both are checked by the same code, and the
//! values it shows (a stored service's, or Hub's defaults for a new one).
use serde::Deserialize;

use crate::error::AppError;
use crate::registry::input::ServiceInput;
use crate::registry::model::Service;

/// A posted service form. Checkboxes are absent when cleared, so each
/// switch is `Some` exactly when ticked.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ServiceForm {
    pub csrf_token: Option<String>,
    name: Option<String>,
    key: Option<String>,
    home_url: Option<String>,
    /// One per line.
    base_urls: Option<String>,
    /// One per line.
    redirect_uris: Option<String>,
    /// One per line.
    post_logout_redirect_uris: Option<String>,
    backchannel_logout_uri: Option<String>,
    /// A JWK set, as JSON text.
    jwks: Option<String>,
    jwks_uri: Option<String>,
    application_name: Option<String>,
    description: Option<String>,
    vendor: Option<String>,
    version: Option<String>,
    icon_url: Option<String>,
    trusted: Option<String>,
    consent_required: Option<String>,
    pkce_required: Option<String>,
    public_client: Option<String>,
    impersonation: Option<String>,
    implicit_flow_enabled: Option<String>,
    password_flow_enabled: Option<String>,
    client_credentials_flow_enabled: Option<String>,
    par_required: Option<String>,
    device_flow_enabled: Option<String>,
    dpop_required: Option<String>,
    token_exchange_enabled: Option<String>,
}

fn lines(text: Option<String>) -> Vec<String> {
    text.unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

impl ServiceForm {
    /// The form as the REST API's input: every field set, blanks clearing
    /// the optional ones. Trust is set by the new-service form only; a
    /// service's page has its own button, so an edit form opened before a
    /// trust change cannot undo it.
    pub fn into_input(self, creating: bool) -> Result<ServiceInput, AppError> {
        let jwks = match self.jwks.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(serde_json::from_str(text).map_err(|e| {
                AppError::bad_field("jwks", format!("the JWK set is not JSON: {e}"))
            })?),
        };
        Ok(ServiceInput {
            name: Some(self.name.unwrap_or_default()),
            key: Some(self.key),
            home_url: Some(self.home_url),
            base_urls: Some(lines(self.base_urls)),
            redirect_uris: Some(lines(self.redirect_uris)),
            post_logout_redirect_uris: Some(lines(self.post_logout_redirect_uris)),
            backchannel_logout_uri: Some(self.backchannel_logout_uri),
            jwks: Some(jwks),
            jwks_uri: Some(self.jwks_uri),
            application_name: Some(self.application_name),
            description: Some(self.description),
            vendor: Some(self.vendor),
            version: Some(self.version),
            icon_url: Some(self.icon_url),
            trusted: creating.then_some(self.trusted.is_some()),
            consent_required: Some(self.consent_required.is_some()),
            pkce_required: Some(self.pkce_required.is_some()),
            public_client: Some(self.public_client.is_some()),
            impersonation: Some(self.impersonation.is_some()),
            implicit_flow_enabled: Some(self.implicit_flow_enabled.is_some()),
            password_flow_enabled: Some(self.password_flow_enabled.is_some()),
            client_credentials_flow_enabled: Some(self.client_credentials_flow_enabled.is_some()),
            par_required: Some(self.par_required.is_some()),
            device_flow_enabled: Some(self.device_flow_enabled.is_some()),
            dpop_required: Some(self.dpop_required.is_some()),
            token_exchange_enabled: Some(self.token_exchange_enabled.is_some()),
        })
    }
}

/// A switch of the form: its field name, label, hint and state.
pub struct Switch {
    pub field: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub on: bool,
}

/// The values the form shows.
pub struct ServiceFields {
    pub name: String,
    pub key: String,
    pub home_url: String,
    pub base_urls: String,
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    pub backchannel_logout_uri: String,
    pub jwks: String,
    pub jwks_uri: String,
    pub application_name: String,
    pub description: String,
    pub vendor: String,
    pub version: String,
    pub icon_url: String,
    pub switches: Vec<Switch>,
}

impl ServiceFields {
    pub fn of(service: &Service, redirect_uris: &[String]) -> Self {
        let list = |json: &str| -> String {
            let items: Vec<String> = serde_json::from_str(json).unwrap_or_default();
            items.join("\n")
        };
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        let s = service;
        Self {
            name: s.name.clone(),
            key: text(&s.key),
            home_url: text(&s.home_url),
            base_urls: list(&s.base_urls),
            redirect_uris: redirect_uris.join("\n"),
            post_logout_redirect_uris: list(&s.post_logout_redirect_uris),
            backchannel_logout_uri: text(&s.backchannel_logout_uri),
            jwks: text(&s.jwks),
            jwks_uri: text(&s.jwks_uri),
            application_name: text(&s.application_name),
            description: text(&s.description),
            vendor: text(&s.vendor),
            version: text(&s.version),
            icon_url: text(&s.icon_url),
            switches: vec![
                Switch {
                    field: "trusted",
                    label: "Trusted",
                    hint: "users are not asked for consent; needed for client credentials",
                    on: s.trusted,
                },
                Switch {
                    field: "consent_required",
                    label: "Consent required",
                    hint: "users confirm access on first use (ignored when trusted)",
                    on: s.consent_required,
                },
                Switch {
                    field: "pkce_required",
                    label: "PKCE required",
                    hint: "the code flow needs a code_challenge",
                    on: s.pkce_required,
                },
                Switch {
                    field: "public_client",
                    label: "Public client",
                    hint: "a browser or mobile app that cannot keep a secret: PKCE, no secret",
                    on: s.public_client,
                },
                Switch {
                    field: "impersonation",
                    label: "Impersonation",
                    hint: "with trusted, client credentials may act as a user (scope user:ID)",
                    on: s.impersonation,
                },
                Switch {
                    field: "implicit_flow_enabled",
                    label: "Implicit flow",
                    hint: "tokens straight from the authorization endpoint",
                    on: s.implicit_flow_enabled,
                },
                Switch {
                    field: "password_flow_enabled",
                    label: "Password flow",
                    hint: "the password grant",
                    on: s.password_flow_enabled,
                },
                Switch {
                    field: "client_credentials_flow_enabled",
                    label: "Client credentials flow",
                    hint: "tokens for the service itself",
                    on: s.client_credentials_flow_enabled,
                },
                Switch {
                    field: "par_required",
                    label: "Pushed requests required",
                    hint:
                        "authorization requests must be pushed to the PAR endpoint first (RFC 9126)",
                    on: s.par_required,
                },
                Switch {
                    field: "device_flow_enabled",
                    label: "Device flow",
                    hint: "devices without a browser sign in with a code typed at /device (RFC 8628)",
                    on: s.device_flow_enabled,
                },
                Switch {
                    field: "dpop_required",
                    label: "DPoP required",
                    hint: "tokens must be bound to the client's key with DPoP proofs (RFC 9449)",
                    on: s.dpop_required,
                },
                Switch {
                    field: "token_exchange_enabled",
                    label: "Token exchange",
                    hint: "may exchange a user's token it received for one to other services the user allowed (RFC 8693)",
                    on: s.token_exchange_enabled,
                },
            ],
        }
    }

    /// A refused form, shown again as it was sent.
    pub fn sent(form: ServiceForm) -> Self {
        let mut shown = Service::new(String::new(), String::new(), crate::clock::now());
        let base_urls = lines(form.base_urls);
        shown.base_urls = serde_json::to_string(&base_urls).unwrap_or_default();
        let post_logout = lines(form.post_logout_redirect_uris);
        shown.post_logout_redirect_uris = serde_json::to_string(&post_logout).unwrap_or_default();
        shown.backchannel_logout_uri = form.backchannel_logout_uri;
        shown.jwks = form.jwks;
        shown.jwks_uri = form.jwks_uri;
        shown.name = form.name.unwrap_or_default();
        shown.key = form.key;
        shown.home_url = form.home_url;
        shown.application_name = form.application_name;
        shown.description = form.description;
        shown.vendor = form.vendor;
        shown.version = form.version;
        shown.icon_url = form.icon_url;
        shown.trusted = form.trusted.is_some();
        shown.consent_required = form.consent_required.is_some();
        shown.pkce_required = form.pkce_required.is_some();
        shown.public_client = form.public_client.is_some();
        shown.impersonation = form.impersonation.is_some();
        shown.implicit_flow_enabled = form.implicit_flow_enabled.is_some();
        shown.password_flow_enabled = form.password_flow_enabled.is_some();
        shown.client_credentials_flow_enabled = form.client_credentials_flow_enabled.is_some();
        shown.par_required = form.par_required.is_some();
        shown.device_flow_enabled = form.device_flow_enabled.is_some();
        shown.dpop_required = form.dpop_required.is_some();
        shown.token_exchange_enabled = form.token_exchange_enabled.is_some();
        Self::of(&shown, &lines(form.redirect_uris))
    }

    /// The form without the trust switch, for editing.
    pub fn without_trust(mut self) -> Self {
        self.switches.retain(|switch| switch.field != "trusted");
        self
    }

    /// A new service's form: Hub's defaults, from the one place that has them.
    pub fn defaults() -> Self {
        Self::of(
            &Service::new(String::new(), String::new(), crate::clock::now()),
            &[],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleared_boxes_turn_switches_off_and_lines_become_lists() {
        let form = ServiceForm {
            name: Some("Wiki".into()),
            redirect_uris: Some("https://a.example/cb\r\n\r\n  https://b.example/cb \n".into()),
            trusted: Some("on".into()),
            ..ServiceForm::default()
        };
        let input = form.clone().into_input(true).unwrap();
        assert_eq!(form.into_input(false).unwrap().trusted, None);
        let garbled = ServiceForm {
            jwks: Some("{not json".into()),
            ..ServiceForm::default()
        };
        assert!(garbled.into_input(true).is_err());
        assert_eq!(input.trusted, Some(true));
        assert_eq!(input.consent_required, Some(false));
        assert_eq!(
            input.redirect_uris,
            Some(vec![
                "https://a.example/cb".into(),
                "https://b.example/cb".into()
            ])
        );
        assert_eq!(input.key, Some(None));
    }

    #[test]
    fn a_stored_service_fills_the_form_back_the_same() {
        let defaults = ServiceFields::defaults();
        let on: Vec<&str> = defaults
            .switches
            .iter()
            .filter(|s| s.on)
            .map(|s| s.field)
            .collect();
        assert_eq!(
            on,
            vec![
                "consent_required",
                "implicit_flow_enabled",
                "password_flow_enabled",
                "client_credentials_flow_enabled"
            ]
        );
    }
}
