//! `GET /api/rest/auditevents`: the audit trail, newest first, for admins.
//! `query` as `audit::query` reads it; `$after=ID` continues past event ID
//! (as fast deep in the trail as at its start), `$skip` works too.
use actix_web::{web, HttpResponse};

use super::authn::Principal;
use super::resource::{self, Collection};
use crate::audit::query::AuditQuery;
use crate::audit::store;
use crate::error::AppError;
use crate::paging::ListParams;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    Collection::at("/api/rest/auditevents", "{id}")
        .list(list)
        .register(cfg);
}

#[utoipa::path(
    operation_id = "audit_events_list",
    get,
    path = "/api/rest/auditevents",
    tag = "audit",
    summary = "The audit trail, newest first",
    params(crate::paging::ListParams),
    responses((status = 200, body = crate::rest::api_doc::EventList), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let query = AuditQuery::parse(params.query_text())?;
    let before = params
        .after()?
        .map(|id| {
            id.parse::<i64>()
                .map_err(|_| AppError::bad_field("$after", "$after must be an event id"))
        })
        .transpose()?;
    resource::list(&state.pool, "events", &params, move |conn, page| {
        Ok(store::list(conn, &query, page, before)?)
    })
    .await
}
