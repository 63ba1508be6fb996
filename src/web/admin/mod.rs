//! The admin console at `/admin`: server-rendered pages over the same domain
//! functions as the REST API and the CLI. Every page and form needs a
//! signed-in administrator: others get 403, strangers the sign-in page (or
//! 403 for a form). Every form carries the CSRF token.
mod audit;
mod common;
pub mod connect;
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
use super::page_routes::{get_page, post_page};
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
    "/admin/users/{id}/delete",
    "/admin/keys/rotate",
];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(get_page("/admin", index))
        .service(get_page("/admin/services", services::list))
        .service(post_page("/admin/services", service_changes::create))
        .service(get_page("/admin/services/new", services::new))
        .service(get_page("/admin/services/{id}", services::show))
        .service(post_page("/admin/services/{id}", service_changes::update))
        .service(get_page("/admin/services/{id}/edit", service_changes::edit))
        .service(post_page(
            "/admin/services/{id}/trust",
            service_changes::trust,
        ))
        .service(post_page(
            "/admin/services/{id}/reset-secret",
            service_changes::reset_secret,
        ))
        .service(post_page(
            "/admin/services/{id}/delete",
            service_changes::delete,
        ))
        .service(get_page(
            "/admin/services/{id}/{action}",
            service_changes::confirm,
        ))
        .service(get_page("/admin/users", users::list))
        .service(post_page("/admin/users", user_changes::create))
        .service(get_page("/admin/users/new", users::new))
        .service(get_page("/admin/users/{id}", users::show))
        .service(post_page("/admin/users/{id}", user_changes::update))
        .service(post_page("/admin/users/{id}/ban", user_changes::ban))
        .service(post_page(
            "/admin/users/{id}/password",
            user_changes::set_password,
        ))
        .service(post_page(
            "/admin/users/{id}/apps/{service_id}/revoke",
            user_changes::revoke_app,
        ))
        .service(post_page(
            "/admin/users/{id}/tokens/{token_id}/delete",
            user_changes::delete_token,
        ))
        .service(get_page(
            "/admin/users/{id}/delete",
            user_changes::confirm_delete,
        ))
        .service(post_page("/admin/users/{id}/delete", user_changes::delete))
        .service(get_page("/admin/keys", keys::list))
        .service(post_page("/admin/keys/rotate", keys::rotate))
        .service(get_page("/admin/audit", audit::list));
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
