//! The JSON bodies of permissions, roles, projects and project roles,
//! checked field by field.
use serde::Deserialize;

use super::model::{KeyedChanges, PermissionChanges};
use crate::error::AppError;
use crate::groups::model::Ref;
use crate::validate::{self, MAX_LONG_TEXT, MAX_SHORT_TEXT};

/// A key: what code compares, so letters, digits and `.`, `-`, `_`, `:`.
fn check_key(value: &str) -> Result<String, AppError> {
    let key = validate::required_text("key", Some(value), MAX_SHORT_TEXT)?;
    if key
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
    {
        return Ok(key);
    }
    Err(AppError::bad_field(
        "key",
        "key may hold letters, digits, '.', '-', '_' and ':' only",
    ))
}

/// `key`, `name` and `description` of a new entity (`creating`: key
/// required, name defaults to the key) or of an update (absent stays).
fn check_keyed(
    key: Option<&str>,
    name: Option<&str>,
    description: Option<Option<String>>,
    creating: bool,
) -> Result<KeyedChanges, AppError> {
    let key = match (creating, key) {
        (true, None) => return Err(AppError::bad_field("key", "key is required")),
        (_, key) => key.map(check_key).transpose()?,
    };
    let name = match (creating, name) {
        (true, None) => key.clone(),
        (_, None) => None,
        (_, name) => Some(validate::required_text("name", name, MAX_SHORT_TEXT)?),
    };
    let description = description
        .map(|text| validate::optional_text("description", text.as_deref(), MAX_LONG_TEXT))
        .transpose()?;
    Ok(KeyedChanges {
        key,
        name,
        description,
    })
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct PermissionInput {
    pub key: Option<String>,
    /// Defaults to the key.
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::validate::nullable")]
    pub description: Option<Option<String>>,
    pub global: Option<bool>,
    /// The declaring service; a service's own token may leave it out.
    pub service: Option<Ref>,
}

impl PermissionInput {
    pub fn check(self, creating: bool) -> Result<PermissionChanges, AppError> {
        let keyed = check_keyed(
            self.key.as_deref(),
            self.name.as_deref(),
            self.description,
            creating,
        )?;
        Ok(PermissionChanges {
            key: keyed.key,
            name: keyed.name,
            description: keyed.description,
            global: self.global,
        })
    }
}

/// A role or a project.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct KeyedInput {
    pub key: Option<String>,
    /// Defaults to the key.
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::validate::nullable")]
    pub description: Option<Option<String>>,
    /// Roles only: replaces the role's permissions.
    pub permissions: Option<Vec<Ref>>,
}

impl KeyedInput {
    pub fn check(self, creating: bool) -> Result<(KeyedChanges, Option<Vec<String>>), AppError> {
        let keyed = check_keyed(
            self.key.as_deref(),
            self.name.as_deref(),
            self.description,
            creating,
        )?;
        let permissions = self
            .permissions
            .map(|list| list.into_iter().map(|p| p.id).collect());
        Ok((keyed, permissions))
    }
}

/// `{role: {id}, project: {id}}`; the project defaults to Global.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ProjectRoleInput {
    pub role: Ref,
    pub project: Option<Ref>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_required_plain_and_name_defaults_to_key() {
        let made = check_keyed(Some(" issue.read "), None, None, true).unwrap();
        assert_eq!(made.key.as_deref(), Some("issue.read"));
        assert_eq!(made.name.as_deref(), Some("issue.read"));
        assert!(check_keyed(None, Some("Read"), None, true).is_err());
        assert!(check_keyed(Some("has space"), None, None, true).is_err());
        assert!(check_keyed(Some("a/b"), None, None, true).is_err());
        let update = check_keyed(None, Some("Read issues"), None, false).unwrap();
        assert_eq!(update.key, None);
        assert_eq!(update.name.as_deref(), Some("Read issues"));
        assert!(check_keyed(None, Some(" "), None, false).is_err());
    }
}
