//! `GET|POST /api/rest/oauth2/auth` and the consent decision: sign-in, consent,
//! then a code and/or tokens sent back to the client.
pub mod respond;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Duration;

use respond::{error_to_client, to_client};

use super::form::OAuthForm;
use crate::audit::{Actor, Event, Kind};
use crate::error::AppError;
use crate::oauth2::access_token::{self, Grantable};
use crate::oauth2::authorize::{self as request, Allowed, AuthRequest, Credentials, Params};
use crate::oauth2::error::{ErrorCode, OAuthError};
use crate::oauth2::{consents, par, scope_rules};
use crate::oidc::id_token::{self, IdTokenFor};
use crate::registry::model::Service;
use crate::registry::redirect_uri::OUT_OF_BAND;
use crate::registry::repo as services_repo;
use crate::rest::request_log::note_client;
use crate::state::AppState;
use crate::users::model::{User, GUEST_LOGIN};
use crate::users::repo as users_repo;
use crate::web::login::current_session;
use crate::web::page::{render, see_other, PageError};
use crate::web::{consent, cookies, templates};
use crate::{clock, db, telemetry};

pub const AUTH_PATH: &str = "/api/rest/oauth2/auth";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Allow,
    Deny,
}

#[utoipa::path(
    operation_id = "authorize",
    get,
    path = "/api/rest/oauth2/auth",
    tag = "oauth2",
    summary = "The authorization endpoint",
    params(crate::endpoints::api_doc::AuthorizeParams),
    responses(crate::endpoints::api_doc::AuthorizationPages)
)]
pub async fn auth_get(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let params = OAuthForm::for_page(&req, req.query_string().as_bytes())?;
    authorize(&req, &state, params.into_pairs(), None).await
}

#[utoipa::path(
    operation_id = "authorize_post",
    post,
    path = "/api/rest/oauth2/auth",
    tag = "oauth2",
    summary = "The authorization endpoint, its request in a form",
    request_body(content = crate::endpoints::api_doc::AuthorizeParams, content_type = "application/x-www-form-urlencoded"),
    responses(crate::endpoints::api_doc::AuthorizationPages)
)]
pub async fn auth_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let params = OAuthForm::for_page(&req, &body)?;
    authorize(&req, &state, params.into_pairs(), None).await
}

/// The consent form: the original request, the CSRF token and Allow or Deny.
#[utoipa::path(
    operation_id = "consent",
    post,
    path = "/api/rest/oauth2/auth/consent",
    tag = "oauth2",
    summary = "The consent page's decision",
    request_body(content = crate::endpoints::api_doc::ConsentForm, content_type = "application/x-www-form-urlencoded"),
    responses(crate::endpoints::api_doc::ConsentPages, crate::endpoints::api_doc::ForgedForm)
)]
pub async fn consent_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let mut pairs = OAuthForm::for_page(&req, &body)?.into_pairs();
    let take = |pairs: &mut Vec<(String, String)>, key: &str| {
        let index = pairs.iter().position(|(k, _)| k == key)?;
        Some(pairs.remove(index).1)
    };
    let csrf = take(&mut pairs, "csrf_token");
    cookies::check_csrf(&req, csrf.as_deref())?;
    let decision = match take(&mut pairs, "decision").as_deref() {
        Some("allow") => Decision::Allow,
        Some("deny") => Decision::Deny,
        _ => return Err(PageError::bad_request("Choose Allow or Deny.")),
    };
    authorize(&req, &state, pairs, Some(decision)).await
}

/// A request naming a `request_uri` is the one its client pushed (RFC 9126
/// §4); other parameters beside it are ignored. Returns the request and,
/// when pushed, its `request_uri`.
async fn pushed_or_sent(
    state: &AppState,
    params: Vec<(String, String)>,
) -> Result<(Vec<(String, String)>, Option<String>), PageError> {
    let p = Params(&params);
    let Some(request_uri) = p.get("request_uri").map(str::to_owned) else {
        return Ok((params, None));
    };
    let client_id = p
        .get("client_id")
        .ok_or_else(|| PageError::bad_request("A request_uri needs its client_id."))?
        .to_owned();
    let (now, uri) = (clock::now(), request_uri.clone());
    let pushed = db::run(&state.pool, move |conn| {
        par::load(conn, &client_id, &uri, now)
    })
    .await?
    .ok_or_else(|| {
        PageError::bad_request("The request_uri is unknown, expired or already used.")
    })?;
    Ok((pushed, Some(request_uri)))
}

