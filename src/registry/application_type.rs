//! What kind of application a new service is, chosen at creation. Each type
//! sets the switches RFC 9700 advises for it: the code flow with PKCE, no
//! implicit flow (§2.1.2), no password flow (§2.4), no secret for code that
//! runs on the user's device, client credentials only for a client acting
//! as itself. What the request sets itself wins. The type is not stored: it
//! is a starting point, after which each switch can be changed; the page of
//! a stored service guesses it back from the switches (`of`).
//!
//! Without a type, a REST request keeps Hub's defaults (implicit and
//! password flows on, PKCE off), which clients written for Hub rely on.
use serde::{Deserialize, Serialize};

use super::model::Service;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum ApplicationType {
    /// A web application with a server that keeps a secret.
    Web,
    /// A single-page application: JavaScript in the browser, no secret.
    Spa,
    /// A native, mobile or command-line application: no secret, and the
    /// device flow for those without a browser.
    Native,
    /// A script or service acting as itself (client credentials).
    Machine,
    /// An API that receives tokens and asks idhub about them (introspection).
    ResourceServer,
}

impl ApplicationType {
    pub const ALL: [ApplicationType; 5] = [
        ApplicationType::Web,
        ApplicationType::Spa,
        ApplicationType::Native,
        ApplicationType::Machine,
        ApplicationType::ResourceServer,
    ];

    /// Its name in the REST API, the CLI and the console's form.
    pub fn name(self) -> &'static str {
        match self {
            ApplicationType::Web => "web",
            ApplicationType::Spa => "spa",
            ApplicationType::Native => "native",
            ApplicationType::Machine => "machine",
            ApplicationType::ResourceServer => "resource-server",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }

    pub fn label(self) -> &'static str {
        match self {
            ApplicationType::Web => "Web application",
            ApplicationType::Spa => "Single-page application",
            ApplicationType::Native => "Native, mobile or command-line application",
            ApplicationType::Machine => "Machine to machine",
            ApplicationType::ResourceServer => "Resource server (an API)",
        }
    }

    pub fn hint(self) -> &'static str {
        match self {
            ApplicationType::Web => {
                "a server signs users in with the code flow and PKCE, and keeps a secret"
            }
            ApplicationType::Spa => {
                "JavaScript in the browser: code flow with PKCE, no secret (a public client)"
            }
            ApplicationType::Native => {
                "runs on the user's device: code flow with PKCE or the device flow, no secret"
            }
            ApplicationType::Machine => {
                "a script or service acting as itself: client credentials, trusted, no users"
            }
            ApplicationType::ResourceServer => {
                "receives tokens and checks them by introspection; signs nobody in"
            }
        }
    }

    /// The switches this type sets, by column name (`SWITCHES`' `field`);
    /// `ServiceInput::check` sets each one the request left unset.
    pub fn preset(self) -> [(&'static str, bool); 7] {
        let (public, client_credentials, device, trusted) = match self {
            ApplicationType::Web | ApplicationType::ResourceServer => (false, false, false, false),
            ApplicationType::Spa => (true, false, false, false),
            ApplicationType::Native => (true, false, true, false),
            // Client credentials need trust; only administrators create
            // services, so the one who picks this type gives it.
            ApplicationType::Machine => (false, true, false, true),
        };
        [
            ("pkce_required", true),
            ("implicit_flow_enabled", false),
            ("password_flow_enabled", false),
            ("public_client", public),
            ("client_credentials_flow_enabled", client_credentials),
            ("device_flow_enabled", device),
            ("trusted", trusted),
        ]
    }

    /// The type a stored service looks like, for the snippets its page
    /// shows: by its switches and whether users are sent back to it.
    pub fn of(service: &Service, redirect_uris: &[String]) -> Self {
        match (service.public_client, redirect_uris.is_empty()) {
            (true, _) if service.device_flow_enabled => ApplicationType::Native,
            (true, _) => ApplicationType::Spa,
            (false, false) => ApplicationType::Web,
            (false, true) if service.client_credentials_flow_enabled => ApplicationType::Machine,
            (false, true) => ApplicationType::ResourceServer,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::switches::SWITCHES;

    fn preset_of(kind: ApplicationType, field: &str) -> bool {
        kind.preset()
            .into_iter()
            .find(|(name, _)| *name == field)
            .map(|(_, on)| on)
            .unwrap_or_else(|| panic!("{kind:?} does not set {field}"))
    }

    #[test]
    fn every_preset_names_real_switches() {
        for kind in ApplicationType::ALL {
            for (field, _) in kind.preset() {
                assert!(SWITCHES.iter().any(|s| s.field == field), "{field}");
            }
            assert_eq!(ApplicationType::parse(kind.name()), Some(kind));
        }
        assert_eq!(ApplicationType::parse("desktop"), None);
    }

    #[test]
    fn every_type_signs_in_with_pkce_and_neither_implicit_nor_password() {
        for kind in ApplicationType::ALL {
            assert!(preset_of(kind, "pkce_required"), "{kind:?}");
            assert!(!preset_of(kind, "implicit_flow_enabled"), "{kind:?}");
            assert!(!preset_of(kind, "password_flow_enabled"), "{kind:?}");
        }
    }

    #[test]
    fn code_on_the_users_device_keeps_no_secret() {
        for kind in ApplicationType::ALL {
            let on_device = matches!(kind, ApplicationType::Spa | ApplicationType::Native);
            assert_eq!(preset_of(kind, "public_client"), on_device, "{kind:?}");
            let machine = kind == ApplicationType::Machine;
            assert_eq!(preset_of(kind, "client_credentials_flow_enabled"), machine);
            assert_eq!(preset_of(kind, "trusted"), machine);
            let native = kind == ApplicationType::Native;
            assert_eq!(preset_of(kind, "device_flow_enabled"), native);
        }
    }

    #[test]
    fn a_stored_service_is_told_apart_by_its_switches() {
        let uris = ["https://app.example/cb".to_owned()];
        for kind in ApplicationType::ALL {
            let mut service = Service::new("s".into(), String::new(), chrono::NaiveDateTime::MIN);
            service.public_client = preset_of(kind, "public_client");
            service.device_flow_enabled = preset_of(kind, "device_flow_enabled");
            service.client_credentials_flow_enabled =
                preset_of(kind, "client_credentials_flow_enabled");
            let redirects: &[String] = match kind {
                ApplicationType::Machine | ApplicationType::ResourceServer => &[],
                _ => &uris,
            };
            assert_eq!(ApplicationType::of(&service, redirects), kind);
        }
    }
}
