//! The console's service form: every field of the registry, read into the
//! REST API's `ServiceInput` so both are checked by the same code, and the
//! values it shows (a stored service's, or Hub's defaults for a new one).
//! The switches are the registry's `SWITCHES`, by their column names.
use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::AppError;
use crate::registry::application_type::ApplicationType;
use crate::registry::client_metadata::AUTH_METHODS;
use crate::registry::input::ServiceInput;
use crate::registry::model::Service;
use crate::registry::switches::SWITCHES;

/// A posted service form. Checkboxes are absent when cleared, so a switch
/// is on exactly when its box is among `ticked`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ServiceForm {
    pub csrf_token: Option<String>,
    pub name: Option<String>,
    key: Option<String>,
    home_url: Option<String>,
    /// One per line.
    base_urls: Option<String>,
    /// One per line.
    pub redirect_uris: Option<String>,
    /// One per line.
    post_logout_redirect_uris: Option<String>,
    backchannel_logout_uri: Option<String>,
    /// A JWK set, as JSON text.
    jwks: Option<String>,
    jwks_uri: Option<String>,
    /// Blank for any method.
    token_endpoint_auth_method: Option<String>,
    application_name: Option<String>,
    pub description: Option<String>,
    vendor: Option<String>,
    version: Option<String>,
    icon_url: Option<String>,
    /// The new-service form's choice (`ApplicationType::name`); its
    /// switches then come from the type, not from boxes.
    pub application_type: Option<String>,
    /// The new-service form's key (`submissions`).
    pub submission: Option<String>,
    /// The ticked boxes (and any other field not named above), by name.
    #[serde(flatten)]
    ticked: BTreeMap<String, String>,
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
        let application_type = match self.application_type.as_deref().filter(|_| creating) {
            None => None,
            Some(name) => Some(ApplicationType::parse(name).ok_or_else(|| {
                AppError::bad_field("application_type", "Choose the kind of application.")
            })?),
        };
        let jwks = match self.jwks.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(serde_json::from_str(text).map_err(|e| {
                AppError::bad_field("jwks", format!("the JWK set is not JSON: {e}"))
            })?),
        };
        let mut input = ServiceInput {
            name: Some(self.name.unwrap_or_default()),
            key: Some(self.key),
            home_url: Some(self.home_url),
            base_urls: Some(lines(self.base_urls)),
            redirect_uris: Some(lines(self.redirect_uris)),
            post_logout_redirect_uris: Some(lines(self.post_logout_redirect_uris)),
            backchannel_logout_uri: Some(self.backchannel_logout_uri),
            jwks: Some(jwks),
            jwks_uri: Some(self.jwks_uri),
            token_endpoint_auth_method: Some(
                self.token_endpoint_auth_method
                    .filter(|method| !method.trim().is_empty()),
            ),
            application_name: Some(self.application_name),
            description: Some(self.description),
            vendor: Some(self.vendor),
            version: Some(self.version),
            icon_url: Some(self.icon_url),
            application_type,
            ..ServiceInput::default()
        };
        if application_type.is_some() {
            return Ok(input);
        }
        for switch in SWITCHES.iter().filter(|s| creating || !is_trust(s.field)) {
            *(switch.asked)(&mut input) = Some(self.ticked.contains_key(switch.field));
        }
        Ok(input)
    }
}

/// Trust has its own button on a service's page.
fn is_trust(field: &str) -> bool {
    field == "trusted"
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
    /// Blank for any.
    pub token_endpoint_auth_method: String,
    /// The methods the form offers.
    pub auth_methods: &'static [&'static str],
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
            token_endpoint_auth_method: text(&s.token_endpoint_auth_method),
            auth_methods: &AUTH_METHODS,
            application_name: text(&s.application_name),
            description: text(&s.description),
            vendor: text(&s.vendor),
            version: text(&s.version),
            icon_url: text(&s.icon_url),
            switches: SWITCHES
                .iter()
                .map(|switch| Switch {
                    field: switch.field,
                    label: switch.label,
                    hint: switch.hint,
                    on: (switch.stored)(s),
                })
                .collect(),
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
        shown.token_endpoint_auth_method = form.token_endpoint_auth_method;
        shown.name = form.name.unwrap_or_default();
        shown.key = form.key;
        shown.home_url = form.home_url;
        shown.application_name = form.application_name;
        shown.description = form.description;
        shown.vendor = form.vendor;
        shown.version = form.version;
        shown.icon_url = form.icon_url;
        let mut fields = Self::of(&shown, &lines(form.redirect_uris));
        for switch in &mut fields.switches {
            switch.on = form.ticked.contains_key(switch.field);
        }
        fields
    }

    /// The form without the trust switch, for editing.
    pub fn without_trust(mut self) -> Self {
        self.switches.retain(|switch| !is_trust(switch.field));
        self
    }

    /// The form of a service made without an application type: Hub's
    /// defaults, from the one place that has them.
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
            ticked: [("trusted".to_owned(), "on".to_owned())].into(),
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

    /// The fields of the switches shown on.
    fn on(fields: &ServiceFields) -> Vec<&'static str> {
        fields
            .switches
            .iter()
            .filter(|s| s.on)
            .map(|s| s.field)
            .collect()
    }

    #[test]
    fn a_stored_service_fills_the_form_back_the_same() {
        let defaults = ServiceFields::defaults();
        let on = on(&defaults);
        assert_eq!(
            on,
            vec![
                "consent_required",
                "implicit_flow_enabled",
                "password_flow_enabled",
                "client_credentials_flow_enabled",
                "verified"
            ]
        );
    }

    #[test]
    fn each_ticked_box_sets_its_switch_alone_and_is_shown_again() {
        for switch in SWITCHES {
            let posted = format!("csrf_token=t&name=Wiki&{}=on&submit=Save", switch.field);
            let form = actix_web::web::Query::<ServiceForm>::from_query(&posted)
                .unwrap()
                .into_inner();
            let mut input = form.clone().into_input(true).unwrap();
            for other in SWITCHES {
                let ticked = other.field == switch.field;
                assert_eq!(*(other.asked)(&mut input), Some(ticked), "{}", other.field);
            }
            let shown = ServiceFields::sent(form);
            assert_eq!(on(&shown), vec![switch.field]);
            let labels: Vec<&str> = shown.switches.iter().map(|s| s.label).collect();
            assert!(labels.contains(&switch.label));
        }
    }
}
