//! Errors actix-web answers by itself (405 for a method a resource lacks, 413
//! from a body extractor, 404 for no route, and the like) come with an empty or
//! plain-text body. Clients parse error bodies, so such an answer gets the body
//! of its place, the status unchanged: an error page on the browser pages, an
//! OAuth error under the OAuth endpoints, a Hub-shaped error elsewhere.
use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde_json::json;

use crate::oauth2::error::OAuthError;
use crate::oidc::discovery::OAUTH_BASE;
use crate::web::page::PageError;
use crate::web::page_routes;

/// A browser asked: a request routed to a page (marked where its route is
/// declared, `web::page_routes`), or one no route serves whose client
/// prefers HTML (a person who typed a wrong address).
pub(super) fn for_a_browser(req: &HttpRequest, routed: bool) -> bool {
    if routed {
        return page_routes::is_page(req);
    }
    req.headers()
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| {
            accept
                .split(',')
                .any(|kind| kind.trim().starts_with("text/html"))
        })
}

/// The body of an error that had none, for `req`; `routed` when a route
/// matched it.
fn error_body(req: &HttpRequest, routed: bool, status: StatusCode) -> HttpResponse {
    let path = req.path();
    let reason = status.canonical_reason().unwrap_or("Error");
    let description = reason.to_lowercase();
    if for_a_browser(req, routed) {
        return PageError {
            status,
            title: reason.to_owned(),
            message: match status {
                StatusCode::NOT_FOUND => "There is no page at this address.".to_owned(),
                _ => format!("This request cannot be served ({description})."),
            },
        }
        .error_response();
    }
    if path.starts_with(OAUTH_BASE) {
        let mut response = OAuthError::invalid_request(description).error_response();
        *response.status_mut() = status;
        return response;
    }
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "error": reason, "error_description": description }))
}

/// The answer for a path no route serves.
pub async fn no_route(req: HttpRequest) -> HttpResponse {
    error_body(&req, false, StatusCode::NOT_FOUND)
}

/// True when a client error carries no body a client could parse.
fn lacks_error_body(response: &HttpResponse<BoxBody>) -> bool {
    if !response.status().is_client_error() {
        return false;
    }
    if matches!(response.body().size(), BodySize::None | BodySize::Sized(0)) {
        return true;
    }
    let kind = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    !(kind.starts_with("application/json") || kind.starts_with("text/html"))
}

/// Middleware (`actix_web::middleware::from_fn`).
pub async fn fill_empty_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let response = next.call(req).await?.map_into_boxed_body();
    if !lacks_error_body(response.response()) {
        return Ok(response);
    }
    let status = response.status();
    let (req, mut original) = response.into_parts();
    let routed = req.match_pattern().is_some();
    let mut filled = error_body(&req, routed, status);
    for (name, value) in original.headers_mut().drain() {
        let Some(name) = name else { continue };
        let describes_the_old_body = name == header::CONTENT_TYPE || name == header::CONTENT_LENGTH;
        if !describes_the_old_body && !filled.headers().contains_key(&name) {
            filled.headers_mut().insert(name, value);
        }
    }
    Ok(ServiceResponse::new(req, filled))
}
