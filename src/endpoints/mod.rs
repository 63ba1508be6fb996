//! The OAuth 2.0 / OpenID Connect endpoints on the wire: thin handlers over
//! `crate::oauth2` and `crate::oidc`. Browser apps call them from other
//! origins, so they answer CORS, preflight included.
pub mod api_doc;
pub mod authorize;
pub mod client_guard;
pub mod device_authorization;
pub mod discovery;
pub mod dpop_proof;
pub mod error_response;
pub mod form;
pub mod introspect;
pub mod logout;
pub mod openapi;
pub mod par;
pub mod register;
pub mod revoke;
pub mod token;
pub mod userinfo;

use actix_cors::Cors;
use actix_web::web;

use crate::oidc::discovery::OAUTH_BASE;
use crate::web::page_routes::{page, post_page};

fn cors() -> Cors {
    Cors::default()
        .allow_any_origin()
        .allowed_methods(["GET", "POST", "PUT", "DELETE"])
        .allowed_headers(["Authorization", "Content-Type", "DPoP"])
        .expose_headers(["DPoP-Nonce", "WWW-Authenticate"])
        .max_age(3600)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/.well-known/openid-configuration")
            .wrap(cors())
            .route(web::get().to(discovery::discovery)),
    )
    .service(
        web::scope(OAUTH_BASE)
            .wrap(cors())
            .route(
                "/.well-known/openid-configuration",
                web::get().to(discovery::discovery_at_oauth_base),
            )
            .route("/keys", web::get().to(discovery::jwks))
            .service(
                page("/auth")
                    .route(web::get().to(authorize::auth_get))
                    .route(web::post().to(authorize::auth_post)),
            )
            .service(post_page("/auth/consent", authorize::consent_post))
            .route("/token", web::post().to(token::token))
            .route("/introspect", web::post().to(introspect::introspect))
            .route("/revoke", web::post().to(revoke::revoke))
            .service(
                page("/logout")
                    .route(web::get().to(logout::logout_get))
                    .route(web::post().to(logout::logout_post)),
            )
            .service(post_page("/logout/confirm", logout::confirm))
            .route("/register", web::post().to(register::register))
            .route("/par", web::post().to(par::push))
            .route("/device", web::post().to(device_authorization::start))
            .service(
                web::resource("/register/{client_id}")
                    .route(web::get().to(register::read))
                    .route(web::put().to(register::replace))
                    .route(web::delete().to(register::remove)),
            )
            .service(
                web::resource("/userinfo")
                    .route(web::get().to(userinfo::userinfo))
                    .route(web::post().to(userinfo::userinfo_post)),
            ),
    );
}
