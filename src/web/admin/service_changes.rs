//! The console's service changes: create, save, trust, reset the secret and
//! delete, each through `registry::changes` as the REST API and the CLI
//! change services. A secret is shown once, on the page that answers the
//! change.
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::common::{administrator, confirm_page, csrf, form_administrator, refusal, Confirmation};
use super::service_form::{ServiceFields, ServiceForm};
use crate::audit::Caller;
use crate::error::AppError;
use crate::registry::application_type::ApplicationType;
use crate::registry::cache::ServiceCache;
use crate::registry::changes;
use crate::registry::model::Service;
use crate::registry::repo as services_repo;
use crate::state::AppState;
use crate::submissions::Sending;
use crate::web::login::CsrfOnly;
use crate::web::page::{render, render_with_script, see_other, PageError};
use crate::web::templates::{AdminSecret, AdminServiceForm, AdminServiceNew, Connect, KindChoice};
use crate::{clock, db, secrets};

fn secret_page(
    state: &AppState,
    heading: &str,
    service: &Service,
    redirect_uris: &[String],
    secret: String,
) -> HttpResponse {
    let nonce = secrets::generate();
    let page = AdminSecret {
        heading: heading.to_owned(),
        id: service.id.clone(),
        name: service.name.clone(),
        secret,
        script_nonce: nonce.clone(),
        connect: Connect::of(&state.issuer, service, redirect_uris),
    };
    render_with_script(StatusCode::OK, &page, vec![], &nonce)
}

/// The new-service form, blank or as it was sent.
pub fn new_service_page(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    sent: Option<&ServiceForm>,
    error: Option<String>,
) -> HttpResponse {
    let (csrf_token, cookies) = csrf(state, req);
    let text = |value: Option<&Option<String>>| value.cloned().flatten().unwrap_or_default();
    let chosen = sent
        .and_then(|form| form.application_type.as_deref())
        .unwrap_or(ApplicationType::Web.name());
    let page = AdminServiceNew {
        csrf_token,
        submission: sent
            .and_then(|form| form.submission.clone())
            .unwrap_or_else(secrets::generate),
        name: text(sent.map(|form| &form.name)),
        redirect_uris: text(sent.map(|form| &form.redirect_uris)),
        description: text(sent.map(|form| &form.description)),
        kinds: ApplicationType::ALL
            .into_iter()
            .map(|kind| KindChoice {
                name: kind.name(),
                label: kind.label(),
                hint: kind.hint(),
                chosen: kind.name() == chosen,
            })
            .collect(),
        error,
    };
    render(status, &page, cookies)
}

/// A new-service form sent again: what the first sending made, once.
fn sent_again(made: Option<String>) -> HttpResponse {
    match made {
        Some(id) => see_other(&format!("/admin/services/{id}?sent=twice"), vec![]),
        None => see_other("/admin/services?sent=twice", vec![]),
    }
}

/// A form key worth remembering: what `secrets::generate` makes.
fn submission_key(form: &ServiceForm) -> Option<String> {
    form.submission
        .clone()
        .filter(|key| !key.is_empty() && key.len() <= 128)
}

/// The service form: `id` None for a new service.
pub fn form_page(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    id: Option<&str>,
    fields: ServiceFields,
    error: Option<String>,
) -> HttpResponse {
    let (csrf_token, cookies) = csrf(state, req);
    let fields = match id {
        Some(_) => fields.without_trust(),
        None => fields,
    };
    let page = AdminServiceForm {
        heading: match id {
            Some(_) => format!("Edit {}", fields.name),
            None => "New service".to_owned(),
        },
        action: match id {
            Some(id) => format!("/admin/services/{id}"),
            None => "/admin/services".to_owned(),
        },
        cancel: match id {
            Some(id) => format!("/admin/services/{id}"),
            None => "/admin/services".to_owned(),
        },
        csrf_token,
        fields,
        error,
    };
    render(status, &page, cookies)
}

/// Runs the change `work` (of `registry::changes`) on service `id` for the
/// administrator who sent the form.
async fn change_service<T: Send + 'static>(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    csrf_token: Option<&str>,
    id: &str,
    work: impl FnOnce(&mut db::DbConn, &ServiceCache, &str, &Caller) -> Result<T, AppError>
        + Send
        + 'static,
) -> Result<T, PageError> {
    let admin = form_administrator(state, req, csrf_token).await?;
    let caller = Caller::user(&admin.user.id, state.origin(req));
    let (target, cache) = (id.to_owned(), Arc::clone(&state.services));
    let done = db::run(&state.pool, move |conn| {
        work(conn, &cache, &target, &caller)
    })
    .await?;
    Ok(done)
}

pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<ServiceForm>,
) -> Result<HttpResponse, PageError> {
    let admin = form_administrator(&state, &req, form.csrf_token.as_deref()).await?;
    let form = form.into_inner();
    let key = submission_key(&form);
    if let Some(key) = &key {
        if let Sending::Again(made) = state.submissions.begin(key) {
            return Ok(sent_again(made));
        }
    }
    let caller = Caller::user(&admin.user.id, state.origin(&req));
    let registered = match form
        .clone()
        .into_input(true)
        .and_then(|input| input.check(true))
    {
        Ok(checked) => {
            db::run(&state.pool, move |conn| {
                changes::create(conn, checked, clock::now(), &caller)
            })
            .await
        }
        Err(error) => Err(error),
    };
    let created = match registered {
        Ok(created) => created,
        Err(error) => {
            if let Some(key) = &key {
                state.submissions.forget(key);
            }
            let message = Some(refusal(error)?);
            let status = StatusCode::BAD_REQUEST;
            return Ok(match form.application_type.is_some() {
                true => new_service_page(&state, &req, status, Some(&form), message),
                false => form_page(
                    &state,
                    &req,
                    status,
                    None,
                    ServiceFields::sent(form),
                    message,
                ),
            });
        }
    };
    if let Some(key) = &key {
        state.submissions.made(key, &created.service.id);
    }
    Ok(secret_page(
        &state,
        "Service registered",
        &created.service,
        &created.redirect_uris,
        created.secret,
    ))
}

pub async fn edit(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    if let Err(redirect) = administrator(&state, &req).await? {
        return Ok(redirect);
    }
    let id = path.into_inner();
    let target = id.clone();
    let found = db::run(&state.pool, move |conn| {
        services_repo::find_view(conn, &target)
    })
    .await?;
    let fields = ServiceFields::of(&found.service, &found.redirect_uris);
    Ok(form_page(
        &state,
        &req,
        StatusCode::OK,
        Some(&id),
        fields,
        None,
    ))
}

pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<ServiceForm>,
) -> Result<HttpResponse, PageError> {
    let admin = form_administrator(&state, &req, form.csrf_token.as_deref()).await?;
    let id = path.into_inner();
    let form = form.into_inner();
    let caller = Caller::user(&admin.user.id, state.origin(&req));
    let (target, cache) = (id.clone(), Arc::clone(&state.services));
    let saved = match form
        .clone()
        .into_input(false)
        .and_then(|input| input.check(false))
    {
        Ok(checked) => {
            db::run(&state.pool, move |conn| {
                changes::update(conn, &cache, &target, checked, &caller).map(drop)
            })
            .await
        }
        Err(error) => Err(error),
    };
    match saved {
        Ok(()) => Ok(see_other(&format!("/admin/services/{id}"), vec![])),
        Err(error) => Ok(form_page(
            &state,
            &req,
            StatusCode::BAD_REQUEST,
            Some(&id),
            ServiceFields::sent(form),
            Some(refusal(error)?),
        )),
    }
}

#[derive(Debug, Deserialize)]
pub struct TrustForm {
    csrf_token: Option<String>,
    /// "on" or "off".
    trusted: Option<String>,
}

pub async fn trust(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<TrustForm>,
) -> Result<HttpResponse, PageError> {
    let trusted = match form.trusted.as_deref() {
        Some("on") => Some(true),
        Some("off") => Some(false),
        _ => None,
    };
    let id = path.into_inner();
    let csrf = form.csrf_token.as_deref();
    change_service(
        &req,
        &state,
        csrf,
        &id,
        move |conn, cache, id, caller| match trusted {
            Some(trusted) => changes::set_trusted(conn, cache, id, trusted, caller),
            None => Err(AppError::bad_request("Say trusted=on or trusted=off.")),
        },
    )
    .await?;
    Ok(see_other(&format!("/admin/services/{id}"), vec![]))
}

/// The confirmation asked before a secret reset or a deletion.
pub async fn confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    if let Err(redirect) = administrator(&state, &req).await? {
        return Ok(redirect);
    }
    let (id, action) = path.into_inner();
    let target = id.clone();
    let service = db::run(&state.pool, move |conn| services_repo::find(conn, &target)).await?;
    let (heading, message, button) = match action.as_str() {
        "reset-secret" => (
            format!("Reset the secret of {}?", service.name),
            "A new secret is made and shown once. The current one stops working at once: \
             the service cannot get tokens until it is given the new one.",
            "Reset the secret",
        ),
        "delete" => (
            format!("Delete {}?", service.name),
            "The service is removed from the registry. Every grant to it is revoked: \
             its users' tokens, codes and refresh tokens stop working.",
            "Delete the service",
        ),
        _ => return Err(PageError::from(AppError::not_found("page"))),
    };
    let asked = Confirmation {
        heading,
        message,
        action: format!("/admin/services/{id}/{action}"),
        button,
        cancel: format!("/admin/services/{id}"),
    };
    Ok(confirm_page(&state, &req, asked))
}

pub async fn reset_secret(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    let id = path.into_inner();
    let csrf = form.csrf_token.as_deref();
    let (secret, found) = change_service(&req, &state, csrf, &id, |conn, cache, id, caller| {
        let secret = changes::reset_secret(conn, cache, id, clock::now(), caller)?;
        Ok((secret, services_repo::find_view(conn, id)?))
    })
    .await?;
    Ok(secret_page(
        &state,
        "New secret",
        &found.service,
        &found.redirect_uris,
        secret,
    ))
}

pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    let id = path.into_inner();
    let csrf = form.csrf_token.as_deref();
    change_service(&req, &state, csrf, &id, changes::delete).await?;
    // Its permissions went with it.
    state.access.graph_changed();
    Ok(see_other("/admin/services", vec![]))
}
