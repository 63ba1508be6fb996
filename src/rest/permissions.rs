//! `/api/rest/permissions`: thin handlers over `authz::permissions`. An
//! admin manages every service's permissions; a service, with its own
//! client-credentials token for the Hub, declares and manages its own.
use actix_web::{web, HttpResponse};

use super::authn::Bearer;
use super::json::{FieldsParam, JsonBody};
use super::resource::{self, Collection};
use crate::authz::input::PermissionInput;
use crate::authz::model::PermissionView;
use crate::authz::permissions::{self as repo, Steward};
use crate::error::AppError;
use crate::paging::ListParams;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    Collection::at("/api/rest/permissions", "{id}")
        .list(list)
        .create(create)
        .get(get)
        .update(update)
        .delete(delete)
        .register(cfg);
}

/// Who may manage permissions, and whose: admins any, services their own.
fn steward(bearer: &Bearer) -> Result<Steward<'_>, AppError> {
    match bearer {
        Bearer::User(principal) => principal.require_admin().map(|()| Steward::Admin),
        Bearer::Service(caller) => {
            let service = &caller.service;
            // As the token endpoint: only a trusted service with client
            // credentials acts for itself, whatever tokens it still holds.
            if !service.trusted || !service.client_credentials_flow_enabled {
                return Err(AppError::Forbidden(
                    "the service is no longer trusted to act for itself".into(),
                ));
            }
            Ok(Steward::Service(&service.id))
        }
    }
}

/// `query`: words of the key or name, and `service:ID` for one service.
fn parse_query(text: &str) -> (String, Option<String>) {
    let mut words = Vec::new();
    let mut service = None;
    for term in text.split_whitespace() {
        match term.strip_prefix("service:") {
            Some(id) => service = Some(id.to_owned()),
            None => words.push(term),
        }
    }
    (words.join(" "), service)
}

