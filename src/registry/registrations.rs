//! Clients registered through RFC 7591 and managed through RFC 7592: a
//! service made by the registry's own functions (every rule of the registry
//! holds; never trusted), plus the hash of its registration access token and
//! the metadata the registry has no column for. The token is shown once, at
//! registration and at each update (which replaces it).
use chrono::NaiveDateTime;
use diesel::prelude::*;
use subtle::ConstantTimeEq;

use super::client_metadata::{Checked, Extras};
use super::model::Service;
use super::repo;
use super::switches;
use crate::audit::Caller;
use crate::db::schema::client_registrations;
use crate::db::DbConn;
use crate::error::AppError;
use crate::scope::OIDC_SCOPES;
use crate::secrets;

/// A registration as answered: the service, its redirect URIs, its
/// metadata, the new registration access token and (at registration) the
/// client secret.
pub struct Registered {
    pub service: Service,
    pub redirect_uris: Vec<String>,
    pub extras: Extras,
    pub token: String,
    pub secret: Option<String>,
}

/// A client manages its own registration (RFC 7592) until an
/// administrator trusts it; from then on only administrators change it.
pub(super) fn managed_by_itself(service: Service) -> Result<Service, AppError> {
    match service.trusted {
        true => Err(AppError::Forbidden(
            "a trusted client's registration is managed by administrators".into(),
        )),
        false => Ok(service),
    }
}

fn extras_json(extras: &Extras) -> Result<String, AppError> {
    serde_json::to_string(extras).map_err(|e| AppError::internal_from("client metadata", e))
}

pub(super) fn register(
    conn: &mut DbConn,
    checked: Checked,
    now: NaiveDateTime,
    caller: &Caller,
    by_administrator: bool,
) -> Result<Registered, AppError> {
    let Checked {
        input,
        extras,
        enforced_method,
    } = checked;
    // Only clients that authenticate with it get a secret.
    let uses_secret = extras
        .token_endpoint_auth_method
        .starts_with("client_secret");
    let mut input = input.check(true)?;
    switches::as_client_may(&mut input.changes, None);
    input.changes.verified = Some(by_administrator);
    input.changes.token_endpoint_auth_method = Some(enforced_method);
    let token = secrets::generate();
    let metadata = extras_json(&extras)?;
    crate::db::transaction(conn, |conn| {
        require_known_scope(conn, &extras)?;
        let (service, redirect_uris, secret) = repo::register(conn, input, now, caller)?;
        diesel::insert_into(client_registrations::table)
            .values((
                client_registrations::service_id.eq(&service.id),
                client_registrations::token_hash.eq(secrets::hash(&token)),
                client_registrations::metadata.eq(&metadata),
                client_registrations::created.eq(now),
                client_registrations::updated.eq(now),
            ))
            .execute(conn)?;
        Ok(Registered {
            service,
            redirect_uris,
            extras,
            token,
            // A public or private_key_jwt client has a secret it never
            // uses: not handed out.
            secret: uses_secret.then_some(secret),
        })
    })
}

/// A registered `scope` names OpenID Connect scopes and registered services
/// only, as an authorization request's must.
fn require_known_scope(conn: &mut DbConn, extras: &Extras) -> Result<(), AppError> {
    let services: Vec<String> = extras
        .scope
        .iter()
        .flat_map(|scope| scope.split_whitespace())
        .filter(|word| !OIDC_SCOPES.contains(word))
        .map(str::to_owned)
        .collect();
    repo::require_registered(conn, "scope", &services).map(drop)
}

/// The registered client's metadata, once `presented` proves to be its
/// registration access token. Unknown clients and wrong tokens are answered
/// alike.
pub fn authorize(conn: &mut DbConn, client_id: &str, presented: &str) -> Result<Extras, AppError> {
    let found: Option<(String, String)> = client_registrations::table
        .find(client_id)
        .select((
            client_registrations::token_hash,
            client_registrations::metadata,
        ))
        .first(conn)
        .optional()?;
    let refused = || {
        AppError::InvalidToken("the registration access token is not valid for this client".into())
    };
    let (stored, metadata) = found.ok_or_else(refused)?;
    let presented = secrets::hash(presented);
    if !bool::from(stored.as_bytes().ct_eq(presented.as_bytes())) {
        return Err(refused());
    }
    serde_json::from_str(&metadata).map_err(|e| AppError::internal_from("client metadata", e))
}

/// The stored metadata of a registered client.
pub fn stored(conn: &mut DbConn, client_id: &str) -> Result<Extras, AppError> {
    let metadata: String = client_registrations::table
        .find(client_id)
        .select(client_registrations::metadata)
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("client registration"))?;
    serde_json::from_str(&metadata).map_err(|e| AppError::internal_from("client metadata", e))
}

/// Replaces the client's metadata (RFC 7592 §2.2) and its registration
/// access token. A client can only narrow what an administrator allowed
/// (`switches::ByClient`: PKCE stays required once required, a flow
/// switched off stays off), and a client an administrator trusts (no
/// consent asked) is managed by administrators only.
pub(super) fn update(
    conn: &mut DbConn,
    client_id: &str,
    checked: Checked,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<Registered, AppError> {
    let Checked {
        input,
        extras,
        enforced_method,
    } = checked;
    let mut input = input.check(false)?;
    input.changes.token_endpoint_auth_method = Some(enforced_method);
    let token = secrets::generate();
    let metadata = extras_json(&extras)?;
    crate::db::transaction(conn, |conn| {
        require_known_scope(conn, &extras)?;
        let current = managed_by_itself(repo::find(conn, client_id)?)?;
        switches::as_client_may(&mut input.changes, Some(&current));
        // Its own word now, not what an administrator vouched for.
        input.changes.verified = Some(false);
        repo::update(conn, client_id, input.changes, input.redirect_uris, caller)?;
        diesel::update(client_registrations::table.find(client_id))
            .set((
                client_registrations::token_hash.eq(secrets::hash(&token)),
                client_registrations::metadata.eq(&metadata),
                client_registrations::updated.eq(now),
            ))
            .execute(conn)?;
        let (service, redirect_uris) = repo::find_with_uris(conn, client_id)?;
        Ok(Registered {
            service,
            redirect_uris,
            extras,
            token,
            secret: None,
        })
    })
}
