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
use crate::web::page_routes::page;

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
            .service(
                web::resource("/.well-known/openid-configuration")
                    .route(web::get().to(discovery::discovery_at_oauth_base)),
            )
            .service(web::resource("/keys").route(web::get().to(discovery::jwks)))
            .service(
                page("/auth")
                    .route(web::get().to(authorize::auth_get))
                    .route(web::post().to(authorize::auth_post)),
            )
            .service(page("/auth/consent").route(web::post().to(authorize::consent_post)))
            .service(
                page("/authmodules/{module_id}/callback")
                    .route(web::get().to(crate::web::upstream::callback)),
            )
            .service(web::resource("/token").route(web::post().to(token::token)))
            .service(web::resource("/introspect").route(web::post().to(introspect::introspect)))
            .service(web::resource("/revoke").route(web::post().to(revoke::revoke)))
            .service(
                page("/logout")
                    .route(web::get().to(logout::logout_get))
                    .route(web::post().to(logout::logout_post)),
            )
            .service(page("/logout/confirm").route(web::post().to(logout::confirm)))
            .service(web::resource("/register").route(web::post().to(register::register)))
            .service(web::resource("/par").route(web::post().to(par::push)))
            .service(web::resource("/device").route(web::post().to(device_authorization::start)))
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
