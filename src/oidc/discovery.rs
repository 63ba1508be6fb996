//! OpenID Provider metadata, listing exactly what is supported.
use serde_json::{json, Value};

use super::jwt::CLIENT_ASSERTION_ALGORITHMS as ASSERTION_ALGORITHMS;
use super::jwt::DPOP_ALGORITHMS;
use crate::config::Settings;
use crate::grant_types;
use crate::registry::model::HUB_SERVICE_ID;

/// Where the OAuth 2.0 / OpenID Connect endpoints live, as in Hub.
pub const OAUTH_BASE: &str = "/api/rest/oauth2";

pub fn document(settings: &Settings, signing_algorithm: &str) -> Value {
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
    json!({
        "issuer": issuer,
        "authorization_endpoint": endpoint("auth"),
        "token_endpoint": endpoint("token"),
        "jwks_uri": endpoint("keys"),
        "userinfo_endpoint": endpoint("userinfo"),
        "introspection_endpoint": endpoint("introspect"),
        "revocation_endpoint": endpoint("revoke"),
        "end_session_endpoint": endpoint("logout"),
        "registration_endpoint": endpoint("register"),
        "pushed_authorization_request_endpoint": endpoint("par"),
        "require_pushed_authorization_requests": settings.par_required,
        "device_authorization_endpoint": endpoint("device"),
        "dpop_signing_alg_values_supported": DPOP_ALGORITHMS,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "frontchannel_logout_supported": false,
        "grant_types_supported": grant_types,
        "response_types_supported": response_types,
        "response_modes_supported": ["query", "fragment", "form_post"],
        "authorization_response_iss_parameter_supported": true,
        "scopes_supported": ["openid", "profile", "email", "offline_access", HUB_SERVICE_ID],
        "subject_types_supported": ["public"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGORITHMS,
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "introspection_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGORITHMS,
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "revocation_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGORITHMS,
        "code_challenge_methods_supported": ["S256"],
        "id_token_signing_alg_values_supported": [signing_algorithm],
        "userinfo_signing_alg_values_supported": ["none"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "c_hash", "sid",
            "name", "preferred_username", "email", "email_verified"],
    })
}
