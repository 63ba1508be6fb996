//! What the OpenAPI document says of the OAuth 2.0 / OpenID Connect
//! endpoints beyond the handlers' annotations and the wire types they read
//! and answer with (the authorization request, the token request, discovery,
//! JWKS, introspection, userinfo, PAR, the error body): the forms' client
//! authentication, the shapes of the answers that are pages, and the shapes
//! the handlers still read by name. The answers are closed
//! (`additionalProperties: false`), so an answer with a member the document
//! lacks fails the OpenAPI test.
use serde::Deserialize;
use utoipa::{IntoResponses, ToSchema};

use super::error_response::OAuthErrorBody;
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
    /// `temporarily_unavailable` with `Retry-After`: a rate was exceeded
    /// (open registration).
    #[response(status = 429)]
    TooMany(#[to_schema] OAuthErrorBody<'a>),
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
