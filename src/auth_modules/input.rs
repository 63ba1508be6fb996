//! What a client sends to create or change an auth module, and its checks:
//! the fields a module's kind needs, URLs that are URLs, LDAP filters that
//! name what they stand for. Absent fields stay as they were; `null`
//! clears an optional one.
use serde::Deserialize;

use super::model::{GroupMapping, ModuleKind, Settings};
use crate::error::AppError;

const NAME_MAX_CHARS: usize = 100;
const FIELD_MAX_CHARS: usize = 2000;

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthModuleInput {
    pub name: Option<String>,
    /// `oidc`, `oauth2` or `ldap`; set at creation, never changed.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub enabled: Option<bool>,
    pub order: Option<i32>,
    pub auto_create_users: Option<bool>,
    pub link_by_email: Option<bool>,
    /// Replaces every mapping of the module.
    pub group_mappings: Option<Vec<GroupMapping>>,
    /// oidc, oauth2: write-only; an empty string removes it.
    pub client_secret: Option<String>,
    /// ldap: write-only; an empty string removes it.
    pub bind_password: Option<String>,
    #[serde(flatten)]
    pub settings: Settings,
    /// What no field above took: refused by name (serde's
    /// `deny_unknown_fields` does not work beside `flatten`).
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: std::collections::BTreeMap<String, serde_json::Value>,
}

/// A checked change: the fields to set, the secret to set or remove.
#[derive(Debug, Default)]
pub struct ModuleChanges {
    pub name: Option<String>,
    pub kind: Option<ModuleKind>,
    pub enabled: Option<bool>,
    pub order: Option<i32>,
    pub auto_create_users: Option<bool>,
    pub link_by_email: Option<bool>,
    pub group_mappings: Option<Vec<GroupMapping>>,
    /// Some(None): remove the secret.
    pub secret: Option<Option<String>>,
    /// The fields sent, to merge into the stored ones.
    pub settings: Settings,
}

fn text(field: &str, value: &str, max: usize) -> Result<(), AppError> {
    if value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(AppError::bad_field(
            field,
            format!("{field} is one line of at most {max} characters"),
        ));
    }
    Ok(())
}

impl AuthModuleInput {
    /// The change, its fields checked one by one; `check_settings` checks
    /// the whole of a kind once merged with what is stored.
    pub fn check(self, creating: bool) -> Result<ModuleChanges, AppError> {
        if let Some(field) = self.unknown.keys().next() {
            return Err(AppError::bad_field(
                field,
                format!("unknown field `{field}` of an auth module"),
            ));
        }
        let kind = match self.kind.as_deref().map(ModuleKind::parse) {
            Some(Some(kind)) => Some(kind),
            Some(None) => return Err(AppError::bad_field("type", "type is oidc, oauth2 or ldap")),
            None if creating => {
                return Err(AppError::bad_field("type", "type is oidc, oauth2 or ldap"))
            }
            None => None,
        };
        if !creating && kind.is_some() {
            return Err(AppError::bad_field(
                "type",
                "a module's type cannot change: create another module",
            ));
        }
        let name = match self.name {
            Some(name) => {
                let name = name.trim().to_owned();
                if name.is_empty() {
                    return Err(AppError::bad_field("name", "name the module"));
                }
                text("name", &name, NAME_MAX_CHARS)?;
                Some(name)
            }
            None if creating => return Err(AppError::bad_field("name", "name the module")),
            None => None,
        };
        if let Some(mappings) = &self.group_mappings {
            for mapping in mappings {
                if mapping.external.trim().is_empty() {
                    return Err(AppError::bad_field(
                        "groupMappings",
                        "each mapping names the provider's group (external)",
                    ));
                }
                text("groupMappings", &mapping.external, FIELD_MAX_CHARS)?;
            }
        }
        let secret = match (self.client_secret, self.bind_password) {
            (Some(_), Some(_)) => {
                return Err(AppError::bad_request(
                    "send clientSecret (oidc, oauth2) or bindPassword (ldap), not both",
                ))
            }
            (Some(secret), None) | (None, Some(secret)) => {
                text("secret", &secret, FIELD_MAX_CHARS)?;
                Some((!secret.is_empty()).then_some(secret))
            }
            (None, None) => None,
        };
        for (field, value) in settings_fields(&self.settings) {
            if let Some(value) = value {
                text(field, value, FIELD_MAX_CHARS)?;
            }
        }
        Ok(ModuleChanges {
            name,
            kind,
            enabled: self.enabled,
            order: self.order,
            auto_create_users: self.auto_create_users,
            link_by_email: self.link_by_email,
            group_mappings: self.group_mappings,
            secret,
            settings: self.settings,
        })
    }
}

