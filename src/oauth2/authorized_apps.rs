//! Authorized applications: the services a user has allowed (consents) or
//! still has live grants with. Revoking one ends every token of those grants
//! and forgets the consent, so the next authorization asks again.
use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::Serialize;

use super::revoked_set::RevokedSet;
use super::{consents, grants};
use crate::audit::{self, Caller, Kind};
use crate::db::DbConn;
use crate::error::{AppError, StoreError};
use crate::registry::repo as services_repo;
use crate::scope::StoredScope;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ServiceRef {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizedApp {
    pub service: ServiceRef,
    pub scope: Vec<String>,
    /// First authorization, in milliseconds since the epoch.
    pub created: i64,
    /// Latest authorization, in milliseconds since the epoch.
    pub last_granted: i64,
}

struct Merged {
    scope: Vec<String>,
    first: NaiveDateTime,
    last: NaiveDateTime,
}

fn merge(
    into: &mut BTreeMap<String, Merged>,
    service_id: &str,
    scope: &str,
    first: NaiveDateTime,
    last: NaiveDateTime,
) {
    let entry = into.entry(service_id.to_owned()).or_insert(Merged {
        scope: Vec::new(),
        first,
        last,
    });
    for word in StoredScope(scope).entries() {
        if !entry.scope.iter().any(|s| s == word) {
            entry.scope.push(word.to_owned());
        }
    }
    entry.first = entry.first.min(first);
    entry.last = entry.last.max(last);
}

pub fn list(conn: &mut DbConn, user_id: &str) -> Result<Vec<AuthorizedApp>, StoreError> {
    let mut merged: BTreeMap<String, Merged> = BTreeMap::new();
    for consent in consents::list_for_user(conn, user_id)? {
        merge(
            &mut merged,
            &consent.service_id,
            &consent.scope,
            consent.created,
            consent.updated,
        );
    }
    for grant in grants::live_for_user(conn, user_id)? {
        merge(
            &mut merged,
            &grant.service_id,
            &grant.scope,
            grant.created,
            grant.created,
        );
    }
    let ids: Vec<String> = merged.keys().cloned().collect();
    let names = services_repo::names_of(conn, &ids)?;
    let mut apps: Vec<AuthorizedApp> = merged
        .into_iter()
        .filter_map(|(id, m)| {
            let name = names.iter().find(|(k, _)| *k == id)?.1.clone();
            Some(AuthorizedApp {
                service: ServiceRef { id, name },
                scope: m.scope,
                created: m.first.and_utc().timestamp_millis(),
                last_granted: m.last.and_utc().timestamp_millis(),
            })
        })
        .collect();
    apps.sort_by(|a, b| {
        a.service
            .name
            .to_lowercase()
            .cmp(&b.service.name.to_lowercase())
    });
    Ok(apps)
}

pub fn revoke(
    conn: &mut DbConn,
    revoked_set: &RevokedSet,
    user_id: &str,
    service_id: &str,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<(), AppError> {
    crate::db::transaction(conn, |conn| {
        let revoked =
            grants::revoke_for_user_and_service(conn, revoked_set, user_id, service_id, now)?;
        let forgotten = consents::forget(conn, user_id, service_id)?;
        if revoked + forgotten == 0 {
            return Err(AppError::not_found("authorized application"));
        }
        let event = caller
            .event(Kind::GrantRevoked)
            .user(user_id)
            .service(service_id);
        audit::store::record(conn, &event, now)?;
        Ok(())
    })
}

/// A live grant of a service, as its console page lists it.
#[derive(Debug, Clone)]
pub struct GrantHolder {
    /// None for the service's own (client credentials) grants.
    pub login: Option<String>,
    pub user_id: Option<String>,
    pub scope: String,
    pub created: NaiveDateTime,
}

/// The newest `limit` live grants of a service, with their users' logins.
pub fn holders(
    conn: &mut DbConn,
    service_id: &str,
    limit: i64,
) -> Result<Vec<GrantHolder>, StoreError> {
    use crate::db::schema::{grants as g, users as u};
    use diesel::prelude::*;
    let rows: Vec<(Option<String>, Option<String>, String, NaiveDateTime)> = g::table
        .left_join(u::table)
        .filter(g::service_id.eq(service_id))
        .filter(g::revoked_at.is_null())
        .order((g::created.desc(), g::id.desc()))
        .limit(limit)
        .select((u::login.nullable(), g::user_id, g::scope, g::created))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(login, user_id, scope, created)| GrantHolder {
            login,
            user_id,
            scope,
            created,
        })
        .collect())
}
