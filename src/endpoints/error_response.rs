//! `OAuthError` on the wire (RFC 6749 §5.2, RFC 6750 §3): the status, the
//! JSON body and the `WWW-Authenticate` challenge of each code.
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::oauth2::error::{ErrorCode, OAuthError};

#[derive(Serialize)]
struct Body<'a> {
    error: ErrorCode,
    error_description: &'a str,
}

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        match self.code {
            ErrorCode::InvalidClient | ErrorCode::InvalidToken => StatusCode::UNAUTHORIZED,
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
        match self.code {
            ErrorCode::InvalidClient => {
                response.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"idhub\""));
            }
            ErrorCode::InvalidToken | ErrorCode::InsufficientScope => {
                let code = if self.code == ErrorCode::InvalidToken {
                    "invalid_token"
                } else {
                    "insufficient_scope"
                };
                let value = format!(
                    "Bearer realm=\"idhub\", error=\"{code}\", error_description=\"{}\"",
                    self.description.replace(['"', '\\'], "'")
                );
                response.insert_header((header::WWW_AUTHENTICATE, value));
            }
            _ => {}
        }
        response.json(Body {
            error: self.code,
            error_description: &self.description,
        })
    }
}
