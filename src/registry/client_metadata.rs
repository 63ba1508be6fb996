//! RFC 7591 client metadata: checked, turned into the registry's own
//! `ServiceInput` (so a registered client obeys every rule a service does),
//! and answered back (RFC 7591 §3.2.1, RFC 7592 §3). What the registry has
//! no column for is kept as JSON beside the service.
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::input::ServiceInput;
use super::model::Service;
use crate::grant_types;
use crate::outbound;
use crate::validate::{self, MAX_SHORT_TEXT};

/// The token endpoint authentication methods a client may register.
pub const AUTH_METHODS: [&str; 4] = [
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
    "none",
];
/// What a client may register. Not `password`: a client that collects
/// users' passwords is what RFC 9700 §2.4 forbids; an administrator may
/// still switch it on for a service.
const GRANT_TYPES: [&str; 5] = [
    "authorization_code",
    "implicit",
    "refresh_token",
    "client_credentials",
    grant_types::DEVICE_CODE,
];
const MAX_LIST: usize = 100;

/// The request: RFC 7591 §2, plus OpenID Connect's logout metadata.
/// Unknown members are ignored, as §2 says.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct ClientMetadata {
    pub redirect_uris: Option<Vec<String>>,
    pub token_endpoint_auth_method: Option<String>,
    pub grant_types: Option<Vec<String>>,
    pub response_types: Option<Vec<String>>,
    pub client_name: Option<String>,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub scope: Option<String>,
    pub contacts: Option<Vec<String>>,
    pub tos_uri: Option<String>,
    pub policy_uri: Option<String>,
    pub software_id: Option<String>,
    pub software_version: Option<String>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub backchannel_logout_uri: Option<String>,
    /// A JWK Set: the keys of `private_key_jwt` client assertions.
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<Value>,
    pub jwks_uri: Option<String>,
    /// RFC 9126 §6: the client will only push its authorization requests.
    pub require_pushed_authorization_requests: Option<bool>,
    /// RFC 9449 §5.2: the client will always bind its tokens with DPoP.
    pub dpop_bound_access_tokens: Option<bool>,
    /// Present in an RFC 7592 update, where it must name the client.
    pub client_id: Option<String>,
}

/// Why metadata is refused (RFC 7591 §3.2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    InvalidRedirectUri(String),
    InvalidClientMetadata(String),
}

fn refuse(message: impl Into<String>) -> Refusal {
    Refusal::InvalidClientMetadata(message.into())
}

/// What the registry has no column for, stored as JSON and answered back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extras {
    pub token_endpoint_auth_method: String,
    pub grant_types: Vec<String>,
    pub response_types: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub contacts: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tos_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_id: Option<String>,
}

/// Checked metadata: the service it describes and the rest.
pub struct Checked {
    pub input: ServiceInput,
    pub extras: Extras,
    /// The authentication method the client named itself, enforced; a
    /// client that named none gets the default (`client_secret_basic`) and
    /// may also send its secret in the form, as idhub allowed before.
    pub enforced_method: Option<String>,
}

fn optional_url(field: &str, value: Option<String>) -> Result<Option<String>, Refusal> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(url) => validate::web_url(field, url)
            .map(Some)
            .map_err(|e| refuse(e.to_string())),
    }
}

/// A URL idhub itself will call (keys, back-channel logout): https, and
/// not a special-purpose address or a name of this host, so a registrant
/// cannot point idhub at what only it can reach. Names are checked again
/// after resolution, on every call (`outbound`).
fn outbound_url(field: &str, value: Option<String>) -> Result<Option<String>, Refusal> {
    let Some(checked) = optional_url(field, value)? else {
        return Ok(None);
    };
    let url = url::Url::parse(&checked).map_err(|_| refuse(format!("{field} is not a URL")))?;
    let internal = url.host().is_none_or(|host| outbound::refused_host(&host));
    if url.scheme() != "https" || internal {
        return Err(refuse(format!(
            "{field} must be an https URL of a public host"
        )));
    }
    Ok(Some(checked))
}

