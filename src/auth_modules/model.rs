//! Auth modules as stored and as the REST API shows them (Hub's
//! `authmodules`). The fields of each kind are one JSON document
//! (`Settings`); the secret (an OAuth client secret or an LDAP bind
//! password) is stored apart, sealed, and never shown: the view says
//! whether one is set.
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::schema::auth_modules;
use crate::groups::model::Ref;

/// What a module signs in through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ModuleKind {
    /// Any OpenID provider, found by its issuer (discovery).
    Oidc,
    /// A plain OAuth 2.0 provider (GitHub-style): three URLs and the
    /// fields of its user-info answer.
    Oauth2,
    /// An LDAP directory: search, then bind as the user.
    Ldap,
}

impl ModuleKind {
    pub fn name(self) -> &'static str {
        match self {
            ModuleKind::Oidc => "oidc",
            ModuleKind::Oauth2 => "oauth2",
            ModuleKind::Ldap => "ldap",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "oidc" => Some(ModuleKind::Oidc),
            "oauth2" => Some(ModuleKind::Oauth2),
            "ldap" => Some(ModuleKind::Ldap),
            _ => None,
        }
    }
}

/// The fields of a module's kind, as stored (JSON) and shown. A kind uses
/// its own and leaves the others empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    /// oidc: the provider's issuer; its discovery document says the rest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// oidc, oauth2: the client id idhub has at the provider.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// oidc, oauth2: the scopes asked for, space-separated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<String>,
    /// oauth2: the provider's authorization endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_url: Option<String>,
    /// oauth2: its token endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_url: Option<String>,
    /// oauth2: where the access token reads the user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_info_url: Option<String>,
    /// oauth2: the user-info fields of the stable id, the login, the email
    /// and the name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_field: Option<String>,
    /// ldap: `ldap://` (StartTLS) or `ldaps://`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// ldap: who searches (empty with an empty password: anonymous).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind_dn: Option<String>,
    /// ldap: where users are searched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_dn: Option<String>,
    /// ldap: the search for one user, `{login}` standing for what was typed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_filter: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_attribute: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_attribute: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_attribute: Option<String>,
    /// ldap: where groups are searched, with `{dn}` (the user's entry) or
    /// `{login}` in the filter, and the attribute that names a group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_base_dn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_filter: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_name_attribute: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = auth_modules)]
pub struct AuthModule {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub enabled: bool,
    pub ordinal: i32,
    pub auto_create_users: bool,
    pub link_by_email: bool,
    pub settings: String,
    pub secret: Option<String>,
    pub created: NaiveDateTime,
    pub updated: NaiveDateTime,
}

/// A provider's or directory's group whose members join an idhub group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GroupMapping {
    /// The provider's group name (an ID-token `groups` entry), or an LDAP
    /// group's DN or name.
    pub external: String,
    pub group: Ref,
}

/// The REST view of a module, in Hub's shape; secrets are never shown.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthModuleView {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ModuleKind,
    pub enabled: bool,
    /// Modules are tried and listed in this order (then by name).
    pub order: i32,
    /// A first sign-in creates the user.
    pub auto_create_users: bool,
    /// A first sign-in links to the user with the same email, when the
    /// provider says it is verified.
    pub link_by_email: bool,
    pub group_mappings: Vec<GroupMapping>,
    #[serde(flatten)]
    pub settings: Settings,
    /// A client secret or bind password is set (it is never shown).
    pub secret_set: bool,
    /// Milliseconds since the epoch.
    pub created: i64,
    pub updated: i64,
}
