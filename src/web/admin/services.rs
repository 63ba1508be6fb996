//! `/admin/services`: the registry, searchable (Hub's query) and paged; one
//! service with its settings and active grants; the form for a new one.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::common::{administrator, csrf, span, ListQuery, PAGE_ROWS};
use super::connect::Connect;
use super::service_changes::new_service_page;
use super::service_form::ServiceFields;
use crate::db;
use crate::oauth2::authorized_apps;
use crate::paging::{Direction, Page};
use crate::registry::model::HUB_SERVICE_ID;
use crate::registry::query::ServiceQuery;
use crate::registry::repo as services_repo;
use crate::state::AppState;
use crate::web::page::{render, PageError};
use crate::web::templates::{page_time, AdminService, AdminServices, GrantRow, ServiceRow};

/// Grants shown on a service's page.
const GRANT_ROWS: i64 = 100;

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
    let skip = params.skip();
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
    let page = AdminServices {
        span: span("/admin/services", &text, skip, total),
        query: text,
        rows,
    };
    Ok(render(StatusCode::OK, &page, vec![]))
}

/// `?sent=twice`: the page a new-service form sent again leads to.
#[derive(Debug, Deserialize)]
pub struct ShowQuery {
    sent: Option<String>,
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<ShowQuery>,
) -> Result<HttpResponse, PageError> {
    if let Err(redirect) = administrator(&state, &req).await? {
        return Ok(redirect);
    }
    let id = path.into_inner();
    let (found, grants) = db::run(&state.pool, move |conn| {
        let found = services_repo::find_view(conn, &id)?;
        let grants = authorized_apps::holders(conn, &id, GRANT_ROWS)?;
        Ok((found, grants))
    })
    .await?;
    let (csrf_token, cookies) = csrf(&state, &req);
    let service = found.service;
    let page = AdminService {
        csrf_token,
        sent_twice: query.sent.as_deref() == Some("twice"),
        connect: Connect::of(&state.issuer, &service, &found.redirect_uris),
        fields: ServiceFields::of(&service, &found.redirect_uris),
        deletable: service.id != HUB_SERVICE_ID,
        id: service.id,
        trusted: service.trusted,
        created: page_time(service.created),
        secret_rotated: page_time(service.secret_rotated),
        grants: grants
            .into_iter()
            .map(|grant| GrantRow {
                user_id: grant.user_id.unwrap_or_default(),
                login: grant.login.unwrap_or_default(),
                scope: grant.scope,
                created: page_time(grant.created),
            })
            .collect(),
    };
    Ok(render(StatusCode::OK, &page, cookies))
}

pub async fn new(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    if let Err(redirect) = administrator(&state, &req).await? {
        return Ok(redirect);
    }
    Ok(new_service_page(&state, &req, StatusCode::OK, None, None))
}
