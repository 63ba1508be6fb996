//! Behind a proxy that terminates TLS, an issuer left at http is a mistake
//! that does not show: pages load, but discovery and tokens name http URLs
//! and session cookies go without `Secure`. When a trusted proxy says a
//! request came over https and the issuer is http, idhub refuses it (421
//! Misdirected Request) with the setting to fix, and logs why once. Health
//! checks still answer, so the proxy keeps the instance in rotation while
//! an operator reads the log.
use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::dev::ServiceRequest;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse, ResponseError};
use serde_json::json;

use crate::oidc::discovery::OAUTH_BASE;
use crate::rest::error_bodies::for_a_browser;
use crate::state::AppState;
use crate::web::page::PageError;

static LOGGED: AtomicBool = AtomicBool::new(false);

/// The scheme a proxy says the client used: the last `X-Forwarded-Proto`
/// entry (proxies append), else `proto=` of the last `Forwarded` element.
fn forwarded_proto(headers: &header::HeaderMap) -> Option<String> {
    let last = |name: header::HeaderName| {
        headers
            .get_all(name)
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .last()
            .map(str::to_owned)
    };
    if let Some(proto) = last(header::HeaderName::from_static("x-forwarded-proto")) {
        return Some(proto.to_ascii_lowercase());
    }
    last(header::FORWARDED)?
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("proto"))
        .map(|(_, value)| value.trim().trim_matches('"').to_ascii_lowercase())
}

/// The refusal of an https request from a trusted proxy to an http issuer;
/// None for every other request.
pub fn refusal(req: &ServiceRequest) -> Option<HttpResponse> {
    let headers = req.headers();
    // Most requests carry neither header: no further look.
    if !headers.contains_key("x-forwarded-proto") && !headers.contains_key(header::FORWARDED) {
        return None;
    }
    if req.path().starts_with("/health") {
        return None;
    }
    let state = req.app_data::<web::Data<AppState>>()?;
    if !state.issuer.starts_with("http://") {
        return None;
    }
    let peer = req.peer_addr()?.ip();
    if !state.trusted_proxies.contains(&peer) || forwarded_proto(headers)? != "https" {
        return None;
    }
    let fix = format!(
        "the issuer is {} but this request came over https through a proxy: \
         set IDHUB_ISSUER to the https URL clients use",
        state.issuer
    );
    if !LOGGED.swap(true, Ordering::Relaxed) {
        tracing::warn!("refusing requests: {fix} (logged once)");
    }
    let status = StatusCode::MISDIRECTED_REQUEST;
    Some(if for_a_browser(req.request(), false) {
        PageError {
            status,
            title: "idhub is not configured for this address".into(),
            message: format!(
                "This address is served over https, but idhub is set up for {}. \
                 An administrator must set IDHUB_ISSUER to the https address.",
                state.issuer
            ),
        }
        .error_response()
    } else {
        let error = match req.path().starts_with(OAUTH_BASE) {
            true => "invalid_request",
            false => "Misdirected Request",
        };
        HttpResponse::build(status)
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(json!({ "error": error, "error_description": fix }))
    })
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};

    use super::*;

    fn with(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        headers
    }

    #[test]
    fn the_last_proxy_says_how_the_request_came() {
        assert_eq!(forwarded_proto(&with(&[])), None);
        let https = Some("https".to_owned());
        assert_eq!(
            forwarded_proto(&with(&[("x-forwarded-proto", "HTTPS")])),
            https
        );
        assert_eq!(
            forwarded_proto(&with(&[("x-forwarded-proto", "http, https")])),
            https
        );
        assert_eq!(
            forwarded_proto(&with(&[("forwarded", "for=192.0.2.1;proto=\"https\"")])),
            https
        );
        assert_eq!(
            forwarded_proto(&with(&[(
                "forwarded",
                "proto=https, for=10.0.0.1;proto=http"
            )])),
            Some("http".to_owned())
        );
    }
}
