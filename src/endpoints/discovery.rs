//! The discovery document and the JWKS, both served from memory.
use actix_web::http::header::CACHE_CONTROL;
use actix_web::{web, HttpResponse};

use crate::state::AppState;

pub async fn discovery(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((CACHE_CONTROL, "public, max-age=300"))
        .body(state.discovery.clone())
}

pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    let keys = state.keys.current(&state.pool).await;
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((CACHE_CONTROL, "public, max-age=60"))
        .body(keys.jwks.clone())
}
