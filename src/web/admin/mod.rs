//! The admin console at `/admin`: server-rendered pages over the same domain
//! functions as the REST API and the CLI. Every page and form needs a
//! signed-in administrator: others get 403, strangers the sign-in page.
mod audit;
mod common;
mod services;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use common::administrator;

use super::page::{render, PageError};
use super::templates::AdminIndex;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin", web::get().to(index))
        .route("/admin/services", web::get().to(services::list))
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