#[utoipa::path(
    operation_id = "permissions_create",
    post,
    path = "/api/rest/permissions",
    tag = "permissions",
    summary = "Declare a permission of a service: an admin names the `service`; a service's own token may leave it out",
    params(crate::rest::json::FieldsParam),
    request_body = crate::authz::input::PermissionInput,
    responses((status = 200, body = crate::authz::model::PermissionView), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn create(
    state: web::Data<AppState>,
    bearer: Bearer,
    params: web::Query<FieldsParam>,
    body: JsonBody<PermissionInput>,
) -> Result<HttpResponse, AppError> {
    let named = body.0.service.as_ref().map(|s| s.id.clone());
    let service_id = match (steward(&bearer)?, named) {
        (Steward::Admin, Some(id)) => id,
        (Steward::Admin, None) => {
            return Err(AppError::bad_field("service", "service is required"))
        }
        (Steward::Service(own), None) => own.to_owned(),
        (Steward::Service(own), Some(id)) if id == own => id,
        (Steward::Service(_), Some(_)) => {
            return Err(AppError::Forbidden(
                "a service may declare permissions of its own only".into(),
            ))
        }
    };
    let changes = body.0.check(true)?;
    let caller = bearer.caller();
    let created = resource::one(&state.pool, &params, move |conn| {
        repo::create(conn, &service_id, changes, crate::clock::now(), &caller)
            .map(PermissionView::from)
    })
    .await;
    // Told whether or not the answer got out: the write may have committed.
    // What is new may be named by the next grant this instance reads.
    state.access.graph_changed();
    created
}

#[utoipa::path(
    operation_id = "permissions_list",
    get,
    path = "/api/rest/permissions",
    tag = "permissions",
    summary = "List permissions by service and key; `query` keeps those whose key or name contains every word, `service:ID` one service's. A service sees its own only",
    params(crate::paging::ListParams),
    responses((status = 200, body = crate::rest::api_doc::PermissionList), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    bearer: Bearer,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    let (text, named) = parse_query(params.search_text()?);
    let service = match steward(&bearer)? {
        Steward::Admin => named,
        Steward::Service(own) if named.as_deref().is_none_or(|id| id == own) => {
            Some(own.to_owned())
        }
        Steward::Service(_) => {
            return Err(AppError::Forbidden(
                "a service may list permissions of its own only".into(),
            ))
        }
    };
    resource::list(&state.pool, "permissions", &params, move |conn, page| {
        let (found, total) = repo::list(conn, &text, service.as_deref(), page)?;
        Ok((found.into_iter().map(PermissionView::from).collect(), total))
    })
    .await
}

#[utoipa::path(
    operation_id = "permissions_get",
    get,
    path = "/api/rest/permissions/{id}",
    tag = "permissions",
    summary = "One permission",
    params(("id" = String, Path, description = "A permission id"), crate::rest::json::FieldsParam),
    responses((status = 200, body = crate::authz::model::PermissionView), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn get(
    state: web::Data<AppState>,
    bearer: Bearer,
    path: web::Path<String>,
    params: web::Query<FieldsParam>,
) -> Result<HttpResponse, AppError> {
    let owner = own_service(&bearer)?;
    let id = path.into_inner();
    resource::one(&state.pool, &params, move |conn| {
        repo::find(conn, &id, as_steward(owner.as_deref())).map(PermissionView::from)
    })
    .await
}

/// The steward, owned, so it can move to the blocking pool.
fn own_service(bearer: &Bearer) -> Result<Option<String>, AppError> {
    Ok(match steward(bearer)? {
        Steward::Admin => None,
        Steward::Service(id) => Some(id.to_owned()),
    })
}

fn as_steward(owner: Option<&str>) -> Steward<'_> {
    owner.map_or(Steward::Admin, Steward::Service)
}

#[utoipa::path(
    operation_id = "permissions_update",
    post,
    path = "/api/rest/permissions/{id}",
    tag = "permissions",
    summary = "Update part of a permission: absent fields stay; its service does not change",
    params(("id" = String, Path, description = "A permission id"), crate::rest::json::FieldsParam),
    request_body = crate::authz::input::PermissionInput,
    responses((status = 200, body = crate::authz::model::PermissionView), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn update(
    state: web::Data<AppState>,
    bearer: Bearer,
    path: web::Path<String>,
    params: web::Query<FieldsParam>,
    body: JsonBody<PermissionInput>,
) -> Result<HttpResponse, AppError> {
    let owner = own_service(&bearer)?;
    let changes = body.0.check(false)?;
    let (id, caller) = (path.into_inner(), bearer.caller());
    let updated = resource::one(&state.pool, &params, move |conn| {
        let steward = as_steward(owner.as_deref());
        repo::update(conn, &id, changes, steward, crate::clock::now(), &caller)
            .map(PermissionView::from)
    })
    .await;
    // Told whether or not the answer got out: the write may have committed.
    state.access.graph_changed();
    updated
}

#[utoipa::path(
    operation_id = "permissions_delete",
    delete,
    path = "/api/rest/permissions/{id}",
    tag = "permissions",
    summary = "Delete a permission; the roles that bundled it lose it",
    params(("id" = String, Path, description = "A permission id")),
    responses((status = 200, body = crate::rest::api_doc::Empty), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn delete(
    state: web::Data<AppState>,
    bearer: Bearer,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let owner = own_service(&bearer)?;
    let (id, caller) = (path.into_inner(), bearer.caller());
    let deleted = resource::delete(&state.pool, move |conn| {
        let steward = as_steward(owner.as_deref());
        repo::delete(conn, &id, steward, crate::clock::now(), &caller)
    })
    .await;
    // Told whether or not the answer got out: the write may have committed.
    state.access.graph_changed();
    deleted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_names_words_and_one_service() {
        assert_eq!(
            parse_query(" issue service:abc  read "),
            ("issue read".to_owned(), Some("abc".to_owned()))
        );
        assert_eq!(parse_query(""), (String::new(), None));
    }
}