fn optional_text(field: &str, value: Option<String>) -> Result<Option<String>, Refusal> {
    validate::optional_text(field, value.as_deref(), MAX_SHORT_TEXT)
        .map_err(|e| refuse(e.to_string()))
}

/// `response_types` a client may use with its `grant_types` (RFC 7591 §2.1).
fn response_types_fit(response_types: &[String], grant_types: &[String]) -> Result<(), Refusal> {
    let has = |grant: &str| grant_types.iter().any(|g| g == grant);
    for response_type in response_types {
        let words: Vec<&str> = response_type.split_whitespace().collect();
        if words.is_empty()
            || words
                .iter()
                .any(|w| !matches!(*w, "code" | "token" | "id_token"))
        {
            return Err(refuse(format!(
                "unsupported response type '{response_type}'"
            )));
        }
        if words.contains(&"code") && !has("authorization_code") {
            return Err(refuse(format!(
                "response type '{response_type}' needs the authorization_code grant type"
            )));
        }
        if (words.contains(&"token") || words.contains(&"id_token")) && !has("implicit") {
            return Err(refuse(format!(
                "response type '{response_type}' needs the implicit grant type"
            )));
        }
    }
    Ok(())
}

impl ClientMetadata {
    pub fn check(self) -> Result<Checked, Refusal> {
        let enforced_method = self.token_endpoint_auth_method.clone();
        let method = self
            .token_endpoint_auth_method
            .unwrap_or_else(|| "client_secret_basic".into());
        if !AUTH_METHODS.contains(&method.as_str()) {
            return Err(refuse(format!(
                "token_endpoint_auth_method '{method}' is not supported (use one of {})",
                AUTH_METHODS.join(", ")
            )));
        }
        let public = method == "none";
        if method == "private_key_jwt" && self.jwks.is_none() && self.jwks_uri.is_none() {
            return Err(refuse("private_key_jwt needs jwks or jwks_uri"));
        }
        if self.jwks.is_some() && self.jwks_uri.is_some() {
            return Err(refuse("give jwks or jwks_uri, not both"));
        }
        let grant_types = self
            .grant_types
            .unwrap_or_else(|| vec!["authorization_code".into()]);
        let response_types = self.response_types.unwrap_or_else(|| {
            match grant_types.iter().any(|g| g == "authorization_code") {
                true => vec!["code".into()],
                false => vec![],
            }
        });
        if grant_types.len() > MAX_LIST || response_types.len() > MAX_LIST {
            return Err(refuse("too many grant or response types"));
        }
        if let Some(unknown) = grant_types
            .iter()
            .find(|g| !GRANT_TYPES.contains(&g.as_str()))
        {
            return Err(refuse(format!("unsupported grant type '{unknown}'")));
        }
        response_types_fit(&response_types, &grant_types)?;
        let has = |grant: &str| grant_types.iter().any(|g| g == grant);
        if public && (has("client_credentials") || has("password")) {
            return Err(refuse(
                "a public client (token_endpoint_auth_method none) cannot use the client_credentials or password grant",
            ));
        }
        let redirect_uris = self.redirect_uris.unwrap_or_default();
        if redirect_uris.is_empty() && (has("authorization_code") || has("implicit")) {
            return Err(Refusal::InvalidRedirectUri(
                "redirect_uris is required for the authorization_code and implicit grants".into(),
            ));
        }
        let contacts = self.contacts.unwrap_or_default();
        if contacts.len() > MAX_LIST {
            return Err(refuse("too many contacts"));
        }
        let contacts = contacts
            .into_iter()
            .map(|c| validate::required_text("contacts", Some(&c), MAX_SHORT_TEXT))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| refuse(e.to_string()))?;
        let scope = match self.scope.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(scope) => Some(
                crate::scope::parse("scope", scope)
                    .map(|ids| crate::scope::join(&ids))
                    .map_err(|e| refuse(e.to_string()))?,
            ),
        };
        let input = ServiceInput {
            name: Some(
                optional_text("client_name", self.client_name)?
                    .unwrap_or_else(|| "Unnamed client".into()),
            ),
            home_url: Some(optional_url("client_uri", self.client_uri)?),
            icon_url: Some(optional_url("logo_uri", self.logo_uri)?),
            version: Some(optional_text("software_version", self.software_version)?),
            redirect_uris: Some(redirect_uris),
            post_logout_redirect_uris: Some(self.post_logout_redirect_uris.unwrap_or_default()),
            backchannel_logout_uri: Some(outbound_url(
                "backchannel_logout_uri",
                self.backchannel_logout_uri,
            )?),
            jwks: Some(self.jwks),
            jwks_uri: Some(outbound_url("jwks_uri", self.jwks_uri)?),
            public_client: Some(public),
            pkce_required: Some(public),
            consent_required: Some(true),
            implicit_flow_enabled: Some(has("implicit")),
            password_flow_enabled: Some(has("password")),
            client_credentials_flow_enabled: Some(has("client_credentials")),
            par_required: Some(self.require_pushed_authorization_requests == Some(true)),
            device_flow_enabled: Some(has(grant_types::DEVICE_CODE)),
            dpop_required: Some(self.dpop_bound_access_tokens == Some(true)),
            ..ServiceInput::default()
        };
        let extras = Extras {
            token_endpoint_auth_method: method,
            grant_types,
            response_types,
            scope,
            contacts,
            tos_uri: optional_url("tos_uri", self.tos_uri)?,
            policy_uri: optional_url("policy_uri", self.policy_uri)?,
            software_id: optional_text("software_id", self.software_id)?,
        };
        Ok(Checked {
            input,
            extras,
            enforced_method,
        })
    }
}

