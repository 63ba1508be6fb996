//! Client authentication at the token, introspection and revocation endpoints:
//! HTTP Basic (`client_secret_basic`), form fields (`client_secret_post`), a
//! signed client assertion (`private_key_jwt`, proven beforehand by
//! `client_assertion::prove`), or `client_id` alone for public clients
//! (`none`). Unknown clients and wrong secrets answer alike.
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::client_assertion::{Proof, JWT_BEARER};
use super::error::OAuthError;
use crate::db::{DbConn, DbPool};
use crate::registry::cache::ServiceCache;
use crate::registry::model::Service;
use crate::secrets;

#[derive(Debug, Clone)]
pub struct PresentedClient {
    pub client_id: String,
    pub secret: Option<String>,
    /// A `private_key_jwt` assertion, until it is proven.
    pub assertion: Option<String>,
    /// Set only by `client_assertion::prove` once the assertion checked out.
    pub proof: Option<Proof>,
    /// How the credentials came, as RFC 7591's `token_endpoint_auth_method`
    /// names it.
    pub method: &'static str,
}

pub const SECRET_BASIC: &str = "client_secret_basic";
pub const SECRET_POST: &str = "client_secret_post";
pub const PRIVATE_KEY_JWT: &str = "private_key_jwt";
pub const NONE: &str = "none";

/// An authenticated client; `confidential` is false for a public client that
/// sent only its id.
#[derive(Debug, Clone)]
pub struct Client {
    pub service: Arc<Service>,
    pub confidential: bool,
}

/// Where a client may put its credentials: the `Authorization` header (an
/// unreadable header is `Some("")`) and the `client_id` and `client_secret`
/// form fields.
#[derive(Debug, Default, Clone, Copy)]
pub struct Credentials<'a> {
    pub authorization: Option<&'a str>,
    pub form_id: Option<&'a str>,
    pub form_secret: Option<&'a str>,
    pub form_assertion_type: Option<&'a str>,
    pub form_assertion: Option<&'a str>,
}

/// Reads the client's credentials; using both methods at once is refused (RFC 6749 §2.3).
pub fn presented(credentials: Credentials<'_>) -> Result<Option<PresentedClient>, OAuthError> {
    let basic = match credentials.authorization {
        Some(value) => parse_basic(value)?,
        None => None,
    };
    let (form_id, form_secret) = (credentials.form_id, credentials.form_secret);
    if let Some(assertion) = assertion_of(credentials)? {
        if basic.is_some() || form_secret.is_some() {
            return Err(OAuthError::invalid_request(
                "use one client authentication method, not two",
            ));
        }
        return Ok(Some(assertion));
    }
    match basic {
        Some(_) if form_secret.is_some() => Err(OAuthError::invalid_request(
            "use one client authentication method, not two",
        )),
        Some(basic) => {
            if form_id.is_some_and(|id| id != basic.client_id) {
                return Err(OAuthError::invalid_request(
                    "client_id differs from the authenticated client",
                ));
            }
            Ok(Some(basic))
        }
        None => Ok(form_id.map(|id| PresentedClient {
            client_id: id.to_owned(),
            secret: form_secret.map(str::to_owned),
            assertion: None,
            proof: None,
            method: match form_secret {
                Some(_) => SECRET_POST,
                None => NONE,
            },
        })),
    }
}

/// A `private_key_jwt` assertion (RFC 7523 §2.2): the client is its `sub`,
/// which a `client_id` beside it must equal.
fn assertion_of(credentials: Credentials<'_>) -> Result<Option<PresentedClient>, OAuthError> {
    let (kind, assertion) = match (credentials.form_assertion_type, credentials.form_assertion) {
        (None, None) => return Ok(None),
        (Some(kind), Some(assertion)) => (kind, assertion),
        _ => {
            return Err(OAuthError::invalid_request(
                "client_assertion and client_assertion_type go together",
            ))
        }
    };
    if kind != JWT_BEARER {
        return Err(OAuthError::invalid_client());
    }
    let subject =
        super::client_assertion::subject(assertion).ok_or_else(OAuthError::invalid_client)?;
    if credentials.form_id.is_some_and(|id| id != subject) {
        return Err(OAuthError::invalid_client());
    }
    Ok(Some(PresentedClient {
        client_id: subject,
        secret: None,
        assertion: Some(assertion.to_owned()),
        proof: None,
        method: PRIVATE_KEY_JWT,
    }))
}

