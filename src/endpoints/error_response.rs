//! `OAuthError` on the wire (RFC 6749 §5.2, RFC 6750 §3): the status, the
//! JSON body and the `WWW-Authenticate` challenge of each code.
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::oauth2::dpop::DPOP_ALGORITHMS;
use crate::oauth2::error::{ErrorCode, OAuthError};
use crate::rest::request_log::note_error;
use crate::telemetry;

/// RFC 6749 §5.2's error body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct OAuthErrorBody<'a> {
    error: ErrorCode,
    error_description: &'a str,
}

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        if self.retry_after_secs.is_some() {
            return StatusCode::TOO_MANY_REQUESTS;
        }
        match self.code {
            ErrorCode::InvalidClient | ErrorCode::InvalidToken => StatusCode::UNAUTHORIZED,
            // At a resource a bad proof is a 401 with a challenge; at the
            // token endpoint a 400 (RFC 9449 §7.1, §5.2).
            ErrorCode::InvalidDpopProof | ErrorCode::UseDpopNonce if self.dpop_challenge => {
                StatusCode::UNAUTHORIZED
            }
            ErrorCode::AccessDenied | ErrorCode::InsufficientScope => StatusCode::FORBIDDEN,
            ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"));
        if let Some(nonce) = &self.dpop_nonce {
            response.insert_header(("DPoP-Nonce", nonce.as_str()));
        }
        if let Some(seconds) = self.retry_after_secs {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        let description = self.description.replace(['"', '\\'], "'");
        let code = self.code_name();
        match self.code {
            ErrorCode::InvalidClient => {
                response.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"idhub\""));
            }
            ErrorCode::InvalidToken
            | ErrorCode::InsufficientScope
            | ErrorCode::InvalidDpopProof
            | ErrorCode::UseDpopNonce
                if self.dpop_challenge =>
            {
                let value = format!(
                    "DPoP realm=\"idhub\", error=\"{code}\", error_description=\"{description}\", algs=\"{}\"",
                    DPOP_ALGORITHMS.join(" ")
                );
                response.insert_header((header::WWW_AUTHENTICATE, value));
            }
            ErrorCode::InvalidToken | ErrorCode::InsufficientScope => {
                let value = format!(
                    "Bearer realm=\"idhub\", error=\"{code}\", error_description=\"{description}\""
                );
                response.insert_header((header::WWW_AUTHENTICATE, value));
            }
            _ => {}
        }
        let mut response = response.json(OAuthErrorBody {
            error: self.code,
            error_description: &self.description,
        });
        telemetry::oauth_error(&code);
        note_error(&mut response, code);
        response
    }
}
