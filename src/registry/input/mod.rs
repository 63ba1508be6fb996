//! The JSON body of service create and update, checked field by field
//! (`check`). Its switches are in `SWITCHES`.
mod check;

use serde::Deserialize;

use super::application_type::ApplicationType;
use super::model::ServiceChanges;

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
    /// The one client authentication method the client may use (RFC 7591
    /// names); `null` for any.
    #[serde(default, deserialize_with = "crate::validate::nullable")]
    pub token_endpoint_auth_method: Option<Option<String>>,
    pub par_required: Option<bool>,
    pub device_flow_enabled: Option<bool>,
    pub dpop_required: Option<bool>,
    pub token_exchange_enabled: Option<bool>,
    pub verified: Option<bool>,
    /// At creation only: the kind of application, which sets the switches
    /// the request leaves unset as RFC 9700 advises
    /// (`registry::application_type`); without it, Hub's defaults.
    pub application_type: Option<ApplicationType>,
}

/// A checked request: column changes plus the new redirect URI list, if given.
#[derive(Debug, Default)]
pub struct CheckedInput {
    pub changes: ServiceChanges,
    pub redirect_uris: Option<Vec<String>>,
}