fn settings_fields(settings: &Settings) -> [(&'static str, Option<&String>); 20] {
    [
        ("issuer", settings.issuer.as_ref()),
        ("clientId", settings.client_id.as_ref()),
        ("scopes", settings.scopes.as_ref()),
        ("authorizationUrl", settings.authorization_url.as_ref()),
        ("tokenUrl", settings.token_url.as_ref()),
        ("userInfoUrl", settings.user_info_url.as_ref()),
        ("idField", settings.id_field.as_ref()),
        ("loginField", settings.login_field.as_ref()),
        ("emailField", settings.email_field.as_ref()),
        ("nameField", settings.name_field.as_ref()),
        ("url", settings.url.as_ref()),
        ("bindDn", settings.bind_dn.as_ref()),
        ("baseDn", settings.base_dn.as_ref()),
        ("userFilter", settings.user_filter.as_ref()),
        ("loginAttribute", settings.login_attribute.as_ref()),
        ("emailAttribute", settings.email_attribute.as_ref()),
        ("nameAttribute", settings.name_attribute.as_ref()),
        ("groupBaseDn", settings.group_base_dn.as_ref()),
        ("groupFilter", settings.group_filter.as_ref()),
        ("groupNameAttribute", settings.group_name_attribute.as_ref()),
    ]
}

/// `sent` laid over `stored`: a field sent replaces the stored one.
pub fn merged(stored: Settings, sent: Settings) -> Settings {
    macro_rules! over {
        ($($field:ident),*) => {
            Settings { $($field: sent.$field.or(stored.$field),)* }
        };
    }
    over!(
        issuer,
        client_id,
        scopes,
        authorization_url,
        token_url,
        user_info_url,
        id_field,
        login_field,
        email_field,
        name_field,
        url,
        bind_dn,
        base_dn,
        user_filter,
        login_attribute,
        email_attribute,
        name_attribute,
        group_base_dn,
        group_filter,
        group_name_attribute
    )
}

fn required<'a>(
    field: &str,
    value: &'a Option<String>,
    kind: ModuleKind,
) -> Result<&'a str, AppError> {
    value
        .as_deref()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| {
            AppError::bad_field(field, format!("an {} module needs {field}", kind.name()))
        })
}

fn web_url(field: &str, value: &str) -> Result<(), AppError> {
    match url::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => Ok(()),
        _ => Err(AppError::bad_field(
            field,
            format!("{field} must be an absolute http or https URL"),
        )),
    }
}

/// The whole of a kind's fields, with defaults filled in for what was
/// left out: what is stored.
pub fn check_settings(kind: ModuleKind, settings: Settings) -> Result<Settings, AppError> {
    let or = |value: Option<String>, default: &str| value.or_else(|| Some(default.to_owned()));
    match kind {
        ModuleKind::Oidc => {
            web_url("issuer", required("issuer", &settings.issuer, kind)?)?;
            required("clientId", &settings.client_id, kind)?;
            Ok(Settings {
                scopes: or(settings.scopes.clone(), "openid email profile"),
                ..only_oidc(settings)
            })
        }
        ModuleKind::Oauth2 => {
            for (field, value) in [
                ("authorizationUrl", &settings.authorization_url),
                ("tokenUrl", &settings.token_url),
                ("userInfoUrl", &settings.user_info_url),
            ] {
                web_url(field, required(field, value, kind)?)?;
            }
            required("clientId", &settings.client_id, kind)?;
            Ok(Settings {
                id_field: or(settings.id_field.clone(), "id"),
                login_field: or(settings.login_field.clone(), "login"),
                email_field: or(settings.email_field.clone(), "email"),
                name_field: or(settings.name_field.clone(), "name"),
                ..only_oauth2(settings)
            })
        }
        ModuleKind::Ldap => {
            let url = required("url", &settings.url, kind)?;
            if !(url.starts_with("ldap://") || url.starts_with("ldaps://"))
                || url::Url::parse(url).map_or(true, |u| !u.has_host())
            {
                return Err(AppError::bad_field(
                    "url",
                    "url is ldap://HOST (StartTLS) or ldaps://HOST",
                ));
            }
            required("baseDn", &settings.base_dn, kind)?;
            if !required("userFilter", &settings.user_filter, kind)?.contains("{login}") {
                return Err(AppError::bad_field(
                    "userFilter",
                    "userFilter names {login}, e.g. (uid={login})",
                ));
            }
            if let Some(filter) = &settings.group_filter {
                if !filter.contains("{dn}") && !filter.contains("{login}") {
                    return Err(AppError::bad_field(
                        "groupFilter",
                        "groupFilter names {dn} or {login}, e.g. (member={dn})",
                    ));
                }
            }
            Ok(Settings {
                login_attribute: or(settings.login_attribute.clone(), "uid"),
                email_attribute: or(settings.email_attribute.clone(), "mail"),
                name_attribute: or(settings.name_attribute.clone(), "cn"),
                group_name_attribute: or(settings.group_name_attribute.clone(), "cn"),
                ..only_ldap(settings)
            })
        }
    }
}

