//! Signing in through an `oidc` auth module: "Sign in with NAME" sends the
//! browser to the provider (code flow, PKCE, `state` bound to this browser
//! by a cookie, `nonce`), and the provider sends it back to
//! `/api/rest/oauth2/authmodules/{id}/callback`, where the code is
//! exchanged, the ID token verified, and `auth_modules::identities`
//! decides who signed in. A provider that is down, slow or wrong gives a
//! sign-in page naming the module, never a 500.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::cookies;
use super::login::{login_form, start_session};
use super::page::{see_other, PageError};
use super::page_routes::post_page;
use crate::audit::{self, Actor, Caller, Event, Kind};
use crate::auth_modules::identities::{self, Refusal, Resolved};
use crate::auth_modules::model::{AuthModule, ModuleKind};
use crate::auth_modules::repo;
use crate::auth_modules::upstream::{Pending, Upstream, UpstreamError};
use crate::error::AppError;
use crate::factors::passkey_repo::{self, Purpose};
use crate::state::AppState;
use crate::{clock, db};

/// How long the browser has at the provider.
const PENDING_TTL_SECS: i64 = 600;
/// RFC 8176 has no word for a sign-in through another provider; Hub-style
/// `ext` says federated.
pub const EXTERNAL: &str = "ext";

/// The start; the callback is under the OAuth endpoints' scope
/// (`endpoints::routes`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(post_page("/login/with/{module_id}", start));
}

#[derive(Deserialize)]
struct StartForm {
    csrf_token: Option<String>,
    return_to: Option<String>,
}

/// The sign-in page again, saying why the module did not sign anyone in.
fn refused(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    return_to: &str,
    message: String,
) -> HttpResponse {
    login_form(req, state, status, return_to, "", Some(message), None)
}

/// The enabled `oidc` module `id`, with its secret opened.
async fn module_of(
    state: &AppState,
    id: String,
) -> Result<Option<(AuthModule, Option<String>)>, PageError> {
    if id.len() > 64 || id.chars().any(char::is_control) {
        return Ok(None);
    }
    let keys = state.keys.clone();
    Ok(db::run(&state.pool, move |conn| {
        let module = match repo::find(conn, &id) {
            Ok(module) => module,
            Err(AppError::NotFound(_)) => return Ok(None),
            Err(other) => return Err(other),
        };
        let usable = module.enabled && repo::kind_of(&module)? == ModuleKind::Oidc;
        match usable {
            true => {
                let secret = repo::secret(keys.encryption(), &module)?;
                Ok(Some((module, secret)))
            }
            false => Ok(None),
        }
    })
    .await?)
}

fn callback_uri(state: &AppState, module_id: &str) -> String {
    format!(
        "{}/api/rest/oauth2/authmodules/{module_id}/callback",
        state.issuer
    )
}

async fn start(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<StartForm>,
) -> Result<HttpResponse, PageError> {
    cookies::check_csrf(&req, form.csrf_token.as_deref())?;
    let return_to = cookies::safe_return_to(form.return_to.as_deref());
    let Some((module, secret)) = module_of(&state, path.into_inner()).await? else {
        let gone = "That way of signing in is not available.".to_owned();
        return Ok(refused(
            &req,
            &state,
            StatusCode::NOT_FOUND,
            &return_to,
            gone,
        ));
    };
    let settings = repo::settings_of(&module)?;
    let upstream = Upstream {
        settings: &settings,
        secret,
        redirect_uri: callback_uri(&state, &module.id),
    };
    let (url, oauth_state, pending) = match upstream.start(&module.id, &return_to).await {
        Ok(started) => started,
        Err(error) => return Ok(failed(&req, &state, &module, &return_to, &error)),
    };
    let kept = serde_json::to_string(&pending).map_err(|e| AppError::internal(e.to_string()))?;
    let handle = oauth_state.clone();
    db::run(&state.pool, move |conn| {
        passkey_repo::keep_ceremony(
            conn,
            Purpose::Upstream,
            &handle,
            None,
            &kept,
            PENDING_TTL_SECS,
            clock::now(),
        )
    })
    .await?;
    let bound = cookies::upstream_cookie(oauth_state, state.secure_cookies());
    Ok(see_other(&url, vec![bound]))
}

fn failed(
    req: &HttpRequest,
    state: &AppState,
    module: &AuthModule,
    return_to: &str,
    error: &UpstreamError,
) -> HttpResponse {
    crate::telemetry::sign_in_failed("auth_module", "provider");
    tracing::warn!(module = %module.name, %error, "a sign-in through an auth module failed");
    let message = format!("Sign in with {} did not work: {error}.", module.name);
    refused(req, state, StatusCode::BAD_GATEWAY, return_to, message)
}

