//! The authorization request (RFC 6749 §4.1.1/§4.2.1, OIDC Core §3) as it
//! comes on the wire, one type for `/auth`, `/par` and the pages that carry
//! it, and its checks in two stages: client and redirect URI first (errors
//! shown on a page), then the rest (errors sent back to the verified
//! redirect URI).
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::config::Settings;
use crate::oauth2::error::{ErrorCode, OAuthError};
use crate::oauth2::{pkce, scope_rules};
use crate::registry::model::Service;
use crate::registry::redirect_uri::{self, OUT_OF_BAND};
use crate::scope::{Requested, OFFLINE_ACCESS, OPENID};

/// The parameters every authorization request may carry, listed once: the
/// request at `/auth` adds `client_id` and `request_uri`; a pushed one
/// (RFC 9126 §2.1) names its client by authenticating and may not name a
/// `request_uri`. Unknown parameters are ignored (RFC 6749 §3.1).
macro_rules! authorization_parameters {
    ($( $(#[doc = $doc:literal])* $field:ident ),* $(,)?) => {
        /// An authorization request, in the query of a GET or the form of a
        /// POST, or carried by the sign-in and consent pages. Without
        /// `request_uri`, `response_type` is required.
        #[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema, IntoParams)]
        #[into_params(parameter_in = Query)]
        pub struct AuthorizationRequest {
            /// The service id.
            #[schema(required = true)]
            #[param(required = true)]
            #[serde(skip_serializing_if = "Option::is_none")]
            pub client_id: Option<String>,
            /// A pushed request (RFC 9126), sent with `client_id` alone; other
            /// parameters beside it are ignored.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub request_uri: Option<String>,
            $(
                $(#[doc = $doc])*
                #[serde(skip_serializing_if = "Option::is_none")]
                pub $field: Option<String>,
            )*
        }

        /// A pushed authorization request's parameters (RFC 9126 §2.1): those
        /// of the authorization request, without `client_id` (the client
        /// authentication names it) and `request_uri`.
        #[derive(Debug, Clone, Default, Deserialize, ToSchema)]
        pub struct PushedParameters {
            $(
                $(#[doc = $doc])*
                pub $field: Option<String>,
            )*
        }

        impl PushedParameters {
            /// The request as the authorization endpoint reads it, naming the
            /// client that pushed it however it authenticated.
            pub fn of_client(self, client_id: String) -> AuthorizationRequest {
                AuthorizationRequest {
                    client_id: Some(client_id),
                    request_uri: None,
                    $( $field: self.$field, )*
                }
            }
        }
    };
}

authorization_parameters! {
    /// `code`, or with the implicit flow on: `token`, `id_token` and their
    /// combinations.
    response_type,
    /// One of the client's registered redirect URIs; may be left out when it
    /// has exactly one.
    redirect_uri,
    /// Space-separated service ids, plus `openid`, `profile`, `email`,
    /// `offline_access`.
    scope,
    state,
    /// `query`, `fragment` or `form_post`.
    response_mode,
    /// Copied into the ID token.
    nonce,
    /// PKCE (RFC 7636): required of public clients.
    code_challenge,
    /// `S256`.
    code_challenge_method,
    /// `none`, or any of `login`, `consent`, `select_account`.
    prompt,
    /// Seconds since the user signed in, at most.
    max_age,
    /// The login to prefill on the sign-in page.
    login_hint,
    /// The thumbprint of the DPoP key the code is bound to (RFC 9449 §10).
    dpop_jkt,
    /// Hub's `offline` asks for a refresh token.
    access_type,
    /// Hub's `silent` (as `prompt=none`), `skip`, `required` or `default`.
    request_credentials,
    /// A request object (OpenID Connect Core §6): not supported, answered
    /// with `request_not_supported`; push the request instead (RFC 9126).
    request,
    /// `mfa` asks for a sign-in with two factors: a session signed in with
    /// a password alone steps up (OpenID Connect Core §3.1.2.1).
    acr_values,
    /// OpenID Connect Core §5.5: `acr` asked for as essential with the
    /// value `mfa` (in `id_token` or `userinfo`) also asks for two factors.
    claims,
}

impl AuthorizationRequest {
    /// What the sign-in and consent pages carry back: a pushed request by
    /// its `request_uri` only, so the browser cannot change it.
    pub fn carried(&self, pushed: Option<&str>) -> AuthorizationRequest {
        match pushed {
            Some(uri) => AuthorizationRequest {
                client_id: self.client_id.clone(),
                request_uri: Some(uri.to_owned()),
                ..AuthorizationRequest::default()
            },
            None => self.clone(),
        }
    }

    /// The same request once the user has just signed in: a forced sign-in
    /// and `max_age` are satisfied by it, and asking again would loop.
    pub fn after_sign_in(&self) -> AuthorizationRequest {
        let prompt = self.prompt.as_deref().and_then(|prompt| {
            let rest: Vec<&str> = prompt.split(' ').filter(|w| *w != "login").collect();
            (!rest.is_empty()).then(|| rest.join(" "))
        });
        AuthorizationRequest {
            request_credentials: self
                .request_credentials
                .clone()
                .filter(|value| value != "required"),
            max_age: None,
            prompt,
            ..self.clone()
        }
    }

    /// The parameters, present ones only, by name in alphabetical order
    /// (unknown ones were never read).
    pub fn pairs(&self) -> Vec<(String, String)> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(object)) => object
                .into_iter()
                .filter_map(|(key, value)| match value {
                    serde_json::Value::String(text) => Some((key, text)),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

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
    /// When a pushed request was pushed: a sign-in since then answers its
    /// `prompt=login` and `max_age` (the browser comes back with the
    /// `request_uri` alone, which still says both).
    pub asked_at: Option<NaiveDateTime>,
    /// The request asks for two factors (`acr_values=mfa`, or `acr`
    /// essential with `mfa` in `claims`).
    pub requires_mfa: bool,
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

/// Stage one: the redirect URI, checked against the client's registered ones.
/// Errors here must never redirect.
pub fn redirect_uri_for(
    client: &Service,
    registered: &[String],
    request: &AuthorizationRequest,
) -> Result<String, String> {
    match request.redirect_uri.as_deref() {
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

/// A request refused once its client and redirect URI are verified: where
/// the error goes, and the error (boxed: large, and the rare path).
pub type ForClient = Box<(Target, OAuthError)>;

/// Stage two. Errors are sent to `target` by the caller.
pub fn check(
    client: &Service,
    redirect_uri: String,
    params: &AuthorizationRequest,
    settings: &Settings,
) -> Result<AuthRequest, ForClient> {
    let state = params.state.clone();
    let parsed_type = params
        .response_type
        .as_deref()
        .and_then(ResponseType::parse);
    let default_mode = match parsed_type {
        Some(t) if t.issues_tokens_here() => ResponseMode::Fragment,
        _ => ResponseMode::Query,
    };
    let mode = match params.response_mode.as_deref() {
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
    let fail = |error: OAuthError| Box::new((target.clone(), error));
    let mode = mode.map_err(fail)?;
    let response_type = match (params.response_type.as_deref(), parsed_type) {
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

    if params.request.is_some() {
        return Err(fail(OAuthError::new(
            ErrorCode::RequestNotSupported,
            "request objects are not supported; push the request instead (RFC 9126)",
        )));
    }
    let (entries, requested) =
        scope_rules::for_user(client, params.scope.as_deref()).map_err(fail)?;
    let openid = requested.has(OPENID);
    if response_type.id_token && !openid {
        return Err(fail(invalid(
            "response_type id_token needs the openid scope",
        )));
    }
    let nonce = params.nonce.clone();
    if nonce.is_none() && (response_type.id_token || (response_type.token && openid)) {
        return Err(fail(invalid(
            "nonce is required when tokens come from the authorization endpoint",
        )));
    }
    if nonce.as_ref().is_some_and(|n| n.len() > 512) {
        return Err(fail(invalid("nonce is too long")));
    }

    let code_challenge = match (
        params.code_challenge.as_deref(),
        params.code_challenge_method.as_deref(),
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

    let (mut credentials, mut force_consent) = match params.request_credentials.as_deref() {
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
    if let Some(prompt) = params.prompt.as_deref() {
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
    let max_age = match params.max_age.as_deref() {
        None => None,
        Some(text) => Some(
            text.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| fail(invalid("max_age must be a non-negative integer")))?,
        ),
    };
    let offline = params.access_type.as_deref() == Some("offline") || requested.has(OFFLINE_ACCESS);
    let dpop_jkt = match params.dpop_jkt.as_deref() {
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
            .login_hint
            .as_deref()
            .map(|h| h.chars().take(256).collect()),
        dpop_jkt,
        asked_at: None,
        requires_mfa: requires_mfa(params.acr_values.as_deref(), params.claims.as_deref())
            .map_err(|why| fail(invalid(why)))?,
    })
}

/// Whether the request will only take a sign-in with two factors:
/// `acr_values` listing `mfa` and not `pwd` (a preference list: `pwd mfa`
/// takes either; values idhub does not know are ignored, as voluntary), or
/// the `claims` parameter asking for `acr` as essential with only `mfa`.
pub fn requires_mfa(acr_values: Option<&str>, claims: Option<&str>) -> Result<bool, &'static str> {
    use crate::factors::amr::{MFA, PWD};
    let listed: Vec<&str> = acr_values.unwrap_or("").split_whitespace().collect();
    let by_values = listed.contains(&MFA) && !listed.contains(&PWD);
    let Some(claims) = claims else {
        return Ok(by_values);
    };
    let claims: serde_json::Value = serde_json::from_str(claims)
        .ok()
        .filter(serde_json::Value::is_object)
        .ok_or("claims must be a JSON object (OpenID Connect Core §5.5)")?;
    let essential_mfa = ["id_token", "userinfo"].iter().any(|target| {
        let acr = &claims[target]["acr"];
        let values: Vec<&str> = match (&acr["value"], &acr["values"]) {
            (serde_json::Value::String(one), _) => vec![one.as_str()],
            (_, serde_json::Value::Array(many)) => {
                many.iter().filter_map(serde_json::Value::as_str).collect()
            }
            _ => Vec::new(),
        };
        acr["essential"] == true && values.contains(&MFA) && !values.contains(&PWD)
    });
    Ok(by_values || essential_mfa)
}

/// 43 base64url characters: a SHA-256 digest.
fn is_thumbprint(text: &str) -> bool {
    text.len() == 43
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Service {
        Service::new("App".into(), "hash".into(), crate::clock::now())
    }

    fn params(pairs: &[(&str, &str)]) -> AuthorizationRequest {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        crate::oauth2::from_params(&pairs).unwrap()
    }

    #[test]
    fn two_factors_are_required_by_acr_values_or_an_essential_acr_claim() {
        let cases = [
            (Some("mfa"), None, Ok(true)),
            (Some("urn:x mfa"), None, Ok(true)),
            (Some("pwd mfa"), None, Ok(false)),
            (Some("pwd"), None, Ok(false)),
            (None, None, Ok(false)),
            (
                None,
                Some(r#"{"id_token":{"acr":{"essential":true,"value":"mfa"}}}"#),
                Ok(true),
            ),
            (
                None,
                Some(r#"{"userinfo":{"acr":{"essential":true,"values":["mfa"]}}}"#),
                Ok(true),
            ),
            (
                None,
                Some(r#"{"id_token":{"acr":{"values":["mfa"]}}}"#),
                Ok(false),
            ),
            (
                None,
                Some(r#"{"id_token":{"acr":{"essential":true,"values":["pwd","mfa"]}}}"#),
                Ok(false),
            ),
            (None, Some(r#"{"id_token":{"email":null}}"#), Ok(false)),
        ];
        for (acr_values, claims, expected) in cases {
            assert_eq!(
                requires_mfa(acr_values, claims),
                expected,
                "{acr_values:?} {claims:?}"
            );
        }
        assert!(requires_mfa(None, Some("[1]")).is_err());
        assert!(requires_mfa(None, Some("not json")).is_err());
    }

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
        assert!(redirect_uri_for(&client(), &registered, &ok).is_ok());
        let bad = params(&[("redirect_uri", "https://evil.example/cb")]);
        assert!(redirect_uri_for(&client(), &registered, &bad).is_err());
        assert!(
            redirect_uri_for(&client(), &registered, &params(&[])).is_err(),
            "ambiguous without a redirect_uri"
        );
    }

    #[test]
    fn stage_two_rules() {
        let settings = Settings::default();
        let check_with = |pairs: &[(&str, &str)]| {
            let p = params(pairs);
            check(&client(), "https://app.example/cb".into(), &p, &settings)
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

        let code_of = |r: Result<AuthRequest, ForClient>| r.err().map(|refused| refused.1.code);
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
        let refused = check(&public, "https://app.example/cb".into(), &p, &settings);
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
