//! What a consent page lists: each service and OpenID Connect word of the
//! request in plain words, for the authorization and device flows alike.
use crate::scope::{EMAIL, GROUPS, OFFLINE_ACCESS, OPENID, PROFILE};

/// `services` are (id, name) pairs; `offline` asks for a refresh token
/// without the `offline_access` word (Hub's `access_type=offline`).
pub fn items(services: &[(String, String)], oidc: &[String], offline: bool) -> Vec<String> {
    let mut items: Vec<String> = services
        .iter()
        .map(|(_, name)| format!("Use {name} on your behalf"))
        .collect();
    for word in oidc {
        items.push(
            match word.as_str() {
                OPENID => "Know who you are",
                PROFILE => "See your name and login",
                EMAIL => "See your email address",
                OFFLINE_ACCESS => "Keep access while you are away",
                GROUPS => "See the groups you are in",
                _ => continue,
            }
            .to_owned(),
        );
    }
    if offline && !oidc.iter().any(|w| w == OFFLINE_ACCESS) {
        items.push("Keep access while you are away".into());
    }
    items
}
