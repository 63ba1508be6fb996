//! What the OpenAPI document says of the OAuth 2.0 / OpenID Connect
//! endpoints beyond the handlers' annotations. The token request, the error
//! body, the registration metadata, the logout parameters and the device
//! answer are the types the code parses or serializes; the shapes below are
//! the ones the handlers read by name or build as JSON. The answers are
//! closed (`additionalProperties: false`), so an answer with a member the
//! document lacks fails the OpenAPI test, and that test also checks every
//! authorization parameter the source reads is listed here.
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, IntoResponses, ToSchema};

use super::error_response::OAuthErrorBody;
use crate::oauth2::access_token::{ActingParty, Audience, Confirmation};
use crate::oauth2::token::TokenRequest;

/// Client authentication in the form (RFC 6749 §2.3.1, RFC 7523 §2.2).
/// HTTP Basic (`client_secret_basic`) is the other way; a client uses one.
#[derive(Deserialize, ToSchema)]
pub struct ClientAuthentication {
    /// A public client names itself with `client_id` alone.
    pub client_id: Option<String>,
    /// `client_secret_post`.
    pub client_secret: Option<String>,
    /// `urn:ietf:params:oauth:client-assertion-type:jwt-bearer` (`private_key_jwt`).
    pub client_assertion_type: Option<String>,
    /// A JWT signed with one of the client's registered keys.
    pub client_assertion: Option<String>,
}

/// The token endpoint's form: the grant's parameters, by `grant_type`, and
/// the client's authentication.
#[derive(Deserialize, ToSchema)]
pub struct TokenForm {
    #[serde(flatten)]
    pub request: TokenRequest,
    #[serde(flatten)]
    pub client: ClientAuthentication,
}

/// A token and its client: introspection (RFC 7662 §2.1) and revocation
/// (RFC 7009 §2.1).
#[derive(Deserialize, ToSchema)]
pub struct TokenHintForm {
    pub token: String,
    /// `access_token` or `refresh_token`; it only orders the search.
    pub token_type_hint: Option<String>,
    #[serde(flatten)]
    pub client: ClientAuthentication,
}

/// RFC 6750 §2.2: the access token in the form, instead of the header.
#[derive(Deserialize, ToSchema)]
pub struct AccessTokenForm {
    pub access_token: String,
}

/// The parameters of an authorization request (RFC 6749 §4.1.1, OpenID
/// Connect Core §3.1.2.1), sent to `/auth` or pushed to `/par`; each struct
/// adds its own fields first.
macro_rules! authorization_request {
    ($(#[$attribute:meta])* pub struct $name:ident { $($own:tt)* }) => {
        $(#[$attribute])*
        pub struct $name {
            $($own)*
            /// `code`, or with the implicit flow on: `token`, `id_token` and
            /// their combinations.
            pub response_type: Option<String>,
            /// One of the client's registered redirect URIs; may be left out
            /// when it has exactly one.
            pub redirect_uri: Option<String>,
            /// Space-separated service ids, plus `openid`, `profile`, `email`,
            /// `offline_access`.
            pub scope: Option<String>,
            pub state: Option<String>,
            /// `query`, `fragment` or `form_post`.
            pub response_mode: Option<String>,
            /// Copied into the ID token.
            pub nonce: Option<String>,
            /// PKCE (RFC 7636): required of public clients.
            pub code_challenge: Option<String>,
            /// `S256`.
            pub code_challenge_method: Option<String>,
            /// `none`, or any of `login`, `consent`, `select_account`.
            pub prompt: Option<String>,
            /// Seconds since the user signed in, at most.
            pub max_age: Option<String>,
            /// The login to prefill on the sign-in page.
            pub login_hint: Option<String>,
            /// The thumbprint of the DPoP key the code is bound to (RFC 9449 §10).
            pub dpop_jkt: Option<String>,
            /// Hub's `offline` asks for a refresh token.
            pub access_type: Option<String>,
            /// Hub's `silent` (as `prompt=none`), `skip`, `required` or `default`.
            pub request_credentials: Option<String>,
        }
    };
}

authorization_request! {
    /// The authorization request, in the query of a GET or the form of a
    /// POST. Without `request_uri`, `response_type` is required.
    #[derive(Deserialize, ToSchema, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct AuthorizeParams {
        /// The service id.
        pub client_id: String,
        /// A pushed request (RFC 9126), sent with `client_id` alone; other
        /// parameters beside it are ignored.
        pub request_uri: Option<String>,
    }
}

authorization_request! {
    /// A pushed authorization request's parameters (RFC 9126 §2.1): those of
    /// the authorization request, without `request_uri`. `response_type` is
    /// required.
    #[derive(Deserialize, ToSchema)]
    pub struct PushedParams {}
}

/// A pushed authorization request: its parameters and the client's
/// authentication (which carries `client_id`).
#[derive(Deserialize, ToSchema)]
pub struct PushedForm {
    #[serde(flatten)]
    pub request: PushedParams,
    #[serde(flatten)]
    pub client: ClientAuthentication,
}

/// The consent page's decision, with the authorization request it answers.
#[derive(Deserialize, ToSchema)]
pub struct ConsentForm {
    /// The page's anti-forgery token, matched with its cookie.
    pub csrf_token: String,
    /// `allow` or `deny`.
    pub decision: String,
    #[serde(flatten)]
    pub request: AuthorizeParams,
}

/// The sign-out page's confirmation.
#[derive(Deserialize, ToSchema)]
pub struct LogoutConfirmation {
    /// The page's anti-forgery token, matched with its cookie.
    pub csrf_token: String,
    pub client_id: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
}

/// RFC 8628 §3.1.
#[derive(Deserialize, ToSchema)]
pub struct DeviceForm {
    pub scope: Option<String>,
    #[serde(flatten)]
    pub client: ClientAuthentication,
}

/// RFC 9126 §2.2.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushedRequest {
    /// Send the browser to the authorization endpoint with this and `client_id`.
    pub request_uri: String,
    pub expires_in: i64,
}

