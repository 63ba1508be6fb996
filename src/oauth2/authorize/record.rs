//! What an allowed authorization request leaves in the database.
use chrono::{Duration, NaiveDateTime};

use super::request::AuthRequest;
use crate::db::{self, DbConn};
use crate::error::AppError;
use crate::oauth2::codes::{self, NewCode};
use crate::oauth2::{consents, grants, par};
use crate::scope;

/// A request the user allowed (or needed not be asked about).
pub struct Allowed<'a> {
    pub request: &'a AuthRequest,
    pub client_id: &'a str,
    pub user_id: &'a str,
    pub auth_time: NaiveDateTime,
    /// The browser session's public id (`sid`), kept on the grant.
    pub sid: Option<&'a str>,
    /// How the session signed in, kept on the grant.
    pub amr: Option<&'a str>,
    /// The user just gave consent on the consent page.
    pub record_consent: bool,
    /// The pushed request (its `request_uri`) this one came from.
    pub pushed: Option<&'a str>,
}

/// What an allowed request leaves behind, in one transaction: the consent (when
/// the user just gave it), a grant, and the code when the response has one.
/// A pushed request is used up here, once, whichever instance serves it.
/// Returns the grant id and the code.
pub fn record_authorization(
    conn: &mut DbConn,
    allowed: Allowed<'_>,
    code_ttl: Duration,
    now: NaiveDateTime,
) -> Result<(String, Option<String>), AppError> {
    let Allowed {
        request,
        client_id,
        user_id,
        auth_time,
        sid,
        amr,
        record_consent,
        pushed,
    } = allowed;
    db::transaction(conn, |conn| {
        if let Some(uri) = pushed {
            if !par::consume(conn, uri, now)? {
                return Err(AppError::bad_request(
                    "The request_uri is expired or already used.",
                ));
            }
        }
        if record_consent {
            consents::record(conn, user_id, client_id, &request.consent_scope(), now)?;
        }
        let scope_text = scope::join(&request.scope);
        let sign_in = grants::SignIn {
            sid,
            amr,
            auth_time: Some(auth_time),
        };
        let grant = grants::create(conn, client_id, Some(user_id), &scope_text, sign_in, now)?;
        let code = match request.response_type.code {
            true => Some(codes::issue(
                conn,
                NewCode {
                    grant_id: &grant.id,
                    redirect_uri: &request.target.redirect_uri,
                    scope: &scope_text,
                    code_challenge: request.code_challenge.as_deref(),
                    nonce: request.nonce.as_deref(),
                    auth_time,
                    offline: request.offline,
                    dpop_jkt: request.dpop_jkt.as_deref(),
                },
                code_ttl,
                now,
            )?),
            false => None,
        };
        Ok((grant.id, code))
    })
}
