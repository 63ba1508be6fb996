//! `GET /api/openapi.json`: the OpenAPI 3.1 document of the REST API and the
//! OAuth 2.0 / OpenID Connect endpoints, generated from the handlers'
//! `#[utoipa::path]` annotations and the types they read and answer with,
//! built once per process.
use std::sync::OnceLock;

use actix_web::{web, HttpResponse};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::RefOr;
use utoipa::{Modify, OpenApi};

use super::{
    authorize, device_authorization, discovery, introspect, logout, par, register, revoke, token,
    userinfo,
};
use crate::oauth2::error::ErrorCode;
use crate::rest::openapi::RestApi;

#[derive(OpenApi)]
#[openapi(
    paths(
        discovery::discovery,
        discovery::discovery_at_oauth_base,
        discovery::jwks,
        authorize::auth_get,
        authorize::auth_post,
        authorize::consent_post,
        crate::web::upstream::callback,
        token::token,
        introspect::introspect,
        revoke::revoke,
        userinfo::userinfo,
        userinfo::userinfo_post,
        par::push,
        device_authorization::start,
        register::register,
        register::read,
        register::replace,
        register::remove,
        logout::logout_get,
        logout::logout_post,
        logout::confirm,
    ),
    // The error body is inlined in each answer; the codes it names are a
    // schema of their own that nothing else would register.
    components(schemas(ErrorCode)),
    modifiers(&ClientAuth)
)]
struct OAuthApi;

/// `client_secret_basic`; the form's `client_secret` or `client_assertion`,
/// or a public client's `client_id`, are the alternatives.
struct ClientAuth;

impl Modify for ClientAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
    }
}

const DESCRIPTION: &str = "idhub's REST API in JetBrains Hub's style (`fields`, `$skip`/`$top` \
paging, `query`; every call takes a bearer token: a permanent token `perm:…` or an access token \
for the Hub service `0-0-0-0-0`), and its OAuth 2.0 / OpenID Connect endpoints. Scopes are \
space-separated service ids.";

fn combined() -> utoipa::openapi::OpenApi {
    let mut document = RestApi::openapi().merge_from(OAuthApi::openapi());
    document.info.title = "idhub".into();
    document.info.description = Some(DESCRIPTION.into());
    list_error_codes_once(&mut document);
    document
}

/// Two `ErrorCode` variants are written alike: `access_denied` is a 403 at
/// the authorization endpoint and a 400 when a device's user said no. Client
/// generators want each value of an enum once.
fn list_error_codes_once(document: &mut utoipa::openapi::OpenApi) {
    let Some(components) = document.components.as_mut() else {
        return;
    };
    let Some(RefOr::T(Schema::Object(codes))) = components.schemas.get_mut("ErrorCode") else {
        return;
    };
    if let Some(values) = codes.enum_values.as_mut() {
        let mut listed: Vec<serde_json::Value> = Vec::new();
        values.retain(|value| {
            let first = !listed.contains(value);
            if first {
                listed.push(value.clone());
            }
            first
        });
    }
}

/// The document, serialized once.
pub fn document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| combined().to_json().unwrap_or_default())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/openapi.json", web::get().to(serve));
}

async fn serve() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document())
}
