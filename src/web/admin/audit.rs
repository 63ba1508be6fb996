//! `/admin/audit`: the audit trail, newest first, filtered with the REST
//! API's query and paged by event id.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::common::{administrator, page_link, ListQuery, PAGE_ROWS};
use crate::audit::query::AuditQuery;
use crate::audit::store;
use crate::db;
use crate::paging::Page;
use crate::state::AppState;
use crate::web::page::{render, PageError};
use crate::web::templates::{AdminAudit, EventRow};

pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    if let Err(redirect) = administrator(&state, &req).await? {
        return Ok(redirect);
    }
    let text = params.query.trim().to_owned();
    let query = AuditQuery::parse(&text)?;
    let before = params.before.as_deref().and_then(|b| b.parse::<i64>().ok());
    let page = Page {
        skip: 0,
        top: PAGE_ROWS,
        count_total: false,
    };
    let (events, _) = db::run(&state.pool, move |conn| {
        Ok(store::list(conn, &query, page, before)?)
    })
    .await?;
    let older = (events.len() == usize::try_from(PAGE_ROWS).unwrap_or(usize::MAX))
        .then(|| {
            events
                .last()
                .map(|e| page_link("/admin/audit", &text, "before", &e.id))
        })
        .flatten();
    let rows = events
        .into_iter()
        .map(|event| EventRow {
            time: chrono::DateTime::from_timestamp_millis(event.timestamp)
                .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                .unwrap_or_default(),
            kind: event.kind,
            actor: event.actor.unwrap_or_default(),
            user_id: event.user_id.unwrap_or_default(),
            service_id: event.service_id.unwrap_or_default(),
            ip: event.ip.unwrap_or_default(),
            details: match event.details.as_object() {
                Some(details) if !details.is_empty() => event.details.to_string(),
                _ => String::new(),
            },
        })
        .collect();
    let page = AdminAudit {
        query: text,
        rows,
        older,
    };
    Ok(render(StatusCode::OK, &page, vec![]))
}