/// What the provider sends the browser back with (OpenID Connect Core
/// §3.1.2.5, §3.1.2.6).
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    /// The authorization code to exchange.
    code: Option<String>,
    /// The `state` this browser's sign-in was started with.
    state: Option<String>,
    /// The provider's error, instead of a code.
    error: Option<String>,
}

/// What the callback answers the browser with.
#[derive(utoipa::IntoResponses)]
pub enum CallbackPages {
    /// Signed in: on to where the sign-in was going, with a session
    #[response(status = 303)]
    SignedIn,
    /// A `state` this browser did not start, or one used already
    #[response(status = 400, content_type = "text/html")]
    NotOurs(String),
    /// Nobody here is this person (the module creates and links no one), or they are banned
    #[response(status = 403, content_type = "text/html")]
    Refused(String),
    /// The provider could not be reached, or its answer did not check out
    #[response(status = 502, content_type = "text/html")]
    ProviderFailed(String),
}

#[utoipa::path(
    operation_id = "auth_module_callback",
    get,
    path = "/api/rest/oauth2/authmodules/{module_id}/callback",
    tag = "oauth2",
    summary = "Where an upstream OpenID provider sends the browser back after a sign-in through an auth module",
    params(("module_id" = String, Path, description = "The auth module"), CallbackQuery),
    responses(CallbackPages)
)]
pub async fn callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<CallbackQuery>,
) -> Result<HttpResponse, PageError> {
    let module_id = path.into_inner();
    let presented = query.state.clone().unwrap_or_default();
    let bound = req
        .cookie(cookies::UPSTREAM_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    let same_browser = !presented.is_empty()
        && presented.len() <= 128
        && bool::from(presented.as_bytes().ct_eq(bound.as_bytes()));
    let not_ours = |why: &str| {
        refused(
            &req,
            &state,
            StatusCode::BAD_REQUEST,
            "/",
            format!("This sign-in cannot go on: {why}. Start again."),
        )
    };
    if !same_browser {
        return Ok(not_ours("it was not started in this browser"));
    }
    let taken = db::run(&state.pool, move |conn| {
        passkey_repo::take_ceremony(conn, &presented, Purpose::Upstream, clock::now())
    })
    .await?;
    let pending: Option<Pending> = taken.and_then(|(_, kept)| serde_json::from_str(&kept).ok());
    let Some(pending) = pending.filter(|p| p.module_id == module_id) else {
        return Ok(not_ours("it expired or was finished already"));
    };
    let done = cookies::expired_upstream_cookie(state.secure_cookies());
    let return_to = cookies::safe_return_to(Some(&pending.return_to));
    let Some((module, secret)) = module_of(&state, module_id).await? else {
        return Ok(not_ours("that way of signing in is not available any more"));
    };
    if let Some(error) = &query.error {
        let said = error.chars().take(100).collect::<String>();
        let error = UpstreamError::Refused(format!("the provider said {said}"));
        return Ok(failed(&req, &state, &module, &return_to, &error));
    }
    let settings = repo::settings_of(&module)?;
    let upstream = Upstream {
        settings: &settings,
        secret,
        redirect_uri: callback_uri(&state, &module.id),
    };
    let code = query.code.clone().unwrap_or_default();
    let external = match upstream.finish(&code, &pending).await {
        Ok(external) => external,
        Err(error) => return Ok(failed(&req, &state, &module, &return_to, &error)),
    };
    let (origin, now, checked) = (state.origin(&req), clock::now(), module.clone());
    let resolved = db::run(&state.pool, move |conn| {
        let caller = Caller {
            actor: Actor::Service(checked.id.clone()),
            origin: origin.clone(),
        };
        let resolved = identities::resolve(conn, &checked, &external, now, &caller)?;
        let event = match &resolved {
            Resolved::User(user, _) => {
                Event::new(Kind::SignInSucceeded, Actor::User(user.id.clone()), origin)
                    .user(&user.id)
            }
            Resolved::Refused(why) => Event::new(Kind::SignInFailed, Actor::Anonymous, origin)
                .detail("reason", why.reason()),
        };
        let event = event
            .detail("via", "auth_module")
            .detail("authModule", checked.id.as_str());
        audit::store::record(conn, &event, now)?;
        Ok(resolved)
    })
    .await?;
    match resolved {
        Resolved::User(user, _) => {
            let session = start_session(&state, &req, user.id, EXTERNAL, now).await?;
            Ok(see_other(&return_to, vec![session, done]))
        }
        Resolved::Refused(why) => {
            crate::telemetry::sign_in_failed("auth_module", why.reason());
            let message = match why {
                Refusal::NoAccount => format!(
                    "Nobody here signs in with that {} account. Ask an administrator.",
                    module.name
                ),
                Refusal::Banned => "This account is banned.".to_owned(),
            };
            let mut page = refused(&req, &state, StatusCode::FORBIDDEN, &return_to, message);
            page.add_cookie(&done)
                .map_err(|e| AppError::internal(e.to_string()))?;
            Ok(page)
        }
    }
}
