//! `/`: who is signed in and where to go from here, or a sign-in link.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::login::current_session;
use super::page::{render, PageError};
use super::page_routes::get_page;
use super::templates::{Home, SignedIn};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(get_page("/", home));
}

async fn home(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let signed_in = current_session(&state, &req)
        .await?
        .filter(|session| !session.user.guest)
        .map(|session| SignedIn {
            name: session.user.name,
            login: session.user.login,
            admin: session.user.admin,
        });
    Ok(render(StatusCode::OK, &Home { signed_in }, vec![]))
}