/// RFC 7662 §2.2: `{"active": false}` alone for a token that is not live
/// or not the caller's.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Introspection {
    pub active: bool,
    /// `Bearer`, `DPoP` or `refresh_token`.
    pub token_type: Option<String>,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub sub: Option<String>,
    /// The user's login, for a user's token.
    pub username: Option<String>,
    pub aud: Option<Audience>,
    pub iss: Option<String>,
    pub exp: Option<i64>,
    pub iat: Option<i64>,
    pub jti: Option<String>,
    pub cnf: Option<Confirmation>,
    pub act: Option<ActingParty>,
}

/// OpenID Connect Core §5.3.2; `email` only with the `email` scope,
/// `name` and `preferred_username` only with `profile`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInfo {
    pub sub: String,
    pub name: Option<String>,
    pub preferred_username: Option<String>,
    pub email: Option<String>,
    pub email_verified: Option<bool>,
}

/// A public signing key (RFC 7517): RSA (`n`, `e`), EC (`crv`, `x`, `y`)
/// or OKP (`crv`, `x`).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Jwk {
    pub kty: String,
    #[serde(rename = "use")]
    pub usage: String,
    pub alg: String,
    pub kid: String,
    pub n: Option<String>,
    pub e: Option<String>,
    pub crv: Option<String>,
    pub x: Option<String>,
    pub y: Option<String>,
}

/// The keys that verify idhub's tokens, the current one and those rotated out
/// while tokens they signed may live.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// OpenID Connect Discovery §3 and the RFC 8414 members of what idhub supports.
#[derive(Serialize, ToSchema)]
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
    pub dpop_signing_alg_values_supported: Vec<String>,
    pub backchannel_logout_supported: bool,
    pub backchannel_logout_session_supported: bool,
    pub frontchannel_logout_supported: bool,
    pub grant_types_supported: Vec<String>,
    pub response_types_supported: Vec<String>,
    pub response_modes_supported: Vec<String>,
    pub authorization_response_iss_parameter_supported: bool,
    pub scopes_supported: Vec<String>,
    pub subject_types_supported: Vec<String>,
    pub token_endpoint_auth_methods_supported: Vec<String>,
    pub token_endpoint_auth_signing_alg_values_supported: Vec<String>,
    pub introspection_endpoint_auth_methods_supported: Vec<String>,
    pub introspection_endpoint_auth_signing_alg_values_supported: Vec<String>,
    pub revocation_endpoint_auth_methods_supported: Vec<String>,
    pub revocation_endpoint_auth_signing_alg_values_supported: Vec<String>,
    pub code_challenge_methods_supported: Vec<String>,
    pub id_token_signing_alg_values_supported: Vec<String>,
    pub userinfo_signing_alg_values_supported: Vec<String>,
    pub claims_supported: Vec<String>,
}

