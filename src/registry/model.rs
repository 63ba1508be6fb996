use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::services;

/// The id of the built-in Hub service: the resource server of idhub's own REST API.
pub const HUB_SERVICE_ID: &str = "0-0-0-0-0";

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = services)]
pub struct Service {
    pub id: String,
    pub key: Option<String>,
    pub name: String,
    pub home_url: Option<String>,
    /// JSON array of strings.
    pub base_urls: String,
    pub application_name: Option<String>,
    pub description: Option<String>,
    pub vendor: Option<String>,
    pub version: Option<String>,
    pub icon_url: Option<String>,
    pub secret_hash: String,
    pub trusted: bool,
    pub consent_required: bool,
    pub pkce_required: bool,
    pub public_client: bool,
    pub impersonation: bool,
    pub implicit_flow_enabled: bool,
    pub password_flow_enabled: bool,
    pub client_credentials_flow_enabled: bool,
    pub created: NaiveDateTime,
    pub secret_rotated: NaiveDateTime,
}

impl Service {
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
        }
    }

    pub fn base_url_list(&self) -> Vec<String> {
        serde_json::from_str(&self.base_urls).unwrap_or_default()
    }
}

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
}

/// The REST view, in Hub's field names. The secret is never part of it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceView {
    pub id: String,
    pub key: Option<String>,
    pub name: String,
    pub home_url: Option<String>,
    pub base_urls: Vec<String>,
    pub redirect_uris: Vec<String>,
    pub application_name: Option<String>,
    pub description: Option<String>,
    pub vendor: Option<String>,
    pub version: Option<String>,
    pub icon_url: Option<String>,
    pub trusted: bool,
    pub consent_required: bool,
    pub pkce_required: bool,
    pub public_client: bool,
    pub impersonation: bool,
    pub implicit_flow_enabled: bool,
    pub password_flow_enabled: bool,
    pub client_credentials_flow_enabled: bool,
    pub created: i64,
    pub secret_rotated: i64,
}

impl ServiceView {
    pub fn new(service: Service, redirect_uris: Vec<String>) -> Self {
        Self {
            base_urls: service.base_url_list(),
            id: service.id,
            key: service.key,
            name: service.name,
            home_url: service.home_url,
            redirect_uris,
            application_name: service.application_name,
            description: service.description,
            vendor: service.vendor,
            version: service.version,
            icon_url: service.icon_url,
            trusted: service.trusted,
            consent_required: service.consent_required,
            pkce_required: service.pkce_required,
            public_client: service.public_client,
            impersonation: service.impersonation,
            implicit_flow_enabled: service.implicit_flow_enabled,
            password_flow_enabled: service.password_flow_enabled,
            client_credentials_flow_enabled: service.client_credentials_flow_enabled,
            created: service.created.and_utc().timestamp_millis(),
            secret_rotated: service.secret_rotated.and_utc().timestamp_millis(),
        }
    }
}
