//! Changing services: the one path of the REST API, the console, the CLI and
//! client registration (RFC 7591, RFC 7592). Each change is stored through
//! `repo` (or `registrations`), which applies the rules that need the stored
//! service (the Hub service stays; a registered client only narrows what an
//! administrator allowed, and never manages a trusted one) and records the
//! audit event in the same transaction; then this instance's cached copy of
//! the service is dropped, so its next request sees the change. Other
//! instances, and a server the CLI changed, hear of it through
//! `db::change_feed` (fed by the database's triggers), which needs nothing
//! from here.
//!
//! What the caller does first, without a connection: prove who asks (an
//! administrator for the REST API and the console, the operator at the CLI,
//! the registration access token for RFC 7592) and check the request's
//! fields (`ServiceInput::check`, `ClientMetadata::check`).
//!
//! Call these outside a transaction: the cache entry is dropped when they
//! return, which must be after the commit.
use chrono::NaiveDateTime;

use super::cache::ServiceCache;
use super::client_metadata::Checked;
use super::input::CheckedInput;
use super::model::{Service, ServiceView};
use super::registrations::{self, Registered};
use super::repo;
use crate::audit::Caller;
use crate::db::DbConn;
use crate::error::AppError;

/// A service just registered, with its secret: the only time it is known in
/// plain.
pub struct Created {
    pub service: Service,
    pub redirect_uris: Vec<String>,
    pub secret: String,
}

/// Registers a service with a new secret. Nothing is cached under a new id,
/// so there is nothing to drop.
pub fn create(
    conn: &mut DbConn,
    checked: CheckedInput,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<Created, AppError> {
    let (service, redirect_uris, secret) = repo::register(conn, checked, now, caller)?;
    Ok(Created {
        service,
        redirect_uris,
        secret,
    })
}

/// Changes what the request names (Hub's partial update: absent fields
/// stay, null clears) and answers the service as it now is.
pub fn update(
    conn: &mut DbConn,
    cache: &ServiceCache,
    id: &str,
    checked: CheckedInput,
    caller: &Caller,
) -> Result<ServiceView, AppError> {
    repo::update(conn, id, checked.changes, checked.redirect_uris, caller)?;
    cache.invalidate(id);
    repo::find_view(conn, id)
}

/// Trusts a service (no consent asked; client credentials allowed), or not.
pub fn set_trusted(
    conn: &mut DbConn,
    cache: &ServiceCache,
    id: &str,
    trusted: bool,
    caller: &Caller,
) -> Result<(), AppError> {
    repo::set_trusted(conn, id, trusted, caller)?;
    cache.invalidate(id);
    Ok(())
}

/// A new secret, returned this once; the old one stops working at once.
pub fn reset_secret(
    conn: &mut DbConn,
    cache: &ServiceCache,
    id: &str,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<String, AppError> {
    let secret = repo::reset_secret(conn, id, now, caller)?;
    cache.invalidate(id);
    Ok(secret)
}

/// Deletes a service (not the Hub service) with its redirect URIs, grants,
/// codes and refresh tokens.
pub fn delete(
    conn: &mut DbConn,
    cache: &ServiceCache,
    id: &str,
    caller: &Caller,
) -> Result<(), AppError> {
    repo::delete(conn, id, caller)?;
    cache.invalidate(id);
    Ok(())
}

/// Deletes a registered client at its own request (RFC 7592): never a
/// trusted one, whose registration administrators manage.
pub fn delete_client(
    conn: &mut DbConn,
    cache: &ServiceCache,
    id: &str,
    caller: &Caller,
) -> Result<(), AppError> {
    crate::db::transaction(conn, |conn| {
        registrations::managed_by_itself(repo::find(conn, id)?)?;
        repo::delete(conn, id, caller)
    })?;
    cache.invalidate(id);
    Ok(())
}

/// Registers a client from its metadata (RFC 7591): a service, never
/// trusted, and its registration.
pub fn register_client(
    conn: &mut DbConn,
    checked: Checked,
    now: NaiveDateTime,
    caller: &Caller,
    by_administrator: bool,
) -> Result<Registered, AppError> {
    registrations::register(conn, checked, now, caller, by_administrator)
}

/// Replaces a registered client's metadata (RFC 7592) and its registration
/// access token.
pub fn update_client(
    conn: &mut DbConn,
    cache: &ServiceCache,
    id: &str,
    checked: Checked,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<Registered, AppError> {
    let updated = registrations::update(conn, id, checked, now, caller)?;
    cache.invalidate(id);
    Ok(updated)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::db::{self, DatabaseLocation};
    use crate::feed_proof::FeedProof;
    use crate::registry::input::ServiceInput;

    /// A fresh SQLite database with the registry's tables, and a cache that
    /// no change feed keeps: only the changes themselves drop its entries.
    fn setup() -> (tempfile::TempDir, db::DbPool, Arc<ServiceCache>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("changes.db").to_string_lossy().into_owned();
        let timeout = Duration::from_secs(5);
        let pool = db::build_pool(DatabaseLocation::Sqlite(path), 1, timeout).expect("pool");
        let mut conn = pool.get().expect("connection");
        db::migrations::run_pending(&mut conn).expect("migrations");
        let proof = Arc::new(FeedProof::new(timeout));
        (dir, pool, Arc::new(ServiceCache::new("services", proof)))
    }

    fn checked(json: serde_json::Value, creating: bool) -> CheckedInput {
        let input: ServiceInput = serde_json::from_value(json).expect("input");
        input.check(creating).expect("valid")
    }

    #[test]
    fn every_change_is_seen_by_the_next_cached_read() {
        let (_dir, pool, cache) = setup();
        let mut conn = pool.get().expect("connection");
        let caller = Caller::system();
        let now = crate::clock::now();
        let created = create(
            &mut conn,
            checked(serde_json::json!({"name": "A"}), true),
            now,
            &caller,
        )
        .expect("created");
        let id = created.service.id.clone();
        let cached = |conn: &mut DbConn| cache.lookup(conn, &id).expect("lookup");

        assert!(cached(&mut conn).is_some_and(|s| !s.trusted));
        let view = update(
            &mut conn,
            &cache,
            &id,
            checked(
                serde_json::json!({"name": "B", "pkceRequired": true}),
                false,
            ),
            &caller,
        )
        .expect("updated");
        assert_eq!(view.service.name, "B");
        assert!(cached(&mut conn).is_some_and(|s| s.name == "B" && s.pkce_required));

        set_trusted(&mut conn, &cache, &id, true, &caller).expect("trusted");
        assert!(cached(&mut conn).is_some_and(|s| s.trusted));

        let secret = reset_secret(&mut conn, &cache, &id, now, &caller).expect("reset");
        assert!(cached(&mut conn).is_some_and(|s| crate::secrets::matches(&secret, &s.secret_hash)));

        delete(&mut conn, &cache, &id, &caller).expect("deleted");
        assert!(cached(&mut conn).is_none());
    }
}
