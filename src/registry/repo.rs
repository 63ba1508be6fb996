//! Service storage: plain functions over a connection. Changes are made
//! through `changes`, which also drops the changed service from the cache.
use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::input::CheckedInput;
use super::model::{Service, ServiceChanges, ServiceView, HUB_SERVICE_ID};
use super::query::ServiceQuery;
use crate::audit::{self, Caller, Kind};
use crate::db::schema::{service_redirect_uris, services};
use crate::db::{lower, DbConn};
use crate::error::{AppError, StoreError};
use crate::paging::{Direction, Page};
use crate::secrets;
use crate::validate::like_pattern;

pub const ORDERABLE: &[&str] = &["name", "created", "id"];

/// The service, if registered.
pub fn get(conn: &mut DbConn, id: &str) -> Result<Option<Service>, StoreError> {
    Ok(services::table
        .find(id)
        .select(Service::as_select())
        .first(conn)
        .optional()?)
}

/// The service, or "service not found".
pub fn find(conn: &mut DbConn, id: &str) -> Result<Service, AppError> {
    get(conn, id)?.ok_or_else(|| AppError::not_found("service"))
}

pub fn find_many(conn: &mut DbConn, ids: &[String]) -> Result<Vec<Service>, StoreError> {
    Ok(services::table
        .filter(services::id.eq_any(ids))
        .select(Service::as_select())
        .load(conn)?)
}

pub fn redirect_uris(
    conn: &mut DbConn,
    service_ids: &[String],
) -> Result<HashMap<String, Vec<String>>, StoreError> {
    let rows: Vec<(String, String)> = service_redirect_uris::table
        .filter(service_redirect_uris::service_id.eq_any(service_ids))
        .order((
            service_redirect_uris::service_id,
            service_redirect_uris::position,
        ))
        .select((
            service_redirect_uris::service_id,
            service_redirect_uris::uri,
        ))
        .load(conn)?;
    let mut by_service: HashMap<String, Vec<String>> = HashMap::new();
    for (service_id, uri) in rows {
        by_service.entry(service_id).or_default().push(uri);
    }
    Ok(by_service)
}

/// The REST view of one service.
pub fn find_view(conn: &mut DbConn, id: &str) -> Result<ServiceView, AppError> {
    let (service, uris) = find_with_uris(conn, id)?;
    Ok(ServiceView::new(service, uris))
}

pub fn find_with_uris(conn: &mut DbConn, id: &str) -> Result<ServiceWithUris, AppError> {
    let service = find(conn, id)?;
    let uris = redirect_uris(conn, std::slice::from_ref(&service.id))?
        .remove(&service.id)
        .unwrap_or_default();
    Ok((service, uris))
}