async fn authorize(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    params: Vec<(String, String)>,
    decision: Option<Decision>,
) -> Result<HttpResponse, PageError> {
    let (params, pushed) = pushed_or_sent(state, params).await?;
    // What the sign-in and consent pages carry back: a pushed request by its
    // request_uri only, so the browser cannot change it.
    let carried: Vec<(String, String)> = match &pushed {
        Some(uri) => vec![
            (
                "client_id".into(),
                Params(&params)
                    .get("client_id")
                    .unwrap_or_default()
                    .to_owned(),
            ),
            ("request_uri".into(), uri.clone()),
        ],
        None => params.clone(),
    };
    let p = Params(&params);
    let client_id = p
        .get("client_id")
        .ok_or_else(|| {
            PageError::bad_request("The request names no client (client_id is missing).")
        })?
        .to_owned();
    note_client(req, &client_id);
    let (client, registered) = match db::run(&state.pool, move |conn| {
        services_repo::find_with_uris(conn, &client_id)
    })
    .await
    {
        Ok(found) => found,
        Err(AppError::NotFound(_)) => {
            return Err(PageError::bad_request("The client is not registered."))
        }
        Err(other) => return Err(other.into()),
    };
    if pushed.is_none() && (client.par_required || state.settings.par_required) {
        return Err(PageError::bad_request(
            "This client must push its authorization requests first (RFC 9126).",
        ));
    }
    let redirect_uri =
        request::redirect_uri_for(&client, &registered, &p).map_err(PageError::bad_request)?;
    // From here on the client and its redirect URI are verified: errors go back to it.
    let request = match request::check(&client, redirect_uri, &p, &state.settings) {
        Ok(request) => request,
        Err((target, error)) => return Ok(error_to_client(&target, &state.issuer, &error)),
    };
    let target = request.target.clone();
    let fail = |error: OAuthError| Ok(error_to_client(&target, &state.issuer, &error));

    let services = request.requested.services.clone();
    let named = db::run(&state.pool, move |conn| {
        Ok(services_repo::registered_names(conn, &services)?)
    })
    .await?;
    let service_names = match named {
        Ok(names) => names,
        Err(unknown) => return fail(OAuthError::invalid_scope(unknown.to_string())),
    };

    let session = current_session(state, req).await?;
    let now = clock::now();
    let stale = |auth_time: chrono::NaiveDateTime| {
        request
            .max_age
            .is_some_and(|age| (now - auth_time).num_seconds() > age)
    };
    let signed_in = match session {
        Some(s)
            if decision.is_some()
                || (request.credentials != Credentials::Required && !stale(s.auth_time)) =>
        {
            Some(s)
        }
        _ => None,
    };
    let (user, auth_time, sid) = match signed_in {
        Some(s) => (s.user, s.auth_time, s.sid),
        None => match request.credentials {
            Credentials::Silent => {
                return fail(OAuthError::new(
                    ErrorCode::LoginRequired,
                    "nobody is signed in",
                ))
            }
            Credentials::Skip => match guest(state).await? {
                Some(guest) => (guest, now, None),
                None => return Ok(to_login(&carried, request.login_hint.as_deref())),
            },
            _ => return Ok(to_login(&carried, request.login_hint.as_deref())),
        },
    };

    let consent_needed = !client.trusted && client.consent_required && {
        let (user_id, client_id, scope) =
            (user.id.clone(), client.id.clone(), request.consent_scope());
        request.force_consent
            || !db::run(&state.pool, move |conn| {
                Ok(consents::covers(conn, &user_id, &client_id, &scope)?)
            })
            .await?
    };
    let consent_event = |kind| {
        Event::new(kind, Actor::User(user.id.clone()), state.origin(req))
            .user(&user.id)
            .service(&client.id)
            .detail("scope", request.consent_scope())
    };
    let record_consent = match decision {
        Some(Decision::Deny) => {
            state.audit.submit(consent_event(Kind::ConsentRefused));
            return fail(OAuthError::new(
                ErrorCode::AccessDenied,
                "the user denied access",
            ));
        }
        Some(Decision::Allow) => !user.guest,
        None if !consent_needed => false,
        None if request.credentials == Credentials::Silent || user.guest => {
            return fail(OAuthError::new(
                ErrorCode::ConsentRequired,
                "the user has not allowed this access yet",
            ))
        }
        None => {
            return Ok(consent_page(
                req,
                state,
                &client,
                &user,
                &request,
                &service_names,
                &carried,
            ))
        }
    };
    // Recorded once what they record is stored.
    let consent_given =
        matches!(decision, Some(Decision::Allow)).then(|| consent_event(Kind::ConsentGiven));
    // The implicit flow issues its access token here, not at /token.
    let token_here = request.response_type.token && request.target.redirect_uri != OUT_OF_BAND;
    let implicit = token_here.then(|| {
        Event::new(
            Kind::TokenIssued,
            Actor::User(user.id.clone()),
            state.origin(req),
        )
        .user(&user.id)
        .service(&client.id)
        .detail("grantType", "implicit")
        .detail("scope", crate::scope::join(&request.scope))
        .detail("refreshToken", false)
    });
    let who = SignedInUser {
        user,
        auth_time,
        sid,
    };
    let answer = issue(state, client, who, request, pushed, record_consent, now).await?;
    if token_here {
        telemetry::token_issued("implicit");
    }
    for event in [consent_given, implicit].into_iter().flatten() {
        state.audit.submit(event);
    }
    Ok(answer)
}

