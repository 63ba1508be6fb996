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

use super::input::ServiceInput;
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

/// The switches a type sets.
struct Preset {
    public_client: bool,
    client_credentials: bool,
    device_flow: bool,
    trusted: bool,
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

    fn preset(self) -> Preset {
        let none = Preset {
            public_client: false,
            client_credentials: false,
            device_flow: false,
            trusted: false,
        };
        match self {
            ApplicationType::Web | ApplicationType::ResourceServer => none,
            ApplicationType::Spa => Preset {
                public_client: true,
                ..none
            },
            ApplicationType::Native => Preset {
                public_client: true,
                device_flow: true,
                ..none
            },
            // Client credentials need trust; only administrators create
            // services, so the one who picks this type gives it.
            ApplicationType::Machine => Preset {
                client_credentials: true,
                trusted: true,
                ..none
            },
        }
    }

    /// Sets each switch of `input` that the request left unset.
    pub fn apply(self, input: &mut ServiceInput) {
        let preset = self.preset();
        let unset = |asked: &mut Option<bool>, value: bool| {
            asked.get_or_insert(value);
        };
        unset(&mut input.pkce_required, true);
        unset(&mut input.implicit_flow_enabled, false);
        unset(&mut input.password_flow_enabled, false);
        unset(&mut input.public_client, preset.public_client);
        unset(
            &mut input.client_credentials_flow_enabled,
            preset.client_credentials,
        );
        unset(&mut input.device_flow_enabled, preset.device_flow);
        unset(&mut input.trusted, preset.trusted);
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

    fn applied(kind: ApplicationType, input: ServiceInput) -> ServiceInput {
        let mut input = input;
        kind.apply(&mut input);
        input
    }

    #[test]
    fn every_type_signs_in_with_pkce_and_neither_implicit_nor_password() {
        for kind in ApplicationType::ALL {
            let input = applied(kind, ServiceInput::default());
            assert_eq!(input.pkce_required, Some(true), "{kind:?}");
            assert_eq!(input.implicit_flow_enabled, Some(false), "{kind:?}");
            assert_eq!(input.password_flow_enabled, Some(false), "{kind:?}");
            assert_eq!(ApplicationType::parse(kind.name()), Some(kind));
        }
        assert_eq!(ApplicationType::parse("desktop"), None);
    }

    #[test]
    fn code_on_the_users_device_keeps_no_secret() {
        for kind in [ApplicationType::Spa, ApplicationType::Native] {
            assert_eq!(
                applied(kind, ServiceInput::default()).public_client,
                Some(true)
            );
        }
        for kind in [ApplicationType::Web, ApplicationType::Machine] {
            assert_eq!(
                applied(kind, ServiceInput::default()).public_client,
                Some(false)
            );
        }
        let native = applied(ApplicationType::Native, ServiceInput::default());
        assert_eq!(native.device_flow_enabled, Some(true));
        let machine = applied(ApplicationType::Machine, ServiceInput::default());
        assert_eq!(machine.client_credentials_flow_enabled, Some(true));
        assert_eq!(machine.trusted, Some(true));
        let web = applied(ApplicationType::Web, ServiceInput::default());
        assert_eq!(web.client_credentials_flow_enabled, Some(false));
        assert_eq!(web.trusted, Some(false));
    }

    #[test]
    fn what_the_request_sets_wins() {
        let asked = ServiceInput {
            implicit_flow_enabled: Some(true),
            trusted: Some(false),
            ..ServiceInput::default()
        };
        let input = applied(ApplicationType::Machine, asked);
        assert_eq!(input.implicit_flow_enabled, Some(true));
        assert_eq!(input.trusted, Some(false));
    }

    #[test]
    fn a_stored_service_is_told_apart_by_its_switches() {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .unwrap_or_default();
        let uris = ["https://app.example/cb".to_owned()];
        for kind in ApplicationType::ALL {
            let mut input = applied(kind, ServiceInput::default());
            let mut service = Service::new("s".into(), String::new(), now);
            service.public_client = input.public_client.take().unwrap_or_default();
            service.device_flow_enabled = input.device_flow_enabled.take().unwrap_or_default();
            service.client_credentials_flow_enabled = input
                .client_credentials_flow_enabled
                .take()
                .unwrap_or_default();
            let redirects: &[String] = match kind {
                ApplicationType::Machine | ApplicationType::ResourceServer => &[],
                _ => &uris,
            };
            assert_eq!(ApplicationType::of(&service, redirects), kind);
        }
    }
}