/// A registered client (RFC 7591 §3.2.1, RFC 7592 §3): its metadata, and
/// what it manages its registration with. The stored extras are listed here,
/// not flattened: a flattened schema cannot be closed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisteredClient {
    pub client_id: String,
    pub client_id_issued_at: i64,
    pub client_name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<Value>,
    pub require_pushed_authorization_requests: bool,
    pub dpop_bound_access_tokens: bool,
    pub token_endpoint_auth_method: String,
    pub grant_types: Vec<String>,
    pub response_types: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tos_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_id: Option<String>,
    /// Only for clients that authenticate with a secret; shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// `0`: the secret does not expire.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_expires_at: Option<i64>,
    /// The bearer token of `registration_client_uri`; shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_access_token: Option<String>,
    pub registration_client_uri: String,
}

/// Whether the service's switches let it use `grant` (a grant type name).
fn grant_allowed(service: &Service, grant: &str) -> bool {
    match grant {
        "implicit" => service.implicit_flow_enabled,
        "password" => service.password_flow_enabled,
        "client_credentials" => service.client_credentials_flow_enabled,
        grant_types::DEVICE_CODE => service.device_flow_enabled,
        grant_types::TOKEN_EXCHANGE => service.token_exchange_enabled,
        _ => true,
    }
}

