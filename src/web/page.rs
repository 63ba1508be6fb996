//! HTML responses: every page carries a CSP that forbids framing and scripts
//! (the form_post page allows its one script by nonce), and errors in the
//! browser flow are 4xx pages, never redirects to unverified clients.
use actix_web::cookie::Cookie;
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use super::templates;
use crate::error::{cause_chain, AppError};

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
                   frame-ancestors 'none'; base-uri 'none'";

/// The host part of a URI, as a user reads where a link goes.
pub fn host_of(uri: &str) -> String {
    url::Url::parse(uri)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
        .unwrap_or_else(|| uri.to_owned())
}

pub fn render(
    status: StatusCode,
    page: &impl Template,
    cookies: Vec<Cookie<'static>>,
) -> HttpResponse {
    render_with_csp(status, page, cookies, CSP.to_owned())
}

pub fn render_with_csp(
    status: StatusCode,
    page: &impl Template,
    cookies: Vec<Cookie<'static>>,
    csp: String,
) -> HttpResponse {
    let body = match page.render() {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(%error, "template failed");
            return PageError::internal().error_response();
        }
    };
    let mut response = HttpResponse::build(status);
    response
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, csp))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"));
    for cookie in cookies {
        response.cookie(cookie);
    }
    response.body(body)
}

/// A page with one inline script, allowed by a fresh nonce the template
/// puts on its `<script>` (the page's `script_nonce`).
pub fn render_with_script(
    status: StatusCode,
    page: &impl Template,
    cookies: Vec<Cookie<'static>>,
    nonce: &str,
) -> HttpResponse {
    render_with_csp(
        status,
        page,
        cookies,
        format!("{CSP}; script-src 'nonce-{nonce}'"),
    )
}

/// A redirect that also sets cookies (303 so a POST becomes a GET).
pub fn see_other(location: &str, cookies: Vec<Cookie<'static>>) -> HttpResponse {
    let mut response = HttpResponse::SeeOther();
    response
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    for cookie in cookies {
        response.cookie(cookie);
    }
    response.finish()
}

/// An error shown to the person in the browser.
#[derive(Debug, thiserror::Error)]
#[error("{title}: {message}")]
pub struct PageError {
    pub status: StatusCode,
    pub title: String,
    pub message: String,
}

impl PageError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            title: "This request cannot be served".into(),
            message: message.into(),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            title: "Not allowed".into(),
            message: message.into(),
        }
    }

    pub fn internal() -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            title: "Something went wrong".into(),
            message: "Please try again later.".into(),
        }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let page = templates::Error {
            title: self.title.clone(),
            message: self.message.clone(),
        };
        let body = page.render().unwrap_or_else(|_| self.message.clone());
        HttpResponse::build(self.status)
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
            .insert_header((header::X_FRAME_OPTIONS, "DENY"))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(body)
    }
}

impl From<AppError> for PageError {
    fn from(error: AppError) -> Self {
        match error {
            unavailable if unavailable.is_unavailable() => {
                tracing::warn!(error = %cause_chain(&unavailable), "database unavailable");
                Self {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    title: "Temporarily unavailable".into(),
                    message: "The database is unavailable; try again shortly.".into(),
                }
            }
            AppError::BadRequest { message, .. } | AppError::Conflict { message, .. } => {
                Self::bad_request(message)
            }
            AppError::NotFound(message) => Self {
                status: StatusCode::NOT_FOUND,
                title: "Not found".into(),
                message,
            },
            AppError::Forbidden(message) => Self::forbidden(message),
            AppError::PayloadTooLarge(_) | AppError::UnsupportedMediaType(_) => {
                Self::bad_request(error.to_string())
            }
            AppError::TooManyRequests { message, .. } => Self {
                status: StatusCode::TOO_MANY_REQUESTS,
                title: "Too many requests".into(),
                message,
            },
            other => {
                tracing::error!(error = %cause_chain(&other), "page failure");
                Self::internal()
            }
        }
    }
}

impl From<diesel::result::Error> for PageError {
    fn from(error: diesel::result::Error) -> Self {
        AppError::from(error).into()
    }
}