async fn guest(state: &AppState) -> Result<Option<User>, PageError> {
    let guest = db::run(&state.pool, |conn| {
        Ok(users_repo::find_by_login(conn, GUEST_LOGIN)?)
    })
    .await?;
    Ok(guest.filter(|g| g.guest && !g.banned))
}

/// To the sign-in page, returning to this request; a forced sign-in is not
/// asked for again on the way back.
fn to_login(params: &[(String, String)], login_hint: Option<&str>) -> HttpResponse {
    let kept = params.iter().filter_map(|(k, v)| match k.as_str() {
        "request_credentials" if v == "required" => None,
        // The fresh sign-in satisfies max_age; asking again would loop.
        "max_age" => None,
        "prompt" => {
            let rest: Vec<&str> = v.split(' ').filter(|w| *w != "login").collect();
            (!rest.is_empty()).then(|| (k.clone(), rest.join(" ")))
        }
        _ => Some((k.clone(), v.clone())),
    });
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(kept)
        .finish();
    let return_to = format!("{AUTH_PATH}?{query}");
    let mut login = url::form_urlencoded::Serializer::new(String::new());
    login.append_pair("return_to", &return_to);
    if let Some(hint) = login_hint {
        login.append_pair("login_hint", hint);
    }
    see_other(&format!("/login?{}", login.finish()), vec![])
}

fn consent_page(
    req: &HttpRequest,
    state: &AppState,
    client: &Service,
    user: &User,
    request: &AuthRequest,
    service_names: &[(String, String)],
    params: &[(String, String)],
) -> HttpResponse {
    let items = consent::items(service_names, &request.requested.oidc, request.offline);
    let (csrf_token, cookie) = cookies::csrf_token(req, state.secure_cookies());
    let page = templates::Consent {
        csrf_token,
        client_name: client.name.clone(),
        user_login: user.login.clone(),
        items,
        params: params.to_vec(),
    };
    render(StatusCode::OK, &page, cookie.into_iter().collect())
}

/// Who the authorization is for: the signed-in user (or the guest), when
/// they signed in, and their session's public id.
struct SignedInUser {
    user: User,
    auth_time: chrono::NaiveDateTime,
    sid: Option<String>,
}

async fn issue(
    state: &web::Data<AppState>,
    client: Service,
    who: SignedInUser,
    request: AuthRequest,
    pushed: Option<String>,
    record_consent: bool,
    now: chrono::NaiveDateTime,
) -> Result<HttpResponse, PageError> {
    let SignedInUser {
        user,
        auth_time,
        sid,
    } = who;
    let code_ttl = Duration::seconds(state.settings.authorization_code_ttl_secs);
    let (client_id, user_id) = (client.id.clone(), user.id.clone());
    let stored = request.clone();
    let grant_sid = sid.clone();
    let (grant_id, code) = db::run(&state.pool, move |conn| {
        // A pushed request is used up here, once, whichever instance serves it.
        if let Some(uri) = &pushed {
            if !par::consume(conn, uri, now)? {
                return Err(AppError::bad_request(
                    "The request_uri is expired or already used.",
                ));
            }
        }
        let allowed = Allowed {
            request: &stored,
            client_id: &client_id,
            user_id: &user_id,
            auth_time,
            sid: grant_sid.as_deref(),
            record_consent,
        };
        request::record_authorization(conn, allowed, code_ttl, now)
    })
    .await?;

    if request.target.redirect_uri == OUT_OF_BAND {
        let page = templates::OutOfBand {
            client_name: client.name.clone(),
            code: code.unwrap_or_default(),
            minutes: (state.settings.authorization_code_ttl_secs + 59) / 60,
        };
        return Ok(render(StatusCode::OK, &page, vec![]));
    }

    let keys = state.keys.current(&state.pool).await;
    let ttl = state.settings.access_token_ttl_secs;
    let mut answer: Vec<(&'static str, String)> = Vec::new();
    let access_token = match request.response_type.token {
        true => {
            let grantable = Grantable {
                subject: user.id.clone(),
                audience: scope_rules::audience(&request.requested, &client.id),
                scope: request.scope.clone(),
                grant_id: Some(grant_id),
                ..Grantable::default()
            };
            Some(access_token::sign(
                &keys,
                &state.issuer,
                &client.id,
                &grantable,
                ttl,
                now,
            )?)
        }
        false => None,
    };
    if request.response_type.id_token {
        let subject = IdTokenFor {
            user: &user,
            client_id: &client.id,
            scope: &request.scope,
            auth_time,
            nonce: request.nonce.as_deref(),
            access_token: access_token.as_deref(),
            code: code.as_deref(),
            sid: sid.as_deref(),
        };
        answer.push((
            "id_token",
            id_token::sign(&keys, &state.issuer, subject, ttl, now)?,
        ));
    }
    if let Some(code) = code {
        answer.push(("code", code));
    }
    if let Some(token) = access_token {
        answer.push(("access_token", token));
        answer.push(("token_type", "Bearer".into()));
        answer.push(("expires_in", ttl.to_string()));
        answer.push(("scope", crate::scope::join(&request.scope)));
    }
    Ok(to_client(&request.target, &state.issuer, answer))
}
