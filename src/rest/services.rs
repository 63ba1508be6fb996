//! `/api/rest/services`: thin handlers over `repo`; every call needs an admin.
use actix_web::{web, HttpResponse};
use serde_json::json;

use std::sync::Arc;

use super::authn::Principal;
use super::json::{no_store, respond, to_json, FieldsParam, JsonBody};
use super::resource::{self, Collection};
use crate::db;
use crate::error::AppError;
use crate::paging::{parse_order_by, Direction, ListParams};
use crate::registry::input::ServiceInput;
use crate::registry::model::ServiceView;
use crate::registry::query::ServiceQuery;
use crate::registry::repo;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    Collection::at("/api/rest/services", "{id}")
        .list(list)
        .create(create)
        .get(get)
        .update(update)
        .delete(delete)
        .register(cfg);
    cfg.route(
        "/api/rest/services/{id}/secret",
        web::post().to(reset_secret),
    );
}

async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<FieldsParam>,
    body: JsonBody<ServiceInput>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let fields = params.parse()?;
    let checked = body.0.check(true)?;
    let caller = principal.caller();
    let (service, uris, secret) = db::run(&state.pool, move |conn| {
        repo::register(conn, checked, crate::clock::now(), &caller)
    })
    .await?;
    let mut body = to_json(ServiceView::new(service, uris))?;
    // The only answer, with a secret reset's, that ever carries the secret.
    body["secret"] = json!(secret);
    Ok(no_store(respond(body, fields.as_ref())))
}

async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let query = ServiceQuery::parse(params.query_text())?;
    let order = match params.order_by.as_deref() {
        Some(text) => parse_order_by(text, repo::ORDERABLE)?,
        None => ("name", Direction::Asc),
    };
    let order = (order.0.to_owned(), order.1);
    let after_id = params.after()?.map(str::to_owned);
    resource::list(&state.pool, "services", &params, move |conn, page| {
        let after = after_id.map(|id| repo::after(conn, &id)).transpose()?;
        let (found, total) = repo::list(conn, &query, (&order.0, order.1), page, after.as_ref())?;
        let views = found
            .into_iter()
            .map(|(service, uris)| ServiceView::new(service, uris))
            .collect();
        Ok((views, total))
    })
    .await
}

async fn get(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    params: web::Query<FieldsParam>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let id = path.into_inner();
    resource::one(&state.pool, &params, move |conn| repo::find_view(conn, &id)).await
}

async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    params: web::Query<FieldsParam>,
    body: JsonBody<ServiceInput>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let checked = body.0.check(false)?;
    let id = path.into_inner();
    let cache = Arc::clone(&state.services);
    let caller = principal.caller();
    resource::one(&state.pool, &params, move |conn| {
        repo::update(conn, &id, checked.changes, checked.redirect_uris, &caller)?;
        cache.invalidate(&id);
        repo::find_view(conn, &id)
    })
    .await
}

async fn delete(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let id = path.into_inner();
    let cache = Arc::clone(&state.services);
    let caller = principal.caller();
    resource::delete(&state.pool, move |conn| {
        repo::delete(conn, &id, &caller)?;
        cache.invalidate(&id);
        Ok(())
    })
    .await
}

async fn reset_secret(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let id = path.into_inner();
    let answer_id = id.clone();
    let caller = principal.caller();
    let secret = db::run(&state.pool, move |conn| {
        repo::reset_secret(conn, &id, crate::clock::now(), &caller)
    })
    .await?;
    state.services.invalidate(&answer_id);
    Ok(no_store(
        HttpResponse::Ok().json(json!({ "id": answer_id, "secret": secret })),
    ))
}