/// The metadata of a registered client, as RFC 7591 answers it;
/// `registration_client_uri` is where it manages its registration.
pub fn describe(
    service: &Service,
    redirect_uris: &[String],
    extras: Extras,
    registration_client_uri: String,
) -> RegisteredClient {
    let Extras {
        token_endpoint_auth_method,
        mut grant_types,
        mut response_types,
        scope,
        contacts,
        tos_uri,
        policy_uri,
        software_id,
    } = extras;
    // What the client asked for, less what an administrator turned off
    // since: the answer says what the client may do now.
    grant_types.retain(|grant| grant_allowed(service, grant));
    response_types
        .retain(|kind| service.implicit_flow_enabled || kind.split(' ').all(|part| part == "code"));
    RegisteredClient {
        client_id: service.id.clone(),
        client_id_issued_at: service.created.and_utc().timestamp(),
        client_name: service.name.clone(),
        redirect_uris: redirect_uris.to_vec(),
        post_logout_redirect_uris: serde_json::from_str(&service.post_logout_redirect_uris)
            .unwrap_or_default(),
        client_uri: service.home_url.clone(),
        logo_uri: service.icon_url.clone(),
        software_version: service.version.clone(),
        backchannel_logout_uri: service.backchannel_logout_uri.clone(),
        jwks_uri: service.jwks_uri.clone(),
        jwks: service
            .jwks
            .as_deref()
            .and_then(|j| serde_json::from_str::<Value>(j).ok()),
        require_pushed_authorization_requests: service.par_required,
        dpop_bound_access_tokens: service.dpop_required,
        token_endpoint_auth_method,
        grant_types,
        response_types,
        scope,
        contacts,
        tos_uri,
        policy_uri,
        software_id,
        client_secret: None,
        client_secret_expires_at: None,
        registration_access_token: None,
        registration_client_uri,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(json: Value) -> ClientMetadata {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn defaults_are_a_confidential_code_client() {
        let checked = metadata(serde_json::json!({"redirect_uris": ["https://a.example/cb"]}))
            .check()
            .unwrap_or_else(|_| panic!("valid"));
        assert_eq!(
            checked.extras.token_endpoint_auth_method,
            "client_secret_basic"
        );
        assert_eq!(checked.extras.grant_types, vec!["authorization_code"]);
        assert_eq!(checked.extras.response_types, vec!["code"]);
        assert_eq!(checked.input.public_client, Some(false));
        assert_eq!(checked.input.implicit_flow_enabled, Some(false));
        assert_eq!(checked.input.trusted, None, "registration never trusts");
    }

    #[test]
    fn inconsistent_or_unknown_metadata_is_refused() {
        let refused = |json: Value| metadata(json).check().err();
        let cb = serde_json::json!(["https://a.example/cb"]);
        assert!(matches!(
            refused(
                serde_json::json!({"redirect_uris": cb, "token_endpoint_auth_method": "tls_client_auth"})
            ),
            Some(Refusal::InvalidClientMetadata(_))
        ));
        assert!(matches!(
            refused(serde_json::json!({"redirect_uris": cb, "grant_types": ["urn:x"]})),
            Some(Refusal::InvalidClientMetadata(_))
        ));
        assert!(matches!(
            refused(serde_json::json!({"redirect_uris": cb, "response_types": ["token"]})),
            Some(Refusal::InvalidClientMetadata(_))
        ));
        assert!(matches!(
            refused(
                serde_json::json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "none"})
            ),
            Some(Refusal::InvalidClientMetadata(_))
        ));
        assert!(matches!(
            refused(serde_json::json!({})),
            Some(Refusal::InvalidRedirectUri(_))
        ));
        assert!(
            metadata(serde_json::json!({"grant_types": ["client_credentials"]}))
                .check()
                .is_ok()
        );
        assert!(refused(serde_json::json!({"grant_types": ["password"]})).is_some());
        for internal in [
            "http://rp.example/jwks",
            "https://127.0.0.1/jwks",
            "https://10.1.2.3/jwks",
            "https://169.254.169.254/latest",
            "https://[::1]/jwks",
            "https://localhost/jwks",
            "https://localhost./jwks",
            "https://[::ffff:127.0.0.1]:8443/jwks",
            "https://[::ffff:a9fe:a9fe]/latest",
            "https://100.64.0.1/jwks",
            "https://198.18.0.1/jwks",
            "https://224.0.0.1/jwks",
            "https://255.255.255.255/jwks",
        ] {
            let json =
                serde_json::json!({"grant_types": ["client_credentials"], "jwks_uri": internal});
            assert!(refused(json).is_some(), "{internal}");
        }
        let public = serde_json::json!({"grant_types": ["client_credentials"], "jwks_uri": "https://rp.example/jwks"});
        assert!(metadata(public).check().is_ok());
    }
}
