//! Liveness and readiness for orchestrators.
use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::db;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/health/live", web::get().to(live))
        .route("/health/ready", web::get().to(ready));
}

async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "live" }))
}

/// Ready only while the database answers within the pool's timeout and has
/// not refused a write for lack of space in the last seconds.
async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let unavailable = |reason: &str| {
        HttpResponse::ServiceUnavailable()
            .json(json!({ "status": "unavailable", "database": reason }))
    };
    if state.pool.out_of_space_recently() {
        return unavailable("out of space");
    }
    match db::run(&state.pool, |conn| Ok(db::ping(conn))).await {
        Ok(true) => HttpResponse::Ok().json(json!({ "status": "ready" })),
        _ => unavailable("unreachable"),
    }
}