/// A registered client (RFC 7591 §3.2.1, RFC 7592 §3): its metadata, and
/// what it manages its registration with.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisteredClient {
    pub client_id: String,
    pub client_id_issued_at: i64,
    pub client_name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub software_version: Option<String>,
    pub backchannel_logout_uri: Option<String>,
    pub jwks_uri: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<serde_json::Value>,
    pub require_pushed_authorization_requests: bool,
    pub dpop_bound_access_tokens: bool,
    // The stored extras, listed here rather than flattened: a flattened
    // schema cannot be closed.
    pub token_endpoint_auth_method: String,
    pub grant_types: Vec<String>,
    pub response_types: Vec<String>,
    pub scope: Option<String>,
    pub contacts: Option<Vec<String>>,
    pub tos_uri: Option<String>,
    pub policy_uri: Option<String>,
    pub software_id: Option<String>,
    /// Only for clients that authenticate with a secret; shown once.
    pub client_secret: Option<String>,
    /// `0`: the secret does not expire.
    pub client_secret_expires_at: Option<i64>,
    /// The bearer token of `registration_client_uri`; shown once.
    pub registration_access_token: Option<String>,
    pub registration_client_uri: String,
}

/// What any OAuth endpoint may answer besides its success (RFC 6749 §5.2).
#[derive(IntoResponses)]
pub enum OAuthErrors<'a> {
    /// `invalid_request`, `invalid_grant`, `invalid_scope`, `unsupported_grant_type`, …
    #[response(status = 400)]
    BadRequest(#[to_schema] OAuthErrorBody<'a>),
    /// `invalid_client` (with `WWW-Authenticate: Basic`) or `invalid_token`.
    #[response(status = 401)]
    Unauthorized(#[to_schema] OAuthErrorBody<'a>),
    /// `access_denied`, `insufficient_scope`.
    #[response(status = 403)]
    Forbidden(#[to_schema] OAuthErrorBody<'a>),
    /// `server_error`.
    #[response(status = 500)]
    Failed(#[to_schema] OAuthErrorBody<'a>),
    /// `temporarily_unavailable`: the database did not answer in time.
    #[response(status = 503)]
    Unavailable(#[to_schema] OAuthErrorBody<'a>),
}

/// What the authorization endpoint answers a browser with.
#[derive(IntoResponses)]
pub enum AuthorizationPages {
    /// The sign-in or consent page, or a `form_post` answer
    #[response(status = 200, content_type = "text/html")]
    Page(String),
    /// To the client's redirect URI with the code, the tokens or an error; or to the sign-in page
    #[response(status = 303)]
    Redirect,
    /// An unknown client or redirect URI: shown, never redirected
    #[response(status = 400, content_type = "text/html")]
    Refused(String),
}

/// What the consent page's decision is answered with.
#[derive(IntoResponses)]
pub enum ConsentPages {
    /// A `form_post` answer
    #[response(status = 200, content_type = "text/html")]
    Page(String),
    /// To the client's redirect URI with the code, the tokens or `access_denied`
    #[response(status = 303)]
    Redirect,
    /// An unknown client or redirect URI: shown, never redirected
    #[response(status = 400, content_type = "text/html")]
    Refused(String),
}

/// What sign-out answers a browser with.
#[derive(IntoResponses)]
pub enum LogoutPages {
    /// The confirmation page, or the signed-out page
    #[response(status = 200, content_type = "text/html")]
    Page(String),
    /// To the registered `post_logout_redirect_uri`, with `state`
    #[response(status = 303)]
    Redirect,
    /// An unknown client, a `post_logout_redirect_uri` it did not register, or a malformed request (an `id_token_hint` that does not verify is ignored)
    #[response(status = 400, content_type = "text/html")]
    Refused(String),
}

/// A page's form sent back without its anti-forgery token.
#[derive(IntoResponses)]
pub enum ForgedForm {
    /// The anti-forgery token does not match
    #[response(status = 403, content_type = "text/html")]
    Forbidden(String),
}