fn parse_basic(value: &str) -> Result<Option<PresentedClient>, OAuthError> {
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Err(OAuthError::invalid_client());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        // A Bearer header belongs to other endpoints; here it is not client authentication.
        return Ok(None);
    }
    let decoded = STANDARD
        .decode(encoded.trim())
        .map_err(|_| OAuthError::invalid_client())?;
    let decoded = String::from_utf8(decoded).map_err(|_| OAuthError::invalid_client())?;
    let (id, secret) = decoded
        .split_once(':')
        .ok_or_else(OAuthError::invalid_client)?;
    // RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
    let decode = |part: &str| -> String {
        url::form_urlencoded::parse(format!("v={part}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let client_id = decode(id);
    // No client id has control characters; a NUL would fail in PostgreSQL.
    if client_id.is_empty() || client_id.chars().any(char::is_control) {
        return Err(OAuthError::invalid_client());
    }
    let secret = Some(decode(secret)).filter(|s| !s.is_empty());
    Ok(Some(PresentedClient {
        client_id,
        // A public client may send its id as Basic with an empty secret.
        method: match secret {
            Some(_) => SECRET_BASIC,
            None => NONE,
        },
        secret,
        assertion: None,
        proof: None,
    }))
}

/// Authenticates inside a database step (the cache answers when it can).
pub fn authenticate(
    conn: &mut DbConn,
    services: &ServiceCache,
    presented: &PresentedClient,
) -> Result<Client, OAuthError> {
    let service = services.lookup(conn, &presented.client_id)?;
    check(service, presented)
}

/// Authenticates from memory when the service is cached; reads it otherwise.
pub async fn authenticate_cached(
    pool: &DbPool,
    services: &Arc<ServiceCache>,
    presented: &PresentedClient,
) -> Result<Client, OAuthError> {
    let service = services.get(pool, &presented.client_id).await?;
    check(service, presented)
}

fn check(service: Option<Arc<Service>>, presented: &PresentedClient) -> Result<Client, OAuthError> {
    let Some(service) = service else {
        // Spend the same work as a real check so timing tells nothing.
        let _ = secrets::matches(presented.secret.as_deref().unwrap_or(""), "");
        return Err(OAuthError::invalid_client());
    };
    let confidential = match (&presented.proof, presented.secret.as_deref()) {
        (Some(proof), None) if proof.client_id() == service.id => true,
        (Some(_), _) => return Err(OAuthError::invalid_client()),
        (None, Some(secret)) if secrets::matches(secret, &service.secret_hash) => true,
        // An assertion nobody proved is no authentication.
        (None, None) if service.public_client && presented.assertion.is_none() => false,
        _ => return Err(OAuthError::invalid_client()),
    };
    // A client that registered how it authenticates uses that way only
    // (RFC 7591 §2): a leaked secret of a private_key_jwt client is no key.
    if let Some(registered) = service.token_endpoint_auth_method.as_deref() {
        if registered != presented.method {
            return Err(OAuthError::new(
                super::error::ErrorCode::InvalidClient,
                format!("this client registered token_endpoint_auth_method {registered}"),
            ));
        }
    }
    Ok(Client {
        service,
        confidential,
    })
}

/// Requires authentication as a confidential client.
pub fn require_client(presented: Option<PresentedClient>) -> Result<PresentedClient, OAuthError> {
    presented.ok_or_else(OAuthError::invalid_client)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let header = format!("Basic {}", STANDARD.encode("my%20app:s%3Acret"));
        let client = parse_basic(&header).unwrap().unwrap();
        assert_eq!(client.client_id, "my app");
        assert_eq!(client.secret.as_deref(), Some("s:cret"));
        assert!(parse_basic("Basic !!!").is_err());
        assert!(parse_basic(&format!("Basic {}", STANDARD.encode("nocolon"))).is_err());
        assert!(parse_basic("Bearer abc").unwrap().is_none());
    }
}