fn only_oidc(settings: Settings) -> Settings {
    Settings {
        issuer: settings.issuer,
        client_id: settings.client_id,
        scopes: settings.scopes,
        ..Settings::default()
    }
}

fn only_oauth2(settings: Settings) -> Settings {
    Settings {
        client_id: settings.client_id,
        scopes: settings.scopes,
        authorization_url: settings.authorization_url,
        token_url: settings.token_url,
        user_info_url: settings.user_info_url,
        id_field: settings.id_field,
        login_field: settings.login_field,
        email_field: settings.email_field,
        name_field: settings.name_field,
        ..Settings::default()
    }
}

fn only_ldap(settings: Settings) -> Settings {
    Settings {
        url: settings.url,
        bind_dn: settings.bind_dn,
        base_dn: settings.base_dn,
        user_filter: settings.user_filter,
        login_attribute: settings.login_attribute,
        email_attribute: settings.email_attribute,
        name_attribute: settings.name_attribute,
        group_base_dn: settings.group_base_dn,
        group_filter: settings.group_filter,
        group_name_attribute: settings.group_name_attribute,
        ..Settings::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oidc(issuer: &str) -> Settings {
        Settings {
            issuer: Some(issuer.into()),
            client_id: Some("idhub".into()),
            ..Settings::default()
        }
    }

    #[test]
    fn each_kind_needs_its_fields_and_gets_defaults() {
        let checked = check_settings(ModuleKind::Oidc, oidc("https://op.example")).unwrap();
        assert_eq!(checked.scopes.as_deref(), Some("openid email profile"));
        assert!(check_settings(ModuleKind::Oidc, oidc("not a url")).is_err());
        assert!(check_settings(ModuleKind::Oidc, oidc("ftp://op.example")).is_err());
        let ldap = Settings {
            url: Some("ldaps://ldap.example".into()),
            base_dn: Some("dc=example,dc=org".into()),
            user_filter: Some("(uid={login})".into()),
            // Fields of another kind are dropped.
            issuer: Some("https://op.example".into()),
            ..Settings::default()
        };
        let checked = check_settings(ModuleKind::Ldap, ldap.clone()).unwrap();
        assert_eq!(checked.login_attribute.as_deref(), Some("uid"));
        assert_eq!(checked.issuer, None);
        let no_login = Settings {
            user_filter: Some("(uid=ada)".into()),
            ..ldap.clone()
        };
        assert!(check_settings(ModuleKind::Ldap, no_login).is_err());
        let http = Settings {
            url: Some("http://ldap.example".into()),
            ..ldap
        };
        assert!(check_settings(ModuleKind::Ldap, http).is_err());
        assert!(check_settings(ModuleKind::Oauth2, Settings::default()).is_err());
    }

    #[test]
    fn unknown_fields_are_refused_beside_the_flattened_settings() {
        let input: AuthModuleInput = serde_json::from_str(
            r#"{"name": "Corp", "type": "oidc", "issuer": "https://op.example", "clientId": "x", "colour": "red"}"#,
        )
        .unwrap();
        assert_eq!(input.settings.issuer.as_deref(), Some("https://op.example"));
        assert_eq!(input.unknown.keys().collect::<Vec<_>>(), vec!["colour"]);
        assert!(input.check(true).is_err());
        let input: AuthModuleInput = serde_json::from_str(
            r#"{"name": "Corp", "type": "oidc", "issuer": "https://op.example", "clientId": "x"}"#,
        )
        .unwrap();
        assert!(input.unknown.is_empty());
        assert!(input.check(true).is_ok());
    }

    #[test]
    fn a_field_sent_replaces_the_stored_one() {
        let stored = oidc("https://old.example");
        let sent = Settings {
            issuer: Some("https://new.example".into()),
            ..Settings::default()
        };
        let merged = merged(stored, sent);
        assert_eq!(merged.issuer.as_deref(), Some("https://new.example"));
        assert_eq!(merged.client_id.as_deref(), Some("idhub"));
    }
}
