//! Scopes are space-separated service ids (plus a few OIDC words later on).
use crate::error::AppError;

pub const MAX_SCOPES: usize = 50;
const MAX_SCOPE_LENGTH: usize = 128;

/// Splits a scope string into distinct entries, keeping their first order.
pub fn parse(field: &str, text: &str) -> Result<Vec<String>, AppError> {
    let mut scopes: Vec<String> = Vec::new();
    for entry in text.split_whitespace() {
        if entry.len() > MAX_SCOPE_LENGTH
            || entry
                .chars()
                .any(|c| c.is_control() || c == '"' || c == '\\')
        {
            return Err(AppError::bad_field(
                field,
                "scope entries must be printable and short",
            ));
        }
        if !scopes.iter().any(|s| s == entry) {
            scopes.push(entry.to_owned());
        }
        if scopes.len() > MAX_SCOPES {
            return Err(AppError::bad_field(
                field,
                format!("at most {MAX_SCOPES} scope entries"),
            ));
        }
    }
    Ok(scopes)
}

pub fn join(scopes: &[String]) -> String {
    scopes.join(" ")
}

/// A scope as idhub stored it (on a grant, a code, a refresh token, a
/// consent, a device code) or put in a token: entries checked when they were
/// granted, joined by spaces. The one place that reads it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredScope<'a>(pub &'a str);

impl<'a> StoredScope<'a> {
    pub fn entries(self) -> impl Iterator<Item = &'a str> {
        self.0.split_whitespace()
    }

    pub fn contains(self, entry: &str) -> bool {
        self.entries().any(|e| e == entry)
    }

    /// Every entry of `wanted` is here.
    pub fn covers(self, wanted: &[String]) -> bool {
        wanted.iter().all(|w| self.contains(w))
    }

    pub fn to_vec(self) -> Vec<String> {
        self.entries().map(str::to_owned).collect()
    }

    /// These entries, then those of `more` not among them.
    pub fn merged(self, more: &[String]) -> Vec<String> {
        let mut merged = self.to_vec();
        for entry in more {
            if !merged.contains(entry) {
                merged.push(entry.clone());
            }
        }
        merged
    }
}

pub const OPENID: &str = "openid";
pub const PROFILE: &str = "profile";
pub const EMAIL: &str = "email";
pub const OFFLINE_ACCESS: &str = "offline_access";
/// The `groups` claim: the names of the user's groups, transitive.
pub const GROUPS: &str = "groups";
pub const OIDC_SCOPES: &[&str] = &[OPENID, PROFILE, EMAIL, OFFLINE_ACCESS, GROUPS];
pub const USER_PREFIX: &str = "user:";

/// The id of a registered service, as a scope entry, a client id or an audience.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct ServiceId(String);

impl ServiceId {
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl AsRef<str> for ServiceId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ServiceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for ServiceId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

/// A requested scope, sorted by kind: resource servers (service ids), the OIDC
/// words, and Hub's `user:<id|login>` impersonation entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requested {
    pub services: Vec<ServiceId>,
    pub oidc: Vec<String>,
    pub users: Vec<String>,
}

impl Requested {
    pub fn from_entries(entries: Vec<String>) -> Self {
        let mut requested = Self::default();
        for entry in entries {
            if OIDC_SCOPES.contains(&entry.as_str()) {
                requested.oidc.push(entry);
            } else if let Some(user) = entry.strip_prefix(USER_PREFIX) {
                requested.users.push(user.to_owned());
            } else {
                requested.services.push(ServiceId(entry));
            }
        }
        requested
    }

    pub fn has(&self, oidc_scope: &str) -> bool {
        self.oidc.iter().any(|s| s == oidc_scope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_scope_reads_back_its_entries() {
        let stored = StoredScope("openid  a b");
        assert_eq!(stored.to_vec(), vec!["openid", "a", "b"]);
        assert!(stored.contains("a") && !stored.contains("c") && !stored.contains(""));
        assert!(stored.covers(&["b".into(), "openid".into()]));
        assert!(!stored.covers(&["b".into(), "c".into()]));
        assert_eq!(
            stored.merged(&["b".into(), "c".into()]),
            vec!["openid", "a", "b", "c"]
        );
        assert!(StoredScope("").covers(&[]));
    }

    #[test]
    fn splits_dedupes_and_bounds() {
        assert_eq!(parse("scope", " a  b a ").unwrap(), vec!["a", "b"]);
        assert!(parse("scope", "").unwrap().is_empty());
        let many: Vec<String> = (0..=MAX_SCOPES).map(|i| format!("s{i}")).collect();
        assert!(parse("scope", &many.join(" ")).is_err());
        assert!(parse("scope", &"x".repeat(200)).is_err());
        assert_eq!(join(&["a".into(), "b".into()]), "a b");
    }

    #[test]
    fn requested_scope_is_sorted_by_kind() {
        let requested =
            Requested::from_entries(parse("scope", "svc openid user:jane offline_access").unwrap());
        assert_eq!(requested.services, vec![ServiceId::new("svc")]);
        assert_eq!(requested.oidc, vec!["openid", "offline_access"]);
        assert_eq!(requested.users, vec!["jane"]);
        assert!(requested.has(OFFLINE_ACCESS));
    }
}
