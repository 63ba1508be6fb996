//! A service's on/off settings, described once: the REST API's name, the
//! console's checkbox, label and hint, what a registered client may do with
//! it, and where it sits in a stored service, a REST request and a change.
//! The REST input, the audit trail's field names, client registration, the
//! console's form and the service's page all read `SWITCHES`, as both
//! housekeeping passes read `housekeeping::RULES`. A new switch is a column,
//! a field of `Service`, `ServiceChanges` and `ServiceInput` (the types
//! diesel, serde and the API description derive from), its default in
//! `Service::new`, and a row here.
use super::input::ServiceInput;
use super::model::{Service, ServiceChanges};

/// What a registered client may do with a switch through its own metadata
/// (RFC 7591 registration, RFC 7592 update).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByClient {
    /// Not client metadata: only an administrator sets it.
    Never,
    /// As its metadata says.
    Free,
    /// A requirement: a client may add it, never drop it once set.
    KeepOn,
    /// A permission: a client may give it up, never take it back once off.
    KeepOff,
}

/// One switch of a service.
pub struct Switch {
    /// Its name in the REST API (Hub's camelCase).
    pub json: &'static str,
    /// The column's name, which is the console form's checkbox.
    pub field: &'static str,
    /// The console's label and hint.
    pub label: &'static str,
    pub hint: &'static str,
    pub by_client: ByClient,
    /// Its value in a stored service.
    pub stored: fn(&Service) -> bool,
    /// Its place in a create or update request.
    pub asked: fn(&mut ServiceInput) -> &mut Option<bool>,
    /// Its place in a change, to set and to read.
    pub change: fn(&mut ServiceChanges) -> &mut Option<bool>,
    pub changed: fn(&ServiceChanges) -> Option<bool>,
}

/// A row of `SWITCHES`: the accessors of the field named once.
macro_rules! switch {
    ($field:ident, $json:literal, $by_client:ident, $label:literal, $hint:literal $(,)?) => {
        Switch {
            json: $json,
            field: stringify!($field),
            label: $label,
            hint: $hint,
            by_client: ByClient::$by_client,
            stored: |service| service.$field,
            asked: |input| &mut input.$field,
            change: |changes| &mut changes.$field,
            changed: |changes| changes.$field,
        }
    };
}

/// Every switch, in the order the console shows them.
pub const SWITCHES: &[Switch] = &[
    switch!(
        trusted,
        "trusted",
        Never,
        "Trusted",
        "users are not asked for consent; needed for client credentials",
    ),
    switch!(
        consent_required,
        "consentRequired",
        Free,
        "Consent required",
        "users confirm access on first use (ignored when trusted)",
    ),
    switch!(
        pkce_required,
        "pkceRequired",
        KeepOn,
        "PKCE required",
        "the code flow needs a code_challenge",
    ),
    switch!(
        public_client,
        "publicClient",
        Free,
        "Public client",
        "a browser or mobile app that cannot keep a secret: PKCE, no secret",
    ),
    switch!(
        impersonation,
        "impersonation",
        Never,
        "Impersonation",
        "with trusted, client credentials may act as a user (scope user:ID)",
    ),
    switch!(
        implicit_flow_enabled,
        "implicitFlowEnabled",
        KeepOff,
        "Implicit flow",
        "tokens straight from the authorization endpoint",
    ),
    switch!(
        password_flow_enabled,
        "passwordFlowEnabled",
        KeepOff,
        "Password flow",
        "the password grant",
    ),
    switch!(
        client_credentials_flow_enabled,
        "clientCredentialsFlowEnabled",
        KeepOff,
        "Client credentials flow",
        "tokens for the service itself",
    ),
    switch!(
        par_required,
        "parRequired",
        KeepOn,
        "Pushed requests required",
        "authorization requests must be pushed to the PAR endpoint first (RFC 9126)",
    ),
    switch!(
        device_flow_enabled,
        "deviceFlowEnabled",
        KeepOff,
        "Device flow",
        "devices without a browser sign in with a code typed at /device (RFC 8628)",
    ),
    switch!(
        dpop_required,
        "dpopRequired",
        KeepOn,
        "DPoP required",
        "tokens must be bound to the client's key with DPoP proofs (RFC 9449)",
    ),
    switch!(
        token_exchange_enabled,
        "tokenExchangeEnabled",
        Never,
        "Token exchange",
        "may exchange a user's token it received for one to other services the user allowed (RFC 8693)",
    ),
    switch!(
        verified,
        "verified",
        Never,
        "Verified",
        "an administrator vouches for it; off for clients anybody registered: no Hub scope, marked unverified on consent, no redirect without a click",
    ),
];

