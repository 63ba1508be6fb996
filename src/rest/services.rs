//! `/api/rest/services`: thin handlers over `registry::changes` (changes)
//! and `repo` (reads); every call needs an admin.
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
use crate::registry::{changes, repo};
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

#[utoipa::path(
    operation_id = "services_create",
    post,
    path = "/api/rest/services",
    tag = "services",
    summary = "Register a service; the answer carries its secret, shown this once",
    params(crate::rest::json::FieldsParam),
    request_body = crate::registry::input::ServiceInput,
    responses((status = 200, body = crate::registry::model::ServiceView, description = "The service, with `secret`"), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<FieldsParam>,
    body: JsonBody<ServiceInput>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let fields = params.parse()?;
    let checked = body.0.check(true)?;
    let caller = principal.caller();
    let created = db::run(&state.pool, move |conn| {
        changes::create(conn, checked, crate::clock::now(), &caller)
    })
    .await?;
    let mut body = to_json(ServiceView::new(created.service, created.redirect_uris))?;
    // The only answer, with a secret reset's, that ever carries the secret.
    body["secret"] = json!(created.secret);
    Ok(no_store(respond(body, fields.as_ref())))
}

#[utoipa::path(
    operation_id = "services_list",
    get,
    path = "/api/rest/services",
    tag = "services",
    summary = "List services",
    params(crate::paging::ListParams),
    responses((status = 200, body = crate::rest::api_doc::ServiceList), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn list(
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

#[utoipa::path(
    operation_id = "services_get",
    get,
    path = "/api/rest/services/{id}",
    tag = "services",
    summary = "One service",
    params(("id" = String, Path, description = "A service id"), crate::rest::json::FieldsParam),
    responses((status = 200, body = crate::registry::model::ServiceView), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn get(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    params: web::Query<FieldsParam>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let id = path.into_inner();
    resource::one(&state.pool, &params, move |conn| repo::find_view(conn, &id)).await
}

#[utoipa::path(
    operation_id = "services_update",
    post,
    path = "/api/rest/services/{id}",
    tag = "services",
    summary = "Update part of a service: absent fields stay, null clears",
    params(("id" = String, Path, description = "A service id"), crate::rest::json::FieldsParam),
    request_body = crate::registry::input::ServiceInput,
    responses((status = 200, body = crate::registry::model::ServiceView), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn update(
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
        changes::update(conn, &cache, &id, checked, &caller)
    })
    .await
}

#[utoipa::path(
    operation_id = "services_delete",
    delete,
    path = "/api/rest/services/{id}",
    tag = "services",
    summary = "Delete a service, its grants, codes and refresh tokens",
    params(("id" = String, Path, description = "A service id")),
    responses((status = 200, body = crate::rest::api_doc::Empty), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn delete(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let id = path.into_inner();
    let cache = Arc::clone(&state.services);
    let caller = principal.caller();
    let deleted = resource::delete(&state.pool, move |conn| {
        changes::delete(conn, &cache, &id, &caller)
    })
    .await;
    // Told whether or not the answer got out: the write may have committed.
    // Its permissions went with it.
    state.access.graph_changed();
    deleted
}

#[utoipa::path(
    operation_id = "services_reset_secret",
    post,
    path = "/api/rest/services/{id}/secret",
    tag = "services",
    summary = "A new secret; the old one stops working at once",
    params(("id" = String, Path, description = "A service id")),
    responses((status = 200, body = crate::rest::api_doc::NewSecret), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn reset_secret(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    principal.require_admin()?;
    let id = path.into_inner();
    let answer_id = id.clone();
    let cache = Arc::clone(&state.services);
    let caller = principal.caller();
    let secret = db::run(&state.pool, move |conn| {
        changes::reset_secret(conn, &cache, &id, crate::clock::now(), &caller)
    })
    .await?;
    Ok(no_store(
        HttpResponse::Ok().json(json!({ "id": answer_id, "secret": secret })),
    ))
}