fn replace_redirect_uris(
    conn: &mut DbConn,
    service_id: &str,
    uris: &[String],
) -> Result<(), StoreError> {
    diesel::delete(
        service_redirect_uris::table.filter(service_redirect_uris::service_id.eq(service_id)),
    )
    .execute(conn)?;
    let rows: Vec<_> = uris
        .iter()
        .enumerate()
        .map(|(position, uri)| {
            (
                service_redirect_uris::service_id.eq(service_id),
                service_redirect_uris::position.eq(i32::try_from(position).unwrap_or(i32::MAX)),
                service_redirect_uris::uri.eq(uri),
            )
        })
        .collect();
    // One insert per row: MultiConnection cannot batch on SQLite.
    for row in rows {
        diesel::insert_into(service_redirect_uris::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

fn key_conflict(error: diesel::result::Error) -> AppError {
    match StoreError::from(error) {
        StoreError::Duplicate(_) => AppError::conflict("key", "another service has this key"),
        other => other.into(),
    }
}

/// Registers a service from a checked request with a new secret: the REST
/// API, the console, the CLI and client registration all register through
/// here, by way of `changes`. Returns the
/// stored service, its redirect URIs and the secret, which exists in plain
/// only in this answer.
pub(super) fn register(
    conn: &mut DbConn,
    checked: CheckedInput,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<(Service, Vec<String>, String), AppError> {
    let secret = secrets::generate();
    let name = checked.changes.name.clone().unwrap_or_default();
    let service = Service::new(name, secrets::hash(&secret), now);
    let uris = checked.redirect_uris.unwrap_or_default();
    let service = create(conn, service, &checked.changes, &uris, caller)?;
    Ok((service, uris, secret))
}

/// Registers a service: Hub's defaults (`Service::new`), then the request's
/// fields through the same changeset as an update. Returns the stored row.
pub fn create(
    conn: &mut DbConn,
    service: Service,
    changes: &ServiceChanges,
    uris: &[String],
    caller: &Caller,
) -> Result<Service, AppError> {
    crate::db::transaction(conn, |conn| {
        let created = caller
            .event(Kind::ServiceCreated)
            .service(&service.id)
            .detail("name", changes.name.as_deref().unwrap_or(&service.name));
        audit::store::record(conn, &created, service.created)?;
        diesel::insert_into(services::table)
            .values(&service)
            .execute(conn)
            .map_err(key_conflict)?;
        if *changes != ServiceChanges::default() {
            diesel::update(services::table.find(&service.id))
                .set(changes)
                .execute(conn)
                .map_err(key_conflict)?;
        }
        replace_redirect_uris(conn, &service.id, uris)?;
        find(conn, &service.id)
    })
}

pub(super) fn update(
    conn: &mut DbConn,
    id: &str,
    changes: ServiceChanges,
    uris: Option<Vec<String>>,
    caller: &Caller,
) -> Result<(), AppError> {
    crate::db::transaction(conn, |conn| {
        let before = find(conn, id)?;
        record_update(conn, &before, &changes, uris.is_some(), caller)?;
        // diesel refuses an UPDATE with an empty SET clause.
        if changes != ServiceChanges::default() {
            diesel::update(services::table.find(id))
                .set(&changes)
                .execute(conn)
                .map_err(key_conflict)?;
        }
        if let Some(uris) = uris {
            replace_redirect_uris(conn, id, &uris)?;
        }
        Ok(())
    })
}

/// Records an update: which fields, and a trust change as its own event.
fn record_update(
    conn: &mut DbConn,
    before: &Service,
    changes: &ServiceChanges,
    uris_changed: bool,
    caller: &Caller,
) -> Result<(), StoreError> {
    let now = crate::clock::now();
    let mut fields = changes.field_names();
    fields.retain(|name| *name != "trusted");
    if uris_changed {
        fields.push("redirectUris");
    }
    if !fields.is_empty() {
        let updated = caller
            .event(Kind::ServiceUpdated)
            .service(&before.id)
            .detail("fields", fields);
        audit::store::record(conn, &updated, now)?;
    }
    match changes.trusted {
        Some(trusted) if trusted != before.trusted => {
            let kind = match trusted {
                true => Kind::ServiceTrusted,
                false => Kind::ServiceUntrusted,
            };
            audit::store::record(conn, &caller.event(kind).service(&before.id), now)
        }
        _ => Ok(()),
    }
}

/// Deleting a service cascades to its redirect URIs, grants, codes and refresh tokens.
pub(super) fn delete(conn: &mut DbConn, id: &str, caller: &Caller) -> Result<(), AppError> {
    if id == HUB_SERVICE_ID {
        return Err(AppError::Forbidden(
            "the built-in Hub service cannot be deleted".into(),
        ));
    }
    crate::db::transaction(conn, |conn| {
        let service = find(conn, id)?;
        let deleted = caller
            .event(Kind::ServiceDeleted)
            .service(id)
            .detail("name", service.name);
        audit::store::record(conn, &deleted, crate::clock::now())?;
        match diesel::delete(services::table.find(id)).execute(conn)? {
            0 => Err(AppError::not_found("service")),
            _ => Ok(()),
        }
    })
}

/// Replaces the secret; the old one stops working with this commit. Returns the new one.
pub(super) fn reset_secret(
    conn: &mut DbConn,
    id: &str,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<String, AppError> {
    let secret = secrets::generate();
    crate::db::transaction(conn, |conn| {
        let updated = diesel::update(services::table.find(id))
            .set((
                services::secret_hash.eq(secrets::hash(&secret)),
                services::secret_rotated.eq(now),
            ))
            .execute(conn)?;
        if updated == 0 {
            return Err(AppError::not_found("service"));
        }
        let reset = caller.event(Kind::ServiceSecretReset).service(id);
        audit::store::record(conn, &reset, now)?;
        Ok(secret)
    })
}

pub(super) fn set_trusted(
    conn: &mut DbConn,
    id: &str,
    trusted: bool,
    caller: &Caller,
) -> Result<(), AppError> {
    let changes = ServiceChanges {
        trusted: Some(trusted),
        ..Default::default()
    };
    update(conn, id, changes, None, caller)
}

/// The `(id, name)` of those of `ids` that are registered services.
pub fn names_of(
    conn: &mut DbConn,
    ids: &[impl AsRef<str>],
) -> Result<Vec<(String, String)>, StoreError> {
    let ids: Vec<&str> = ids.iter().map(AsRef::as_ref).collect();
    Ok(services::table
        .filter(services::id.eq_any(ids))
        .select((services::id, services::name))
        .load(conn)?)
}

/// A list of service ids (a scope) named one that is not registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a registered service")]
pub struct UnknownService(pub String);

/// The `(id, name)` of each of `ids`, in their order, or the first that is
/// not a registered service: the one registration check behind scopes,
/// permanent tokens and authorization requests.
pub fn registered_names(
    conn: &mut DbConn,
    ids: &[impl AsRef<str>],
) -> Result<Result<Vec<(String, String)>, UnknownService>, StoreError> {
    let known = names_of(conn, ids)?;
    let mut named = Vec::with_capacity(ids.len());
    for id in ids.iter().map(AsRef::as_ref) {
        match known.iter().find(|(k, _)| k == id) {
            Some(pair) => named.push(pair.clone()),
            None => return Ok(Err(UnknownService(id.to_owned()))),
        }
    }
    Ok(Ok(named))
}

/// `registered_names` for REST input: an unknown id is a 400 naming `field`.
pub fn require_registered(
    conn: &mut DbConn,
    field: &str,
    ids: &[String],
) -> Result<Vec<(String, String)>, AppError> {
    registered_names(conn, ids)?.map_err(|unknown| AppError::bad_field(field, unknown.to_string()))
}

/// A service and its redirect URIs, in registration order.
pub type ServiceWithUris = (Service, Vec<String>);

type Db = <DbConn as diesel::Connection>::Backend;

fn filtered(query: &ServiceQuery) -> services::BoxedQuery<'static, Db> {
    let mut boxed = services::table.into_boxed();
    if let Some(trusted) = query.trusted {
        boxed = boxed.filter(services::trusted.eq(trusted));
    }
    for name in &query.names {
        boxed = boxed.filter(lower(services::name).eq(name.clone()));
    }
    for key in &query.keys {
        boxed = boxed.filter(services::key.eq(key.clone()));
    }
    for uri in &query.redirect_uris {
        boxed = boxed.filter(
            services::id.eq_any(
                service_redirect_uris::table
                    .filter(service_redirect_uris::uri.eq(uri.clone()))
                    .select(service_redirect_uris::service_id),
            ),
        );
    }
    for word in &query.words {
        boxed = boxed.filter(lower(services::name).like(like_pattern(word)).escape('\\'));
    }
    boxed
}

/// Where a keyset page starts: after this service, in the list's order.
pub struct After {
    id: String,
    name_key: String,
    created: chrono::NaiveDateTime,
}

/// The anchor of `$after`: the service's sort keys as the database sees them
/// (`lower()` differs between backends and from Rust's for non-ASCII text).
pub fn after(conn: &mut DbConn, id: &str) -> Result<After, AppError> {
    let found: Option<(String, chrono::NaiveDateTime)> = services::table
        .find(id)
        .select((lower(services::name), services::created))
        .first(conn)
        .optional()?;
    let (name_key, created) = found
        .ok_or_else(|| AppError::bad_field("$after", format!("no service has the id '{id}'")))?;
    Ok(After {
        id: id.to_owned(),
        name_key,
        created,
    })
}

/// The services of `query` in `order`, from `page.skip` or, faster at any
/// depth, from just after `after` (keyset paging); and how many match in all.
pub fn list(
    conn: &mut DbConn,
    query: &ServiceQuery,
    order: (&str, Direction),
    page: Page,
    after: Option<&After>,
) -> Result<(Vec<ServiceWithUris>, i64), AppError> {
    let total: i64 = match page.count_total {
        true => filtered(query).count().get_result(conn)?,
        false => 0,
    };
    let mut base = filtered(query);
    if let Some(a) = after {
        let (name, id, created) = (a.name_key.clone(), a.id.clone(), a.created);
        let key = lower(services::name);
        base = match order {
            ("name", Direction::Asc) => base.filter(
                key.ge(name.clone())
                    .and(key.gt(name).or(services::id.gt(id))),
            ),
            ("name", Direction::Desc) => base.filter(
                key.le(name.clone())
                    .and(key.lt(name).or(services::id.lt(id))),
            ),
            ("created", Direction::Asc) => base.filter(
                services::created
                    .ge(created)
                    .and(services::created.gt(created).or(services::id.gt(id))),
            ),
            ("created", Direction::Desc) => base.filter(
                services::created
                    .le(created)
                    .and(services::created.lt(created).or(services::id.lt(id))),
            ),
            (_, Direction::Asc) => base.filter(services::id.gt(id)),
            (_, Direction::Desc) => base.filter(services::id.lt(id)),
        };
    }
    let ordered = match order {
        ("name", Direction::Asc) => base.order((lower(services::name).asc(), services::id.asc())),
        ("name", Direction::Desc) => {
            base.order((lower(services::name).desc(), services::id.desc()))
        }
        ("created", Direction::Asc) => base.order((services::created.asc(), services::id.asc())),
        ("created", Direction::Desc) => base.order((services::created.desc(), services::id.desc())),
        (_, Direction::Asc) => base.order(services::id.asc()),
        (_, Direction::Desc) => base.order(services::id.desc()),
    };
    let found: Vec<Service> = ordered
        .offset(page.skip)
        .limit(page.top)
        .select(Service::as_select())
        .load(conn)?;
    let ids: Vec<String> = found.iter().map(|s| s.id.clone()).collect();
    let mut uris = redirect_uris(conn, &ids)?;
    let items = found
        .into_iter()
        .map(|service| {
            let list = uris.remove(&service.id).unwrap_or_default();
            (service, list)
        })
        .collect();
    Ok((items, total))
}
