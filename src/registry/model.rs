use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::services;

/// The id of the built-in Hub service: the resource server of idhub's own REST API.
pub const HUB_SERVICE_ID: &str = "0-0-0-0-0";

/// A service as stored, inserted and (with its redirect URIs, `ServiceView`)
/// shown in the REST API under Hub's field names. The secret hash never is.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = services)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    pub id: String,
    pub key: Option<String>,
    pub name: String,
    pub home_url: Option<String>,
    /// JSON array of strings.
    #[serde(serialize_with = "json_list")]
    #[schema(value_type = Vec<String>)]
    pub base_urls: String,
    pub application_name: Option<String>,
    pub description: Option<String>,
    pub vendor: Option<String>,
    pub version: Option<String>,
    pub icon_url: Option<String>,
    #[serde(skip)]
    pub secret_hash: String,
    pub trusted: bool,
    pub consent_required: bool,
    pub pkce_required: bool,
    pub public_client: bool,
    pub impersonation: bool,
    pub implicit_flow_enabled: bool,
    pub password_flow_enabled: bool,
    pub client_credentials_flow_enabled: bool,
    #[serde(serialize_with = "crate::clock::serialize_millis")]
    #[schema(value_type = i64)]
    pub created: NaiveDateTime,
    #[serde(serialize_with = "crate::clock::serialize_millis")]
    #[schema(value_type = i64)]
    pub secret_rotated: NaiveDateTime,
    /// JSON array of strings: where RP-initiated logout may send users back.
    #[serde(serialize_with = "json_list")]
    #[schema(value_type = Vec<String>)]
    pub post_logout_redirect_uris: String,
    /// Where back-channel logout tokens are posted.
    pub backchannel_logout_uri: Option<String>,
    /// The public keys of `private_key_jwt` client authentication: a JWK
    /// set (JSON), or where to fetch one.
    #[serde(serialize_with = "json_object")]
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<String>,
    pub jwks_uri: Option<String>,
    /// Authorization requests must be pushed first (RFC 9126).
    pub par_required: bool,
    /// May use the device authorization grant (RFC 8628).
    pub device_flow_enabled: bool,
    /// Must bind its tokens to a DPoP key (RFC 9449).
    pub dpop_required: bool,
    /// May exchange tokens it received for tokens to other services
    /// (RFC 8693). Only an admin can turn it on.
    pub token_exchange_enabled: bool,
    /// An administrator made it, or vouched for it; a client registered by
    /// anybody else (open RFC 7591 registration) is not, until verified.
    pub verified: bool,
    /// The client authentication method a client registered (RFC 7591),
    /// the only one it may use; None for a service an administrator made.
    pub token_endpoint_auth_method: Option<String>,
}

fn json_object<S: serde::Serializer>(
    text: &Option<String>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let value: Option<serde_json::Value> =
        text.as_deref().and_then(|t| serde_json::from_str(t).ok());
    value.serialize(serializer)
}

fn json_list<S: serde::Serializer>(text: &str, serializer: S) -> Result<S::Ok, S::Error> {
    let list: Vec<String> = serde_json::from_str(text).unwrap_or_default();
    list.serialize(serializer)
}

/// An administrator stands behind a service it trusted or verified (for
/// callers that read the two columns, not the whole service).
pub fn vouched(trusted: bool, verified: bool) -> bool {
    trusted || verified
}

impl Service {
    /// An administrator stands behind it: it verified or trusted it. What an
    /// unverified client registered is its own word (see `verified`).
    pub fn vouched_for(&self) -> bool {
        vouched(self.trusted, self.verified)
    }

    /// A service with Hub's defaults; the caller fills in what the request says.
    pub fn new(name: String, secret_hash: String, now: NaiveDateTime) -> Self {
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            key: None,
            name,
            home_url: None,
            base_urls: "[]".into(),
            application_name: None,
            description: None,
            vendor: None,
            version: None,
            icon_url: None,
            secret_hash,
            trusted: false,
            consent_required: true,
            pkce_required: false,
            public_client: false,
            impersonation: false,
            implicit_flow_enabled: true,
            password_flow_enabled: true,
            client_credentials_flow_enabled: true,
            created: now,
            secret_rotated: now,
            post_logout_redirect_uris: "[]".into(),
            backchannel_logout_uri: None,
            jwks: None,
            jwks_uri: None,
            par_required: false,
            device_flow_enabled: false,
            dpop_required: false,
            token_exchange_enabled: false,
            verified: true,
            token_endpoint_auth_method: None,
        }
    }
}

/// What an update sets: `Some` fields only (`Some(None)` clears). The REST
/// names of its fields, for the audit trail, are `field_names` (in
/// `switches.rs`, with the switches').
#[derive(Debug, Default, PartialEq, Eq, AsChangeset)]
#[diesel(table_name = services)]
pub struct ServiceChanges {
    pub key: Option<Option<String>>,
    pub name: Option<String>,
    pub home_url: Option<Option<String>>,
    pub base_urls: Option<String>,
    pub application_name: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub vendor: Option<Option<String>>,
    pub version: Option<Option<String>>,
    pub icon_url: Option<Option<String>>,
    pub trusted: Option<bool>,
    pub consent_required: Option<bool>,
    pub pkce_required: Option<bool>,
    pub public_client: Option<bool>,
    pub impersonation: Option<bool>,
    pub implicit_flow_enabled: Option<bool>,
    pub password_flow_enabled: Option<bool>,
    pub client_credentials_flow_enabled: Option<bool>,
    pub post_logout_redirect_uris: Option<String>,
    pub backchannel_logout_uri: Option<Option<String>>,
    pub jwks: Option<Option<String>>,
    pub jwks_uri: Option<Option<String>>,
    pub par_required: Option<bool>,
    pub device_flow_enabled: Option<bool>,
    pub dpop_required: Option<bool>,
    pub token_exchange_enabled: Option<bool>,
    pub verified: Option<bool>,
    pub token_endpoint_auth_method: Option<Option<String>>,
}

/// The REST view: the service and its redirect URIs.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceView {
    #[serde(flatten)]
    #[schema(inline)]
    pub service: Service,
    pub redirect_uris: Vec<String>,
}

impl ServiceView {
    pub fn new(service: Service, redirect_uris: Vec<String>) -> Self {
        Self {
            service,
            redirect_uris,
        }
    }
}
