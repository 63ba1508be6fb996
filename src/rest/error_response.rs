//! `AppError` on the wire: Hub's `{"error", "error_description", "error_field"}`
//! with the matching status.
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::error::{cause_chain, AppError};
use crate::oauth2::dpop::DPOP_ALGORITHMS;

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    error_description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_field: Option<&'a str>,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::MissingCredentials | Self::InvalidToken(_) | Self::DpopChallenge { .. } => {
                StatusCode::UNAUTHORIZED
            }
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Store(store) if store.is_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
            Self::Store(_) | Self::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let description = match self {
            unavailable if unavailable.is_unavailable() => {
                tracing::warn!(error = %cause_chain(self), "database unavailable");
                "the database is unavailable, try again shortly".to_owned()
            }
            Self::Store(_) | Self::Internal { .. } => {
                tracing::error!(error = %cause_chain(self), "internal error");
                "internal error".to_owned()
            }
            other => other.to_string(),
        };
        let mut response = HttpResponse::build(status);
        match self {
            Self::MissingCredentials => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"idhub\""));
            }
            Self::InvalidToken(_) => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    "Bearer realm=\"idhub\", error=\"invalid_token\"",
                ));
            }
            Self::DpopChallenge { code, nonce, .. } => {
                if let Some(nonce) = nonce {
                    response.insert_header(("DPoP-Nonce", nonce.as_str()));
                }
                let value = format!(
                    "DPoP realm=\"idhub\", error=\"{code}\", algs=\"{}\"",
                    DPOP_ALGORITHMS.join(" ")
                );
                response.insert_header((header::WWW_AUTHENTICATE, value));
            }
            Self::TooManyRequests {
                retry_after_secs, ..
            } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            _ => {}
        }
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        response.json(ErrorBody {
            error: status.canonical_reason().unwrap_or("Error"),
            error_description: description,
            error_field: self.field(),
        })
    }
}
