//! What each user allowed each service, so consent is asked once per scope.
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::consents;
use crate::db::DbConn;
use crate::error::StoreError;
use crate::scope::StoredScope;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = consents)]
pub struct Consent {
    pub user_id: String,
    pub service_id: String,
    pub scope: String,
    pub created: NaiveDateTime,
    pub updated: NaiveDateTime,
}

fn find(conn: &mut DbConn, user_id: &str, service_id: &str) -> Result<Option<Consent>, StoreError> {
    Ok(consents::table
        .find((user_id, service_id))
        .select(Consent::as_select())
        .first(conn)
        .optional()?)
}

/// True when every entry of `scope` was allowed before.
pub fn covers(
    conn: &mut DbConn,
    user_id: &str,
    service_id: &str,
    scope: &[String],
) -> Result<bool, StoreError> {
    Ok(find(conn, user_id, service_id)?
        .is_some_and(|consent| StoredScope(&consent.scope).covers(scope)))
}

/// Adds `scope` to what the user allowed the service.
pub fn record(
    conn: &mut DbConn,
    user_id: &str,
    service_id: &str,
    scope: &[String],
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    match find(conn, user_id, service_id)? {
        Some(existing) => {
            let merged = StoredScope(&existing.scope).merged(scope);
            diesel::update(consents::table.find((user_id, service_id)))
                .set((
                    consents::scope.eq(merged.join(" ")),
                    consents::updated.eq(now),
                ))
                .execute(conn)?;
        }
        None => {
            let inserted = diesel::insert_into(consents::table)
                .values((
                    consents::user_id.eq(user_id),
                    consents::service_id.eq(service_id),
                    consents::scope.eq(scope.join(" ")),
                    consents::created.eq(now),
                    consents::updated.eq(now),
                ))
                .execute(conn);
            match inserted.map_err(StoreError::from) {
                Ok(_) => {}
                // A parallel consent of the same user won the insert: merge into it.
                Err(StoreError::Duplicate(_)) => {
                    return record(conn, user_id, service_id, scope, now)
                }
                Err(other) => return Err(other),
            }
        }
    }
    Ok(())
}

pub fn list_for_user(conn: &mut DbConn, user_id: &str) -> Result<Vec<Consent>, StoreError> {
    Ok(consents::table
        .filter(consents::user_id.eq(user_id))
        .select(Consent::as_select())
        .load(conn)?)
}

pub fn forget(conn: &mut DbConn, user_id: &str, service_id: &str) -> Result<usize, StoreError> {
    Ok(diesel::delete(consents::table.find((user_id, service_id))).execute(conn)?)
}
