//! What an authorization request needs from the database, in two visits:
//! `open` (the pushed request, the client and its redirect URIs: stage one,
//! whose refusals are pages) and `load` (the session, the guest, the names of
//! the requested services and the stored consent: the `Loaded` that
//! `decide` reads).
use chrono::NaiveDateTime;

use super::decision::{client_asks_consent, signed_in_with_two_factors, Known, Loaded};
use super::request::{
    self, redirect_uri_for, AuthRequest, AuthorizationRequest, Credentials, ForClient,
};
use crate::config::Settings;
use crate::db::DbConn;
use crate::error::AppError;
use crate::factors;
use crate::oauth2::{consents, par};
use crate::registry::model::Service;
use crate::registry::repo as services_repo;
use crate::sessions::repo as sessions_repo;
use crate::users::model::{User, GUEST_LOGIN};
use crate::users::repo as users_repo;

/// A request whose client and redirect URI are verified: from here on its
/// errors go back to the client.
#[derive(Debug)]
pub struct Opened {
    pub client: Service,
    pub redirect_uri: String,
    /// The request itself: the pushed one when `request_uri` named it.
    pub request: AuthorizationRequest,
    /// The `request_uri` of a pushed request.
    pub pushed: Option<String>,
    /// When it was pushed: the row's expiry less its lifetime, so a change
    /// of `par::LIFETIME_SECS` shifts it for requests pushed before (for a
    /// minute), and it is the pushing instance's clock.
    pub pushed_at: Option<NaiveDateTime>,
}

impl Opened {
    /// Stage two (`request::check`), with what only the opened request
    /// knows: when a pushed one was pushed. Errors go to the client.
    pub fn check(&self, settings: &Settings) -> Result<AuthRequest, ForClient> {
        let checked = request::check(
            &self.client,
            self.redirect_uri.clone(),
            &self.request,
            settings,
        )?;
        Ok(AuthRequest {
            asked_at: self.pushed_at,
            ..checked
        })
    }
}

/// Why a request is refused before its client is verified: shown on a page,
/// never sent to a redirect URI.
pub type Refusal = String;

/// Stage one. A request naming a `request_uri` is the one its client pushed
/// (RFC 9126 §4); other parameters beside it are ignored.
pub fn open(
    conn: &mut DbConn,
    sent: AuthorizationRequest,
    par_required_everywhere: bool,
    now: NaiveDateTime,
) -> Result<Result<Opened, Refusal>, AppError> {
    let (request, pushed, pushed_at) = match sent.request_uri {
        None => (sent, None, None),
        Some(uri) => {
            let Some(client_id) = sent.client_id else {
                return Ok(Err("A request_uri needs its client_id.".into()));
            };
            match par::load(conn, &client_id, &uri, now)? {
                Some(pushed) => (pushed.request, Some(uri), Some(pushed.pushed_at)),
                None => {
                    return Ok(Err(
                        "The request_uri is unknown, expired or already used.".into()
                    ))
                }
            }
        }
    };
    let Some(client_id) = request.client_id.as_deref() else {
        return Ok(Err(
            "The request names no client (client_id is missing).".into()
        ));
    };
    let (client, registered) = match services_repo::find_with_uris(conn, client_id) {
        Ok(found) => found,
        Err(AppError::NotFound(_)) => return Ok(Err("The client is not registered.".into())),
        Err(other) => return Err(other),
    };
    if pushed.is_none() && (client.par_required || par_required_everywhere) {
        return Ok(Err(
            "This client must push its authorization requests first (RFC 9126).".into(),
        ));
    }
    Ok(
        redirect_uri_for(&client, &registered, &request).map(|redirect_uri| Opened {
            client,
            redirect_uri,
            request,
            pushed,
            pushed_at,
        }),
    )
}

/// Stage two, in one visit. `session_id` is the browser's session cookie.
pub fn load(
    conn: &mut DbConn,
    request: &AuthRequest,
    client: &Service,
    session_id: Option<&str>,
    now: NaiveDateTime,
) -> Result<Loaded, AppError> {
    let service_names = services_repo::registered_names(conn, &request.requested.services)?;
    if service_names.is_err() {
        return Ok(Loaded {
            session: None,
            guest: None,
            service_names,
            can_step_up: false,
        });
    }
    // Whose consent decides is `decide`'s to say: read it for each user the
    // request may be for, when the client asks users at all.
    let consent_read = client_asks_consent(client) && !request.force_consent;
    let consented = |conn: &mut DbConn, user: &User| -> Result<bool, AppError> {
        Ok(consent_read && consents::covers(conn, &user.id, &client.id, &request.consent_scope())?)
    };
    let session = match session_id {
        Some(id) => sessions_repo::find(conn, id, now)?,
        None => None,
    };
    let session = match session {
        Some(item) => Some(Known {
            consented: consented(conn, &item.user)?,
            item,
        }),
        None => None,
    };
    let guest = match request.credentials {
        Credentials::Skip => {
            match users_repo::find_by_login(conn, GUEST_LOGIN)?.filter(|g| g.guest && !g.banned) {
                Some(item) => Some(Known {
                    consented: consented(conn, &item)?,
                    item,
                }),
                None => None,
            }
        }
        _ => None,
    };
    let can_step_up = match &session {
        Some(known)
            if request.requires_mfa && !signed_in_with_two_factors(Some(&known.item.amr)) =>
        {
            factors::repo::sign_in_needs(conn, &known.item.user.id)?.0
        }
        _ => false,
    };
    Ok(Loaded {
        session,
        guest,
        service_names,
        can_step_up,
    })
}
