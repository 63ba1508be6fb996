//! A grant is one authorization of a client (by a user, or by itself): the
//! family that its refresh tokens and user-bound access tokens belong to.
//! Revoking it ends all of them at once.
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::audit::{Actor, Event, Kind, Origin};
use crate::db::schema::grants;
use crate::db::DbConn;
use crate::error::StoreError;
use crate::oauth2::revoked_set::RevokedSet;
use crate::scope::StoredScope;
use crate::telemetry;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = grants)]
pub struct Grant {
    pub id: String,
    pub service_id: String,
    pub user_id: Option<String>,
    pub scope: String,
    pub created: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    /// The browser session that signed in, when one did: sign-out tells
    /// the services of its grants (back-channel logout).
    pub sid: Option<String>,
    /// How the user signed in for it (`amr` values, space-separated).
    pub amr: Option<String>,
    /// When the user signed in for it.
    pub auth_time: Option<NaiveDateTime>,
}

/// The sign-in a grant was made in, as far as one was: the browser
/// session's public id, its `amr` and `auth_time`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SignIn<'a> {
    pub sid: Option<&'a str>,
    pub amr: Option<&'a str>,
    pub auth_time: Option<NaiveDateTime>,
}

/// The event of a code or refresh token presented twice: the grant it
/// belongs to is revoked. The actor is the client that presented it.
pub fn replay_event(kind: Kind, grant: &Grant, origin: &Origin) -> Event {
    match kind {
        Kind::CodeReplayed => telemetry::code_replayed(),
        Kind::RefreshTokenReused => telemetry::refresh_token_reused(),
        _ => {}
    }
    let event = Event::new(
        kind,
        Actor::Service(grant.service_id.clone()),
        origin.clone(),
    )
    .service(&grant.service_id)
    .detail("grantId", grant.id.as_str());
    match &grant.user_id {
        Some(user) => event.user(user),
        None => event,
    }
}

pub fn create(
    conn: &mut DbConn,
    service_id: &str,
    user_id: Option<&str>,
    scope: &str,
    sign_in: SignIn<'_>,
    now: NaiveDateTime,
) -> Result<Grant, StoreError> {
    let grant = Grant {
        id: uuid::Uuid::new_v4().to_string(),
        service_id: service_id.to_owned(),
        user_id: user_id.map(str::to_owned),
        scope: scope.to_owned(),
        created: now,
        revoked_at: None,
        sid: sign_in.sid.map(str::to_owned),
        amr: sign_in.amr.map(str::to_owned),
        auth_time: sign_in.auth_time,
    };
    diesel::insert_into(grants::table)
        .values(&grant)
        .execute(conn)?;
    Ok(grant)
}

/// Every scope entry of the user's live grants: what they allowed, to any
/// client.
pub fn granted_scope(
    conn: &mut DbConn,
    user_id: &str,
) -> Result<std::collections::HashSet<String>, StoreError> {
    let scopes: Vec<String> = grants::table
        .filter(grants::user_id.eq(user_id))
        .filter(grants::revoked_at.is_null())
        .select(grants::scope)
        .load(conn)?;
    Ok(scopes
        .iter()
        .flat_map(|s| StoredScope(s).entries())
        .map(str::to_owned)
        .collect())
}

pub fn revoke(
    conn: &mut DbConn,
    revoked: &RevokedSet,
    id: &str,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    let updated = diesel::update(grants::table.find(id).filter(grants::revoked_at.is_null()))
        .set(grants::revoked_at.eq(now))
        .execute(conn)?;
    revoked.note_grant(id);
    Ok(updated > 0)
}

/// Ends every grant a user gave a service (revoking an authorized application).
pub fn revoke_for_user_and_service(
    conn: &mut DbConn,
    revoked: &RevokedSet,
    user_id: &str,
    service_id: &str,
    now: NaiveDateTime,
) -> Result<usize, StoreError> {
    let ids: Vec<String> = diesel::update(
        grants::table
            .filter(grants::user_id.eq(user_id))
            .filter(grants::service_id.eq(service_id))
            .filter(grants::revoked_at.is_null()),
    )
    .set(grants::revoked_at.eq(now))
    .returning(grants::id)
    .get_results(conn)?;
    for id in &ids {
        revoked.note_grant(id);
    }
    Ok(ids.len())
}

/// The user's grants that have not been revoked, oldest first.
pub fn live_for_user(conn: &mut DbConn, user_id: &str) -> Result<Vec<Grant>, StoreError> {
    Ok(grants::table
        .filter(grants::user_id.eq(user_id))
        .filter(grants::revoked_at.is_null())
        .order(grants::created.asc())
        .select(Grant::as_select())
        .load(conn)?)
}
