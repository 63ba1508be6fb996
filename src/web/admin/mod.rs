//! The admin console at `/admin`: server-rendered pages over the same domain
//! functions as the REST API and the CLI. Every page and form needs a
//! signed-in administrator: others get 403, strangers the sign-in page (or
//! 403 for a form). Every form carries the CSRF token.
mod audit;
mod common;
mod keys;
mod service_changes;
pub mod service_form;
mod services;
mod user_changes;
mod users;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use common::administrator;

use super::page::{render, PageError};
use super::templates::AdminIndex;
use crate::state::AppState;

/// Every form the console posts to, with `{id}` and `{key}` for path
/// parameters: the tests post to each without a session, as a
/// non-administrator and without a CSRF token.
pub const FORMS: &[&str] = &[
    "/admin/services",
    "/admin/services/{id}",
    "/admin/services/{id}/trust",
    "/admin/services/{id}/reset-secret",
    "/admin/services/{id}/delete",
    "/admin/users",
    "/admin/users/{id}",
    "/admin/users/{id}/ban",
    "/admin/users/{id}/password",
    "/admin/users/{id}/apps/{key}/revoke",
    "/admin/users/{id}/tokens/{key}/delete",
    "/admin/keys/rotate",
];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin", web::get().to(index))
        .route("/admin/services", web::get().to(services::list))
        .route("/admin/services", web::post().to(service_changes::create))
        .route("/admin/services/new", web::get().to(services::new))
        .route("/admin/services/{id}", web::get().to(services::show))
        .route(
            "/admin/services/{id}",
            web::post().to(service_changes::update),
        )
        .route(
            "/admin/services/{id}/edit",
            web::get().to(service_changes::edit),
        )
        .route(
            "/admin/services/{id}/trust",
            web::post().to(service_changes::trust),
        )
        .route(
            "/admin/services/{id}/reset-secret",
            web::post().to(service_changes::reset_secret),
        )
        .route(
            "/admin/services/{id}/delete",
            web::post().to(service_changes::delete),
        )
        .route(
            "/admin/services/{id}/{action}",
            web::get().to(service_changes::confirm),
        )
        .route("/admin/users", web::get().to(users::list))
        .route("/admin/users", web::post().to(user_changes::create))
        .route("/admin/users/new", web::get().to(users::new))
        .route("/admin/users/{id}", web::get().to(users::show))
        .route("/admin/users/{id}", web::post().to(user_changes::update))
        .route("/admin/users/{id}/ban", web::post().to(user_changes::ban))
        .route(
            "/admin/users/{id}/password",
            web::post().to(user_changes::set_password),
        )
        .route(
            "/admin/users/{id}/apps/{service_id}/revoke",
            web::post().to(user_changes::revoke_app),
        )
        .route(
            "/admin/users/{id}/tokens/{token_id}/delete",
            web::post().to(user_changes::delete_token),
        )
        .route("/admin/keys", web::get().to(keys::list))
        .route("/admin/keys/rotate", web::post().to(keys::rotate))
        .route("/admin/audit", web::get().to(audit::list));
}

async fn index(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let admin = match administrator(&state, &req).await? {
        Ok(session) => session,
        Err(redirect) => return Ok(redirect),
    };
    let page = AdminIndex {
        login: admin.user.login,
    };
    Ok(render(StatusCode::OK, &page, vec![]))
}
