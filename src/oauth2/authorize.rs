//! The authorization request (RFC 6749 §4.1.1/§4.2.1, OIDC Core §3), checked in
//! two stages: client and redirect URI first (errors shown on a page), then the
//! rest (errors sent back to the verified redirect URI); and what an allowed
//! request leaves in the database.
use chrono::{Duration, NaiveDateTime};

use super::codes::{self, NewCode};
use super::error::{ErrorCode, OAuthError};
use super::{consents, grants, pkce, scope_rules};
use crate::config::Settings;
use crate::db::{self, DbConn};
use crate::error::AppError;
use crate::registry::model::Service;
use crate::registry::redirect_uri::{self, OUT_OF_BAND};
use crate::scope::{self, Requested, OFFLINE_ACCESS, OPENID};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseType {
    pub code: bool,
    pub token: bool,
    pub id_token: bool,
}

impl ResponseType {
    pub fn parse(text: &str) -> Option<Self> {
        let mut parsed = Self {
            code: false,
            token: false,
            id_token: false,
        };
        for part in text.split(' ') {
            let slot = match part {
                "code" => &mut parsed.code,
                "token" => &mut parsed.token,
                "id_token" => &mut parsed.id_token,
                _ => return None,
            };
            if *slot {
                return None;
            }
            *slot = true;
        }
        Some(parsed)
    }

