//! One log line per request: method, route template, status, latency, the
//! database visits it made, the client's address and a request id (echoed in `X-Request-Id`), plus what
//! the handlers noted: the OAuth client, the user and the OAuth error code.
//! Never a query string, a header value or a body: they may carry codes,
//! tokens and secrets.
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage, HttpRequest, HttpResponse};

use crate::state::AppState;
use crate::telemetry;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// Longest request id taken from a client, and longest noted value.
const MAX_NOTED_CHARS: usize = 128;

/// What handlers noted of a request, in one extension (one allocation).
#[derive(Default)]
struct Noted {
    /// The OAuth client a request named.
    client_id: Option<String>,
    /// The user a request acted for.
    user_id: Option<String>,
}

/// The OAuth error code of an answer.
struct LoggedError(String);

fn note(req: &HttpRequest, write: impl FnOnce(&mut Noted)) {
    let mut extensions = req.extensions_mut();
    match extensions.get_mut::<Noted>() {
        Some(noted) => write(noted),
        None => {
            let mut noted = Noted::default();
            write(&mut noted);
            extensions.insert(noted);
        }
    }
}

/// Notes the client a request names (an id anyone may send, so cut short
/// and without control characters).
pub fn note_client(req: &HttpRequest, client_id: &str) {
    note(req, |noted| noted.client_id = Some(printable(client_id)));
}

/// Notes the user a request acts for.
pub fn note_user(req: &HttpRequest, user_id: &str) {
    note(req, |noted| noted.user_id = Some(printable(user_id)));
}

/// Notes the OAuth error code an answer carries.
pub fn note_error(response: &mut HttpResponse, code: String) {
    response.extensions_mut().insert(LoggedError(code));
}

fn printable(text: &str) -> String {
    // Ids are almost always plain already: one copy then, no char walk.
    if text.len() <= MAX_NOTED_CHARS && !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    text.chars()
        .filter(|c| !c.is_control())
        .take(MAX_NOTED_CHARS)
        .collect()
}

/// The request id a trusted proxy set, when it is a plain token, else a new
/// one: anyone else could reuse another request's id to muddle the log.
fn request_id(headers: &HeaderMap, from_trusted_proxy: bool) -> String {
    headers
        .get(&REQUEST_ID)
        .filter(|_| from_trusted_proxy)
        .and_then(|value| value.to_str().ok())
        .filter(|id| {
            (1..=MAX_NOTED_CHARS).contains(&id.len())
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        })
        .map(str::to_owned)
        // From the thread's generator: no system call on every request.
        .unwrap_or_else(|| format!("{:032x}", rand::random::<u128>()))
}

pub async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let state = req.app_data::<web::Data<AppState>>();
    let from_trusted_proxy = state.is_some_and(|state| {
        req.peer_addr()
            .is_some_and(|peer| state.trusted_proxies.contains(&peer.ip()))
    });
    let id = request_id(req.headers(), from_trusted_proxy);
    let method = printable(req.method().as_str());
    let method_label = telemetry::method_label(req.method().as_str());
    let address = state
        .and_then(|state| state.client_address(req.request()))
        .map(|ip| ip.to_string());
    let (answered, db_visits) = crate::db::visits::counted(next.call(req)).await;
    let mut response = match answered {
        Ok(response) => response,
        Err(error) => {
            let status = error.as_response_error().status_code().as_u16();
            let seconds = started.elapsed().as_secs_f64();
            telemetry::request(method_label, None, status, seconds);
            tracing::info!(
                target: "idhub::request",
                request_id = %id,
                method = %method,
                status,
                address = address.as_deref(),
                "request failed in a middleware"
            );
            return Err(error);
        }
    };
    let elapsed = started.elapsed();
    // Whole microseconds, so the figure prints short.
    let latency_ms = elapsed.as_micros() as f64 / 1000.0;
    let route = response.request().match_pattern();
    {
        let request = response.request();
        let extensions = request.extensions();
        let noted = extensions.get::<Noted>();
        let answer_extensions = response.response().extensions();
        let error = answer_extensions.get::<LoggedError>();
        tracing::info!(
            target: "idhub::request",
            request_id = %id,
            method = %method,
            route = route.as_deref().unwrap_or("-"),
            status = response.status().as_u16(),
            latency_ms,
            db_visits,
            address = address.as_deref(),
            client_id = noted.and_then(|n| n.client_id.as_deref()),
            user_id = noted.and_then(|n| n.user_id.as_deref()),
            error = error.map(|e| e.0.as_str()),
            "request"
        );
    }
    let status = response.status().as_u16();
    telemetry::request(
        method_label,
        route.as_deref(),
        status,
        elapsed.as_secs_f64(),
    );
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_id(id: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(id) {
            headers.insert(REQUEST_ID, value);
        }
        headers
    }

    #[test]
    fn a_request_id_is_taken_only_from_a_trusted_proxy_and_only_when_plain() {
        assert_eq!(request_id(&with_id("edge-42.a_b"), true), "edge-42.a_b");
        let fresh = request_id(&with_id("edge-42"), false);
        assert_ne!(fresh, "edge-42");
        assert_eq!(fresh.len(), 32);
        assert_ne!(request_id(&with_id("two words"), true), "two words");
        let long = "x".repeat(MAX_NOTED_CHARS + 1);
        assert_ne!(request_id(&with_id(&long), true), long);
    }

    #[test]
    fn noted_values_lose_control_characters_and_length() {
        assert_eq!(printable("client\n\u{1b}[31m"), "client[31m");
        assert_eq!(printable(&"y".repeat(500)).len(), MAX_NOTED_CHARS);
        assert_eq!(printable("plain-id"), "plain-id");
    }
}
