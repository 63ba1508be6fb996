//! Pushed authorization requests (RFC 9126): the parameters a client sent
//! to the PAR endpoint, stored under the hash of the `request_uri` it got,
//! used once within a minute by whichever instance serves the authorization
//! request that names it: read while the user signs in and consents, used
//! up when the code or tokens are issued. The checks of the request are the authorization
//! endpoint's own (`oauth2::authorize::check`), run when it is pushed.
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::authorize::request::AuthorizationRequest;
use crate::db::schema::pushed_requests;
use crate::db::unexpired::unexpired;
use crate::db::DbConn;
use crate::error::{AppError, StoreError};
use crate::secrets;

pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
/// How long a pushed request may wait for its authorization request.
pub const LIFETIME_SECS: i64 = 60;

/// Stores a checked request; returns its `request_uri`.
pub fn push(
    conn: &mut DbConn,
    client_id: &str,
    request: &AuthorizationRequest,
    now: NaiveDateTime,
) -> Result<String, AppError> {
    let request_uri = format!("{REQUEST_URI_PREFIX}{}", secrets::generate());
    // Stored as name and value pairs, the form every idhub version reads, so
    // instances of two versions (during an upgrade) share pushed requests.
    let params = serde_json::to_string(&request.pairs())
        .map_err(|e| AppError::internal_from("pushed request", e))?;
    crate::db::transaction(conn, |conn| {
        diesel::insert_into(pushed_requests::table)
            .values((
                pushed_requests::uri_hash.eq(secrets::hash(&request_uri)),
                pushed_requests::client_id.eq(client_id),
                pushed_requests::params.eq(params),
                pushed_requests::expires_at.eq(now + Duration::seconds(LIFETIME_SECS)),
            ))
            .execute(conn)?;
        Ok::<_, StoreError>(())
    })?;
    Ok(request_uri)
}

/// A pushed request as the authorization endpoint reads it back.
#[derive(Debug, Clone)]
pub struct Pushed {
    pub request: AuthorizationRequest,
    /// When the client pushed it: a sign-in after that answers its
    /// `prompt=login` and `max_age`.
    pub pushed_at: NaiveDateTime,
}

/// The request pushed as `request_uri` by `client_id`: None when
/// unknown, another client's, expired or already used. Reading does not use
/// it up: the browser comes back with it after signing in and consenting.
pub fn load(
    conn: &mut DbConn,
    client_id: &str,
    request_uri: &str,
    now: NaiveDateTime,
) -> Result<Option<Pushed>, AppError> {
    let found: Option<(String, NaiveDateTime)> = pushed_requests::table
        .find(secrets::hash(request_uri))
        .filter(pushed_requests::client_id.eq(client_id))
        .filter(pushed_requests::used_at.is_null())
        .filter(unexpired(pushed_requests::expires_at, now))
        .select((pushed_requests::params, pushed_requests::expires_at))
        .first(conn)
        .optional()?;
    found
        .map(|(text, expires_at)| {
            Ok(Pushed {
                request: stored_request(&text)?,
                pushed_at: expires_at - Duration::seconds(LIFETIME_SECS),
            })
        })
        .transpose()
}

/// A stored request: a list of name and value pairs (as `push` writes), or
/// an object of its parameters.
fn stored_request(text: &str) -> Result<AuthorizationRequest, AppError> {
    let failed = |e| AppError::internal_from("pushed request", e);
    match serde_json::from_str::<Vec<(String, String)>>(text) {
        Ok(pairs) => super::from_params(&pairs).map_err(failed),
        Err(_) => serde_json::from_str(text).map_err(failed),
    }
}

/// Uses the request up as its code or tokens are issued; false when
/// another request did first (or it expired meanwhile).
pub fn consume(
    conn: &mut DbConn,
    request_uri: &str,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    let consumed = diesel::update(
        pushed_requests::table
            .find(secrets::hash(request_uri))
            .filter(pushed_requests::used_at.is_null())
            .filter(unexpired(pushed_requests::expires_at, now)),
    )
    .set(pushed_requests::used_at.eq(now))
    .execute(conn)?;
    Ok(consumed == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_request_reads_back_as_pairs_or_an_object() {
        let request = AuthorizationRequest {
            client_id: Some("app".into()),
            response_type: Some("code".into()),
            scope: Some("openid".into()),
            ..AuthorizationRequest::default()
        };
        let pairs = serde_json::to_string(&request.pairs()).unwrap();
        assert!(pairs.starts_with('['), "{pairs}");
        assert_eq!(stored_request(&pairs).unwrap(), request);
        let object = serde_json::to_string(&request).unwrap();
        assert_eq!(stored_request(&object).unwrap(), request);
        assert!(stored_request("not json").is_err());
    }
}
