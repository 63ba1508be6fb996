//! `/api/rest/users/{id|me}/permanenttokens`.
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::authn::Principal;
use super::json::{no_store, respond, to_json, FieldsParam, JsonBody};
use super::resource::{self, Collection};
use crate::db;
use crate::error::AppError;
use crate::paging::ListParams;
use crate::registry::model::HUB_SERVICE_ID;
use crate::registry::repo as services_repo;
use crate::state::AppState;
use crate::users::permanent_tokens::{self as tokens, ScopeEntry};
use crate::users::repo;
use crate::validate::{self, MAX_SHORT_TEXT};

pub fn routes(cfg: &mut web::ServiceConfig) {
    Collection::at("/api/rest/users/{id}/permanenttokens", "{token_id}")
        .list(list)
        .create(create)
        .get(get)
        .delete(delete)
        .register(cfg);
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct ScopeRef {
    id: String,
}

/// Hub accepts the scope as a space-separated string or as `[{"id": …}]`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub(crate) enum ScopeInput {
    Text(String),
    Services(Vec<ScopeRef>),
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct TokenInput {
    name: Option<String>,
    scope: Option<ScopeInput>,
}

fn scope_ids(input: Option<ScopeInput>) -> Result<Vec<String>, AppError> {
    let text = match input {
        None => return Ok(vec![HUB_SERVICE_ID.to_owned()]),
        Some(ScopeInput::Text(text)) => text,
        Some(ScopeInput::Services(refs)) => {
            refs.into_iter().map(|r| r.id).collect::<Vec<_>>().join(" ")
        }
    };
    let ids = crate::scope::parse("scope", &text)?;
    if ids.is_empty() {
        return Err(AppError::bad_field(
            "scope",
            "scope must name at least one service",
        ));
    }
    Ok(ids)
}

fn entries(named: Vec<(String, String)>) -> Vec<ScopeEntry> {
    named
        .into_iter()
        .map(|(id, name)| ScopeEntry {
            id,
            name: Some(name),
        })
        .collect()
}

fn scope_view(conn: &mut db::DbConn, scope: &str) -> Result<Vec<ScopeEntry>, AppError> {
    let ids = crate::scope::parse("scope", scope)?;
    let named = services_repo::names_of(conn, &ids)?;
    // A service deleted since the token was made still shows, without a name.
    Ok(ids
        .into_iter()
        .map(|id| {
            let name = named.iter().find(|(k, _)| *k == id).map(|(_, n)| n.clone());
            ScopeEntry { id, name }
        })
        .collect())
}

#[utoipa::path(
    operation_id = "permanent_tokens_create",
    post,
    path = "/api/rest/users/{id}/permanenttokens",
    tag = "permanent tokens",
    summary = "Create a permanent token; the answer carries it, shown this once",
    params(("id" = String, Path, description = "A user id, or `me`"), crate::rest::json::FieldsParam),
    request_body = crate::rest::permanent_tokens::TokenInput,
    responses((status = 200, body = crate::users::permanent_tokens::TokenView), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    params: web::Query<FieldsParam>,
    body: JsonBody<TokenInput>,
) -> Result<HttpResponse, AppError> {
    let fields = params.parse()?;
    let user_id = principal.resolve_user_id(&path)?;
    if principal.user.guest {
        return Err(AppError::Forbidden(
            "the guest account cannot create tokens".into(),
        ));
    }
    let input = body.0;
    let name = validate::required_text("name", input.name.as_deref(), MAX_SHORT_TEXT)?;
    let ids = scope_ids(input.scope)?;
    let now = crate::clock::now();
    let caller = principal.caller();
    let view = db::run(&state.pool, move |conn| {
        let user = repo::find(conn, &user_id)?;
        let named = services_repo::require_registered(conn, "scope", &ids)?;
        let (row, plain) = tokens::create(conn, &user, name, &ids, now, &caller)?;
        Ok(tokens::view(&row, entries(named), Some(plain)))
    })
    .await?;
    Ok(no_store(respond(to_json(view)?, fields.as_ref())))
}

#[utoipa::path(
    operation_id = "permanent_tokens_list",
    get,
    path = "/api/rest/users/{id}/permanenttokens",
    tag = "permanent tokens",
    summary = "A user's permanent tokens",
    params(("id" = String, Path, description = "A user id, or `me`"), crate::paging::ListParams),
    responses((status = 200, body = crate::rest::api_doc::TokenList), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    let user_id = principal.resolve_user_id(&path)?;
    resource::list(
        &state.pool,
        "permanenttokens",
        &params,
        move |conn, page| {
            repo::find(conn, &user_id)?;
            let (rows, total) = tokens::list(conn, &user_id, page)?;
            let views = rows
                .iter()
                .map(|row| Ok(tokens::view(row, scope_view(conn, &row.scope)?, None)))
                .collect::<Result<Vec<_>, AppError>>()?;
            Ok((views, total))
        },
    )
    .await
}

#[utoipa::path(
    operation_id = "permanent_tokens_get",
    get,
    path = "/api/rest/users/{id}/permanenttokens/{token_id}",
    tag = "permanent tokens",
    summary = "One permanent token",
    params(("id" = String, Path, description = "A user id, or `me`"), ("token_id" = String, Path, description = "A permanent token id"), crate::rest::json::FieldsParam),
    responses((status = 200, body = crate::users::permanent_tokens::TokenView), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn get(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
    params: web::Query<FieldsParam>,
) -> Result<HttpResponse, AppError> {
    let (user_id, token_id) = principal.resolve_user_item(path.into_inner())?;
    resource::one(&state.pool, &params, move |conn| {
        let row = tokens::find(conn, &user_id, &token_id)?;
        Ok(tokens::view(&row, scope_view(conn, &row.scope)?, None))
    })
    .await
}

#[utoipa::path(
    operation_id = "permanent_tokens_delete",
    delete,
    path = "/api/rest/users/{id}/permanenttokens/{token_id}",
    tag = "permanent tokens",
    summary = "Delete a permanent token",
    params(("id" = String, Path, description = "A user id, or `me`"), ("token_id" = String, Path, description = "A permanent token id")),
    responses((status = 200, body = crate::rest::api_doc::Empty), crate::rest::api_doc::RestErrors),
    security(("bearer" = []))
)]
pub(crate) async fn delete(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (user_id, token_id) = principal.resolve_user_item(path.into_inner())?;
    let caller = principal.caller();
    resource::delete(&state.pool, move |conn| {
        tokens::delete(conn, &user_id, &token_id, &caller)
    })
    .await
}
