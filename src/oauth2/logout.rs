//! OpenID Connect RP-Initiated Logout 1.0: what a logout request may do. The
//! `id_token_hint` must be an ID token idhub signed (expired or not); the
//! client it names and a `client_id` must agree; a
//! `post_logout_redirect_uri` must be one the service registered (matched as redirect URIs are),
//! or the user is sent nowhere. Without a hint that names the signed-in
//! user, the user is asked first.
use serde::Deserialize;
use serde_json::Value;

use crate::oidc::jwt::{self, Expiry, ID_TOKEN_TYPE};
use crate::oidc::keystore::KeySet;
use crate::registry::model::Service;
use crate::registry::redirect_uri;

/// The request's parameters (query or form).
#[derive(Debug, Default, Clone, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogoutParams {
    pub id_token_hint: Option<String>,
    pub client_id: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
}

/// What a valid `id_token_hint` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub user_id: String,
    pub client_id: String,
    pub sid: Option<String>,
}

#[derive(Debug, Deserialize)]
struct HintClaims {
    sub: String,
    aud: Value,
    sid: Option<String>,
}

/// The hint, if it is an ID token this server signed for one client.
pub fn read_hint(keys: &KeySet, issuer: &str, token: &str) -> Option<Hint> {
    let claims: HintClaims =
        jwt::verify_with(keys, token, ID_TOKEN_TYPE, issuer, Expiry::Ignored).ok()?;
    let client_id = match claims.aud {
        Value::String(aud) => aud,
        Value::Array(auds) => match auds.as_slice() {
            [Value::String(aud)] => aud.clone(),
            _ => return None,
        },
        _ => return None,
    };
    Some(Hint {
        user_id: claims.sub,
        client_id,
        sid: claims.sid,
    })
}

/// Why a logout request is refused, shown to the user (no redirect).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the id_token_hint was issued to another client than client_id")]
    ClientMismatch,
    #[error("post_logout_redirect_uri needs a client_id or an id_token_hint")]
    NoClient,
    #[error("the post_logout_redirect_uri is not registered for this client")]
    UnregisteredUri,
}

/// The client the request is for: the hint's, or `client_id` (they must
/// agree when both are given).
pub fn client_of(hint: Option<&Hint>, client_id: Option<&str>) -> Result<Option<String>, Refused> {
    let client_id = client_id.filter(|id| !id.is_empty());
    match (hint, client_id) {
        (Some(hint), Some(id)) if hint.client_id != id => Err(Refused::ClientMismatch),
        (Some(hint), _) => Ok(Some(hint.client_id.clone())),
        (None, id) => Ok(id.map(str::to_owned)),
    }
}

/// Where to send the user once signed out: the registered URI, with
/// `state` added; None for idhub's own "signed out" page.
pub fn return_uri(
    client: Option<&Service>,
    uri: Option<&str>,
    state: Option<&str>,
) -> Result<Option<String>, Refused> {
    let Some(uri) = uri.filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    let client = client.ok_or(Refused::NoClient)?;
    let registered: Vec<String> =
        serde_json::from_str(&client.post_logout_redirect_uris).unwrap_or_default();
    // Matched as redirect URIs are: exactly, but for the port of a loopback
    // address (RFC 8252 §7.3: native and local apps listen where they can).
    if !registered.iter().any(|r| redirect_uri::matches(r, uri)) {
        return Err(Refused::UnregisteredUri);
    }
    let mut target = url::Url::parse(uri).map_err(|_| Refused::UnregisteredUri)?;
    if let Some(state) = state.filter(|s| !s.is_empty()) {
        target.query_pairs_mut().append_pair("state", state);
    }
    Ok(Some(target.to_string()))
}

/// Whether to ask before signing out: always, unless there is nobody to
/// sign out or a valid hint names the signed-in user (so a link cannot sign
/// people out of idhub behind their back).
pub fn needs_confirmation(hint: Option<&Hint>, signed_in_user: Option<&str>) -> bool {
    match (hint, signed_in_user) {
        (_, None) => false,
        (Some(hint), Some(user)) => hint.user_id != user,
        (None, Some(_)) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint(user: &str, client: &str) -> Hint {
        Hint {
            user_id: user.into(),
            client_id: client.into(),
            sid: None,
        }
    }

    #[test]
    fn the_hint_and_client_id_must_agree() {
        let h = hint("u", "app");
        assert_eq!(client_of(Some(&h), Some("app")), Ok(Some("app".into())));
        assert_eq!(client_of(Some(&h), None), Ok(Some("app".into())));
        assert_eq!(
            client_of(Some(&h), Some("other")),
            Err(Refused::ClientMismatch)
        );
        assert_eq!(client_of(None, Some("x")), Ok(Some("x".into())));
        assert_eq!(client_of(None, Some("")), Ok(None));
    }

    #[test]
    fn only_registered_uris_are_returned_to_with_state() {
        let mut client = Service::new("App".into(), "h".into(), crate::clock::now());
        client.post_logout_redirect_uris = r#"["https://app.example/bye"]"#.into();
        assert_eq!(
            return_uri(Some(&client), Some("https://app.example/bye"), Some("s 1")),
            Ok(Some("https://app.example/bye?state=s+1".into()))
        );
        assert_eq!(return_uri(Some(&client), None, Some("s")), Ok(None));
        assert_eq!(
            return_uri(Some(&client), Some("https://app.example/bye/"), None),
            Err(Refused::UnregisteredUri)
        );
        assert_eq!(
            return_uri(None, Some("https://app.example/bye"), None),
            Err(Refused::NoClient)
        );
    }

    #[test]
    fn people_are_asked_unless_the_hint_names_them() {
        assert!(!needs_confirmation(None, None));
        assert!(needs_confirmation(None, Some("u")));
        assert!(!needs_confirmation(Some(&hint("u", "a")), Some("u")));
        assert!(needs_confirmation(Some(&hint("v", "a")), Some("u")));
    }
}
