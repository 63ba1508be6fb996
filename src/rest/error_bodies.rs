//! Errors actix-web answers by itself (405 for a method a resource lacks, and
//! the like) come with an empty body. Clients parse error bodies, so such an
//! answer gets one: an OAuth error under the OAuth endpoints, a Hub-shaped
//! error elsewhere, with the status unchanged.
use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError};

use serde_json::json;

use crate::oauth2::error::OAuthError;
use crate::oidc::discovery::OAUTH_BASE;

/// The body of an error that had none, for a request to `path`.
pub fn error_body(path: &str, status: StatusCode) -> HttpResponse {
    let reason = status.canonical_reason().unwrap_or("Error");
    if path.starts_with(OAUTH_BASE) {
        let mut response = OAuthError::invalid_request(reason.to_lowercase()).error_response();
        *response.status_mut() = status;
        return response;
    }
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "error": reason, "error_description": reason.to_lowercase() }))
}

/// Middleware (`actix_web::middleware::from_fn`).
pub async fn fill_empty_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let response = next.call(req).await?.map_into_boxed_body();
    let status = response.status();
    let empty = matches!(
        response.response().body().size(),
        BodySize::None | BodySize::Sized(0)
    );
    if !(status.is_client_error() && empty) {
        return Ok(response);
    }
    let (req, mut original) = response.into_parts();
    let mut filled = error_body(req.path(), status);
    for (name, value) in original.headers_mut().drain() {
        if let Some(name) = name {
            if !filled.headers().contains_key(&name) {
                filled.headers_mut().insert(name, value);
            }
        }
    }
    Ok(ServiceResponse::new(req, filled))
}