impl ServiceChanges {
    /// The REST names of the fields this changes, for the audit trail: the
    /// others, then the switches in `SWITCHES`' order.
    pub fn field_names(&self) -> Vec<&'static str> {
        let c = self;
        let others = [
            ("key", c.key.is_some()),
            ("name", c.name.is_some()),
            ("homeUrl", c.home_url.is_some()),
            ("baseUrls", c.base_urls.is_some()),
            ("applicationName", c.application_name.is_some()),
            ("description", c.description.is_some()),
            ("vendor", c.vendor.is_some()),
            ("version", c.version.is_some()),
            ("iconUrl", c.icon_url.is_some()),
            (
                "postLogoutRedirectUris",
                c.post_logout_redirect_uris.is_some(),
            ),
            ("backchannelLogoutUri", c.backchannel_logout_uri.is_some()),
            ("jwks", c.jwks.is_some()),
            ("jwksUri", c.jwks_uri.is_some()),
            (
                "tokenEndpointAuthMethod",
                c.token_endpoint_auth_method.is_some(),
            ),
        ];
        let switches = SWITCHES
            .iter()
            .map(|switch| (switch.json, (switch.changed)(c).is_some()));
        others
            .into_iter()
            .chain(switches)
            .filter_map(|(name, changed)| changed.then_some(name))
            .collect()
    }
}

/// The switches of `changes` a registered client may set: with `current`
/// (an update) only narrowing what is stored, without (a registration) as
/// asked. Switches only an administrator sets are left alone.
pub fn as_client_may(changes: &mut ServiceChanges, current: Option<&Service>) {
    for switch in SWITCHES {
        let asked = (switch.change)(changes);
        let now = current.map(switch.stored);
        *asked = match (switch.by_client, now) {
            (ByClient::Never, _) => None,
            (ByClient::Free, _) | (_, None) => *asked,
            (ByClient::KeepOn, Some(now)) => Some(now || *asked == Some(true)),
            (ByClient::KeepOff, Some(now)) => Some(now && asked.unwrap_or(now)),
        };
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::{json, Value};

    use super::*;

    fn stored() -> Service {
        Service::new("s".into(), String::new(), crate::clock::now())
    }

    #[test]
    fn every_boolean_of_a_service_is_a_switch_once() {
        let shown = serde_json::to_value(stored()).unwrap_or_default();
        let booleans: BTreeSet<&str> = shown
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, value)| value.is_boolean())
            .map(|(name, _)| name.as_str())
            .collect();
        let named: BTreeSet<&str> = SWITCHES.iter().map(|s| s.json).collect();
        assert_eq!(booleans, named);
        assert_eq!(named.len(), SWITCHES.len(), "no JSON name twice");
        let fields: BTreeSet<&str> = SWITCHES.iter().map(|s| s.field).collect();
        assert_eq!(fields.len(), SWITCHES.len(), "no form field twice");
    }

    #[test]
    fn every_switch_round_trips_through_rest_input_change_and_service() {
        for switch in SWITCHES {
            let camel: String = switch
                .field
                .split('_')
                .enumerate()
                .map(|(i, word)| match i {
                    0 => word.to_owned(),
                    _ => word[..1].to_uppercase() + &word[1..],
                })
                .collect();
            assert_eq!(switch.json, camel, "the column's camelCase name");
            for value in [true, false] {
                let body = json!({ switch.json: value });
                let mut input: ServiceInput = serde_json::from_value(body).unwrap();
                assert_eq!(*(switch.asked)(&mut input), Some(value), "{}", switch.json);
                let checked = input.check(false).unwrap();
                assert_eq!((switch.changed)(&checked.changes), Some(value));
                assert_eq!(checked.changes.field_names(), vec![switch.json]);
                for other in SWITCHES.iter().filter(|o| o.json != switch.json) {
                    assert_eq!((other.changed)(&checked.changes), None, "{}", other.json);
                }
                let mut change = ServiceChanges::default();
                *(switch.change)(&mut change) = Some(value);
                assert_eq!(change.field_names(), vec![switch.json]);
                let service = stored();
                let shown = serde_json::to_value(&service).unwrap_or_default();
                assert_eq!(shown[switch.json], Value::Bool((switch.stored)(&service)));
            }
        }
    }

    #[test]
    fn a_client_narrows_requirements_and_permissions_only() {
        let mut current = stored();
        current.pkce_required = true;
        current.implicit_flow_enabled = false;
        current.trusted = true;
        let mut asked = ServiceChanges {
            trusted: Some(false),
            impersonation: Some(true),
            pkce_required: Some(false),
            implicit_flow_enabled: Some(true),
            password_flow_enabled: Some(false),
            public_client: Some(true),
            ..Default::default()
        };
        as_client_may(&mut asked, Some(&current));
        assert_eq!((asked.trusted, asked.impersonation), (None, None));
        assert_eq!(asked.pkce_required, Some(true), "stays required");
        assert_eq!(asked.implicit_flow_enabled, Some(false), "stays off");
        assert_eq!(asked.password_flow_enabled, Some(false), "given up");
        assert_eq!(asked.client_credentials_flow_enabled, Some(true), "kept");
        assert_eq!(asked.par_required, Some(false), "not asked, not required");
        assert_eq!(asked.public_client, Some(true), "free");
        assert_eq!(asked.consent_required, None, "free, not asked");

        let mut registering = ServiceChanges {
            token_exchange_enabled: Some(true),
            implicit_flow_enabled: Some(true),
            ..Default::default()
        };
        as_client_may(&mut registering, None);
        assert_eq!(registering.token_exchange_enabled, None);
        assert_eq!(registering.implicit_flow_enabled, Some(true));
    }
}