    /// Tokens straight from the authorization endpoint: implicit or hybrid.
    pub fn issues_tokens_here(self) -> bool {
        self.token || self.id_token
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    Query,
    Fragment,
    FormPost,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials {
    Default,
    /// Hub's `skip`: no sign-in page; the guest when nobody is signed in.
    Skip,
    /// Hub's `silent`, OIDC's `prompt=none`: never show a page.
    Silent,
    /// Hub's `required`, OIDC's `prompt=login`: sign in again.
    Required,
}

/// Where and how an answer (or an error) goes back to the client.
#[derive(Debug, Clone)]
pub struct Target {
    pub redirect_uri: String,
    pub mode: ResponseMode,
    pub state: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AuthRequest {
    pub target: Target,
    pub response_type: ResponseType,
    pub scope: Vec<String>,
    pub requested: Requested,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub offline: bool,
    pub credentials: Credentials,
    pub force_consent: bool,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    /// RFC 9449 §10: the thumbprint of the DPoP key the code is bound to.
    pub dpop_jkt: Option<String>,
}

impl AuthRequest {
    /// What the user must have allowed: the scope, plus `offline_access` when a
    /// refresh token is asked for any other way (Hub's `access_type=offline`),
    /// so a consent without it never covers a refresh token (OIDC Core §11).
    pub fn consent_scope(&self) -> Vec<String> {
        let mut scope = self.scope.clone();
        if self.offline && !scope.iter().any(|s| s == OFFLINE_ACCESS) {
            scope.push(OFFLINE_ACCESS.to_owned());
        }
        scope
    }
}

pub struct Params<'a>(pub &'a [(String, String)]);

impl Params<'_> {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Stage one: the redirect URI, checked against the client's registered ones.
/// Errors here must never redirect.
pub fn redirect_uri_for(
    client: &Service,
    registered: &[String],
    params: &Params<'_>,
) -> Result<String, String> {
    match params.get("redirect_uri") {
        Some(presented) => registered
            .iter()
            .any(|r| redirect_uri::matches(r, presented))
            .then(|| presented.to_owned())
            .ok_or_else(|| format!("The redirect URI is not registered for {}.", client.name)),
        None => match registered {
            [only] => Ok(only.clone()),
            _ => Err(
                "The request has no redirect_uri and the client has several (or none) registered."
                    .into(),
            ),
        },
    }
}

fn invalid(description: &str) -> OAuthError {
    OAuthError::invalid_request(description)
}

/// Stage two. Errors are sent to `target` by the caller.
pub fn check(
    client: &Service,
    redirect_uri: String,
    params: &Params<'_>,
    settings: &Settings,
) -> Result<AuthRequest, (Target, OAuthError)> {
    let state = params.get("state").map(str::to_owned);
    let parsed_type = params.get("response_type").and_then(ResponseType::parse);
    let default_mode = match parsed_type {
        Some(t) if t.issues_tokens_here() => ResponseMode::Fragment,
        _ => ResponseMode::Query,
    };
    let mode = match params.get("response_mode") {
        None => Ok(default_mode),
        Some("query") => Ok(ResponseMode::Query),
        Some("fragment") => Ok(ResponseMode::Fragment),
        Some("form_post") => Ok(ResponseMode::FormPost),
        Some(_) => Err(invalid(
            "response_mode must be query, fragment or form_post",
        )),
    };
    let target = Target {
        redirect_uri: redirect_uri.clone(),
        mode: *mode.as_ref().unwrap_or(&default_mode),
        state,
    };
    let fail = |error: OAuthError| (target.clone(), error);
    let mode = mode.map_err(fail)?;
    let response_type = match (params.get("response_type"), parsed_type) {
        (None, _) => return Err(fail(invalid("response_type is missing"))),
        (Some(_), None) => {
            return Err(fail(OAuthError::new(
                ErrorCode::UnsupportedResponseType,
                "response_type must combine code, token and id_token",
            )))
        }
        (Some(_), Some(t)) => t,
    };
    if response_type.issues_tokens_here() && mode == ResponseMode::Query {
        return Err(fail(invalid(
            "tokens are never sent in the query; use fragment or form_post",
        )));
    }
    if response_type.issues_tokens_here()
        && !(settings.implicit_grant_enabled && client.implicit_flow_enabled)
    {
        return Err(fail(OAuthError::unauthorized_client(
            "the implicit flow is turned off for this client",
        )));
    }
    if redirect_uri == OUT_OF_BAND
        && (response_type
            != ResponseType {
                code: true,
                token: false,
                id_token: false,
            })
    {
        return Err(fail(invalid(
            "the out-of-band redirect URI works with response_type=code only",
        )));
    }

    let (entries, requested) = scope_rules::for_user(params.get("scope")).map_err(fail)?;
    let openid = requested.has(OPENID);
    if response_type.id_token && !openid {
        return Err(fail(invalid(
            "response_type id_token needs the openid scope",
        )));
    }
    let nonce = params.get("nonce").map(str::to_owned);
    if nonce.is_none() && (response_type.id_token || (response_type.token && openid)) {
        return Err(fail(invalid(
            "nonce is required when tokens come from the authorization endpoint",
        )));
    }
    if nonce.as_ref().is_some_and(|n| n.len() > 512) {
        return Err(fail(invalid("nonce is too long")));
    }

    let code_challenge = match (
        params.get("code_challenge"),
        params.get("code_challenge_method"),
    ) {
        (None, None) => None,
        (None, Some(_)) => {
            return Err(fail(invalid(
                "code_challenge_method without code_challenge",
            )))
        }
        (Some(challenge), method) => {
            if method != Some("S256") {
                return Err(fail(invalid(
                    "code_challenge_method must be S256 (plain is not supported)",
                )));
            }
            if !pkce::valid_challenge(challenge) {
                return Err(fail(invalid(
                    "code_challenge must be the 43-character S256 of a verifier",
                )));
            }
            Some(challenge.to_owned())
        }
    };
    if response_type.code
        && code_challenge.is_none()
        && (client.public_client || client.pkce_required)
    {
        return Err(fail(invalid(
            "this client must use PKCE (code_challenge with S256)",
        )));
    }

    let (mut credentials, mut force_consent) = match params.get("request_credentials") {
        None | Some("default") => (Credentials::Default, false),
        Some("skip") => (Credentials::Skip, false),
        Some("silent") => (Credentials::Silent, false),
        Some("required") => (Credentials::Required, false),
        Some(_) => {
            return Err(fail(invalid(
                "request_credentials must be default, skip, silent or required",
            )))
        }
    };
    if let Some(prompt) = params.get("prompt") {
        let words: Vec<&str> = prompt.split(' ').collect();
        if words.contains(&"none") && words.len() > 1 {
            return Err(fail(invalid(
                "prompt=none cannot be combined with other values",
            )));
        }
        for word in words {
            match word {
                "none" => credentials = Credentials::Silent,
                "login" => credentials = Credentials::Required,
                "consent" => force_consent = true,
                "select_account" => {}
                _ => {
                    return Err(fail(invalid(
                        "prompt must be none, login, consent or select_account",
                    )))
                }
            }
        }
    }
    let max_age = match params.get("max_age") {
        None => None,
        Some(text) => Some(
            text.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| fail(invalid("max_age must be a non-negative integer")))?,
        ),
    };
    let offline = params.get("access_type") == Some("offline") || requested.has(OFFLINE_ACCESS);
    let dpop_jkt = match params.get("dpop_jkt") {
        None => None,
        Some(jkt) if is_thumbprint(jkt) => Some(jkt.to_owned()),
        Some(_) => {
            return Err(fail(invalid(
                "dpop_jkt must be the base64url SHA-256 thumbprint of a key",
            )))
        }
    };
    Ok(AuthRequest {
        target: Target {
            mode,
            ..target.clone()
        },
        response_type,
        scope: entries,
        requested,
        nonce,
        code_challenge,
        offline,
        credentials,
        force_consent,
        max_age,
        login_hint: params
            .get("login_hint")
            .map(|h| h.chars().take(256).collect()),
        dpop_jkt,
    })
}

/// 43 base64url characters: a SHA-256 digest.
fn is_thumbprint(text: &str) -> bool {
    text.len() == 43
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A request the user allowed (or needed not be asked about).
pub struct Allowed<'a> {
    pub request: &'a AuthRequest,
    pub client_id: &'a str,
    pub user_id: &'a str,
    pub auth_time: NaiveDateTime,
    /// The browser session's public id (`sid`), kept on the grant.
    pub sid: Option<&'a str>,
    /// The user just gave consent on the consent page.
    pub record_consent: bool,
}

/// What an allowed request leaves behind, in one transaction: the consent (when
/// the user just gave it), a grant, and the code when the response has one.
/// Returns the grant id and the code.
pub fn record_authorization(
    conn: &mut DbConn,
    allowed: Allowed<'_>,
    code_ttl: Duration,
    now: NaiveDateTime,
) -> Result<(String, Option<String>), AppError> {
    let Allowed {
        request,
        client_id,
        user_id,
        auth_time,
        sid,
        record_consent,
    } = allowed;
    db::transaction(conn, |conn| {
        if record_consent {
            consents::record(conn, user_id, client_id, &request.consent_scope(), now)?;
        }
        let scope_text = scope::join(&request.scope);
        let grant = grants::create(conn, client_id, Some(user_id), &scope_text, sid, now)?;
        let code = match request.response_type.code {
            true => Some(codes::issue(
                conn,
                NewCode {
                    grant_id: &grant.id,
                    redirect_uri: &request.target.redirect_uri,
                    scope: &scope_text,
                    code_challenge: request.code_challenge.as_deref(),
                    nonce: request.nonce.as_deref(),
                    auth_time,
                    offline: request.offline,
                    dpop_jkt: request.dpop_jkt.as_deref(),
                },
                code_ttl,
                now,
            )?),
            false => None,
        };
        Ok((grant.id, code))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Service {
        Service::new("App".into(), "hash".into(), crate::clock::now())
    }

    use crate::oauth2::test_params as params;

    #[test]
    fn response_types_are_sets_of_known_words() {
        assert_eq!(
            ResponseType::parse("code"),
            Some(ResponseType {
                code: true,
                token: false,
                id_token: false
            })
        );
        assert_eq!(
            ResponseType::parse("id_token token"),
            ResponseType::parse("token id_token")
        );
        assert!(ResponseType::parse("code code").is_none());
        assert!(ResponseType::parse("none").is_none());
        assert!(ResponseType::parse("").is_none());
    }

    #[test]
    fn redirect_uri_must_be_registered() {
        let registered = vec![
            "https://app.example/cb".to_owned(),
            "http://127.0.0.1/cb".to_owned(),
        ];
        let ok = params(&[("redirect_uri", "http://127.0.0.1:5000/cb")]);
        assert!(redirect_uri_for(&client(), &registered, &Params(&ok)).is_ok());
        let bad = params(&[("redirect_uri", "https://evil.example/cb")]);
        assert!(redirect_uri_for(&client(), &registered, &Params(&bad)).is_err());
        assert!(
            redirect_uri_for(&client(), &registered, &Params(&[])).is_err(),
            "ambiguous without a redirect_uri"
        );
    }

    #[test]
    fn stage_two_rules() {
        let settings = Settings::default();
        let check_with = |pairs: &[(&str, &str)]| {
            let p = params(pairs);
            check(
                &client(),
                "https://app.example/cb".into(),
                &Params(&p),
                &settings,
            )
        };
        let ok = check_with(&[
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "s"),
        ])
        .unwrap();
        assert_eq!(ok.target.mode, ResponseMode::Query);
        assert_eq!(ok.target.state.as_deref(), Some("s"));
        let implicit = check_with(&[
            ("response_type", "id_token token"),
            ("scope", "openid"),
            ("nonce", "n"),
        ])
        .unwrap();
        assert_eq!(implicit.target.mode, ResponseMode::Fragment);

        let code_of = |r: Result<AuthRequest, (Target, OAuthError)>| r.err().map(|(_, e)| e.code);
        assert_eq!(
            code_of(check_with(&[
                ("response_type", "id_token"),
                ("scope", "openid")
            ])),
            Some(ErrorCode::InvalidRequest),
            "nonce"
        );
        assert_eq!(
            code_of(check_with(&[("response_type", "magic")])),
            Some(ErrorCode::UnsupportedResponseType)
        );
        assert_eq!(
            code_of(check_with(&[
                ("response_type", "token"),
                ("response_mode", "query")
            ])),
            Some(ErrorCode::InvalidRequest)
        );
        assert_eq!(
            code_of(check_with(&[
                ("response_type", "code"),
                ("code_challenge", &"a".repeat(43)),
                ("code_challenge_method", "plain")
            ])),
            Some(ErrorCode::InvalidRequest)
        );
        assert_eq!(
            code_of(check_with(&[
                ("response_type", "code"),
                ("prompt", "none login")
            ])),
            Some(ErrorCode::InvalidRequest)
        );
        assert_eq!(
            code_of(check_with(&[
                ("response_type", "code"),
                ("scope", "user:x")
            ])),
            Some(ErrorCode::InvalidScope)
        );

        let mut public = client();
        public.public_client = true;
        let p = params(&[("response_type", "code")]);
        let refused = check(
            &public,
            "https://app.example/cb".into(),
            &Params(&p),
            &settings,
        );
        assert_eq!(
            code_of(refused),
            Some(ErrorCode::InvalidRequest),
            "public clients need PKCE"
        );

        let silent = check_with(&[("response_type", "code"), ("prompt", "none")]).unwrap();
        assert_eq!(silent.credentials, Credentials::Silent);
        let forced = check_with(&[
            ("response_type", "code"),
            ("request_credentials", "required"),
            ("access_type", "offline"),
        ])
        .unwrap();
        assert_eq!(forced.credentials, Credentials::Required);
        assert!(forced.offline);
    }
}
