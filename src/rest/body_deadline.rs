//! A request body must arrive within `BODY_DEADLINE`. actix-web times the
//! request head only, so a client that sent its headers and then dribbled a
//! byte a minute could hold a connection and its buffers for as long as it
//! liked. Bodies here are small (`MAX_BODY_BYTES`), so the whole body is read
//! first, in time and within the limit, and handed on from memory. Too slow
//! is 408, too large 413; both get their body from `error_bodies`.
use std::time::Duration;

use actix_web::body::{self, BodyStream, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse};

use crate::state::AppState;

/// Long enough for the largest body on a slow mobile link.
pub const BODY_DEADLINE: Duration = Duration::from_secs(10);

/// A request with no body (no length, or length 0, and no transfer coding)
/// passes as it is: GETs pay nothing.
fn carries_body(headers: &actix_web::http::header::HeaderMap) -> bool {
    if headers.contains_key(header::TRANSFER_ENCODING) {
        return true;
    }
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|length| length.to_str().ok())
        .is_some_and(|length| length.trim() != "0")
}

/// The last of the door checks (`door::check_at_the_door`).
pub async fn read_body_in_time(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let limit = req
        .app_data::<web::Data<AppState>>()
        .map(|state| state.settings.max_body_bytes);
    let Some(limit) = limit.filter(|_| carries_body(req.headers())) else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let stream = BodyStream::new(req.take_payload());
    let refused = |req: ServiceRequest, status: StatusCode| {
        let mut response = HttpResponse::new(status);
        // The rest of a body never read makes the connection unusable.
        response
            .head_mut()
            .set_connection_type(actix_web::http::ConnectionType::Close);
        Ok(req.into_response(response))
    };
    match tokio::time::timeout(BODY_DEADLINE, body::to_bytes_limited(stream, limit)).await {
        Err(_) => refused(req, StatusCode::REQUEST_TIMEOUT),
        Ok(Err(_)) => refused(req, StatusCode::PAYLOAD_TOO_LARGE),
        Ok(Ok(Err(_))) => refused(req, StatusCode::BAD_REQUEST),
        Ok(Ok(Ok(bytes))) => {
            req.set_payload(Payload::from(bytes));
            next.call(req)
                .await
                .map(ServiceResponse::map_into_boxed_body)
        }
    }
}
