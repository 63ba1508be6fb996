//! A NUL byte cannot be stored in a PostgreSQL text column: a query carrying
//! one fails inside the database. No identifier, token or query of idhub ever
//! holds one, so a request whose URL encodes it (`%00`) is refused at the
//! door with a 400: an error page for a browser, an OAuth `invalid_request`
//! under the OAuth endpoints, a Hub-shaped error elsewhere.
use actix_web::dev::ServiceRequest;
use actix_web::{HttpResponse, ResponseError};

use crate::error::AppError;
use crate::oauth2::error::OAuthError;
use crate::oidc::discovery::OAUTH_BASE;
use crate::rest::error_bodies::for_a_browser;
use crate::web::page::PageError;

/// True when a path or query string encodes a NUL byte.
pub fn has_encoded_nul(uri: &str) -> bool {
    uri.as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
}

/// The refusal of a request whose URL carries a NUL byte; None for others.
pub fn refusal(req: &ServiceRequest) -> Option<HttpResponse> {
    let uri = req.uri();
    if !has_encoded_nul(uri.path()) && !uri.query().is_some_and(has_encoded_nul) {
        return None;
    }
    let message = "the request contains a NUL character";
    // Before routing, a browser is known by what it accepts: the
    // authorization endpoint opened from a link gets a page, not JSON.
    Some(if for_a_browser(req.request(), false) {
        PageError::bad_request(
            "This address contains a NUL character, which no page of idhub takes.",
        )
        .error_response()
    } else if req.path().starts_with(OAUTH_BASE) {
        OAuthError::invalid_request(message).error_response()
    } else {
        AppError::bad_request(message).error_response()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_percent_zero_zero_only() {
        assert!(has_encoded_nul("/api/rest/users/%00"));
        assert!(has_encoded_nul("/x?query=a%00b"));
        assert!(!has_encoded_nul("/x?query=100%25"));
        assert!(!has_encoded_nul("/x?a=%0A"));
    }
}
