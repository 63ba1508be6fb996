//! OpenID Provider metadata, listing exactly what is supported.
use serde::Serialize;
use utoipa::ToSchema;

use super::jwt::CLIENT_ASSERTION_ALGORITHMS as ASSERTION_ALGORITHMS;
use super::jwt::DPOP_ALGORITHMS;
use crate::config::Settings;
use crate::grant_types;
use crate::registry::model::HUB_SERVICE_ID;

/// Where the OAuth 2.0 / OpenID Connect endpoints live, as in Hub.
pub const OAUTH_BASE: &str = "/api/rest/oauth2";

/// OpenID Connect Discovery §3 and the RFC 8414 members of what idhub supports.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    pub userinfo_endpoint: String,
    pub introspection_endpoint: String,
    pub revocation_endpoint: String,
    pub end_session_endpoint: String,
    pub registration_endpoint: String,
    pub pushed_authorization_request_endpoint: String,
    pub require_pushed_authorization_requests: bool,
    pub device_authorization_endpoint: String,
    pub dpop_signing_alg_values_supported: Vec<&'static str>,
    pub backchannel_logout_supported: bool,
    pub backchannel_logout_session_supported: bool,
    pub frontchannel_logout_supported: bool,
    pub grant_types_supported: Vec<&'static str>,
    pub response_types_supported: Vec<&'static str>,
    pub response_modes_supported: Vec<&'static str>,
    pub authorization_response_iss_parameter_supported: bool,
    pub scopes_supported: Vec<&'static str>,
    pub subject_types_supported: Vec<&'static str>,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    pub token_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    pub introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    pub introspection_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    pub revocation_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    pub code_challenge_methods_supported: Vec<&'static str>,
    pub id_token_signing_alg_values_supported: Vec<String>,
    pub userinfo_signing_alg_values_supported: Vec<&'static str>,
    pub claims_supported: Vec<&'static str>,
    /// The `acr` values ID tokens carry: `pwd`, or `mfa` after a second factor.
    pub acr_values_supported: Vec<&'static str>,
    /// The `claims` request parameter is read (for an essential `acr`).
    pub claims_parameter_supported: bool,
}

const AUTH_METHODS: [&str; 3] = [
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
];

pub fn document(settings: &Settings, signing_algorithm: &str) -> ProviderMetadata {
    let issuer = settings.issuer();
    let endpoint = |path: &str| format!("{issuer}{OAUTH_BASE}/{path}");
    let mut grant_types = vec![
        "authorization_code",
        "client_credentials",
        "refresh_token",
        grant_types::DEVICE_CODE,
        grant_types::TOKEN_EXCHANGE,
    ];
    let mut response_types = vec!["code"];
    if settings.implicit_grant_enabled {
        grant_types.push("implicit");
        response_types.extend([
            "token",
            "id_token",
            "id_token token",
            "code id_token",
            "code token",
            "code id_token token",
        ]);
    }
    if settings.password_grant_enabled {
        grant_types.push("password");
    }
    ProviderMetadata {
        authorization_endpoint: endpoint("auth"),
        token_endpoint: endpoint("token"),
        jwks_uri: endpoint("keys"),
        userinfo_endpoint: endpoint("userinfo"),
        introspection_endpoint: endpoint("introspect"),
        revocation_endpoint: endpoint("revoke"),
        end_session_endpoint: endpoint("logout"),
        registration_endpoint: endpoint("register"),
        pushed_authorization_request_endpoint: endpoint("par"),
        require_pushed_authorization_requests: settings.par_required,
        device_authorization_endpoint: endpoint("device"),
        issuer,
        dpop_signing_alg_values_supported: DPOP_ALGORITHMS.to_vec(),
        backchannel_logout_supported: true,
        backchannel_logout_session_supported: true,
        frontchannel_logout_supported: false,
        grant_types_supported: grant_types,
        response_types_supported: response_types,
        response_modes_supported: vec!["query", "fragment", "form_post"],
        authorization_response_iss_parameter_supported: true,
        scopes_supported: vec![
            "openid",
            "profile",
            "email",
            "offline_access",
            "groups",
            HUB_SERVICE_ID,
        ],
        subject_types_supported: vec!["public"],
        token_endpoint_auth_methods_supported: [AUTH_METHODS.as_slice(), &["none"]].concat(),
        token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS.to_vec(),
        introspection_endpoint_auth_methods_supported: AUTH_METHODS.to_vec(),
        introspection_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS.to_vec(),
        revocation_endpoint_auth_methods_supported: AUTH_METHODS.to_vec(),
        revocation_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS.to_vec(),
        code_challenge_methods_supported: vec!["S256"],
        id_token_signing_alg_values_supported: vec![signing_algorithm.to_owned()],
        userinfo_signing_alg_values_supported: vec!["none"],
        claims_supported: vec![
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "at_hash",
            "c_hash",
            "sid",
            "amr",
            "acr",
            "name",
            "preferred_username",
            "email",
            "email_verified",
            "groups",
        ],
        acr_values_supported: vec![super::id_token::PWD, super::id_token::MFA],
        claims_parameter_supported: true,
    }
}
