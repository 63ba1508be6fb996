//! `/admin/services`: the registry, searchable (Hub's query) and paged.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::common::{administrator, page_link, ListQuery, PAGE_ROWS};
use crate::db;
use crate::paging::{Direction, Page};
use crate::registry::query::ServiceQuery;
use crate::registry::repo as services_repo;
use crate::state::AppState;
use crate::web::page::{render, PageError};
use crate::web::templates::{AdminServices, ServiceRow};

pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    if let Err(redirect) = administrator(&state, &req).await? {
        return Ok(redirect);
    }
    let text = params.query.trim().to_owned();
    let query = ServiceQuery::parse(&text)?;
    let skip = params
        .skip
        .as_deref()
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or(0)
        .max(0);
    let page = Page {
        skip,
        top: PAGE_ROWS,
        count_total: true,
    };
    let (found, total) = db::run(&state.pool, move |conn| {
        services_repo::list(conn, &query, ("name", Direction::Asc), page, None)
    })
    .await?;
    let rows = found
        .into_iter()
        .map(|(service, uris)| ServiceRow {
            id: service.id,
            name: service.name,
            trusted: service.trusted,
            redirect_uris: uris.join(" "),
        })
        .collect();
    let next = skip.saturating_add(PAGE_ROWS);
    let page = AdminServices {
        query: text.clone(),
        rows,
        total,
        first: skip.saturating_add(1),
        previous: (skip > 0).then(|| {
            let previous = skip.saturating_sub(PAGE_ROWS).max(0).to_string();
            page_link("/admin/services", &text, "skip", &previous)
        }),
        next: (next < total)
            .then(|| page_link("/admin/services", &text, "skip", &next.to_string())),
    };
    Ok(render(StatusCode::OK, &page, vec![]))
}
