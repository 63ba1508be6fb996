//! `GET|POST /api/rest/oauth2/auth` and the consent decision: sign-in, consent,
//! then a code and/or tokens sent back to the client.
pub mod respond;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Duration, NaiveDateTime};
use serde::Deserialize;

use respond::{error_params, error_to_client, to_client};

use super::form::OAuthForm;
use crate::audit::{Actor, Event, Kind};
use crate::oauth2::access_token::{self, Grantable};
use crate::oauth2::authorize::{
    self as authorization, Allowed, Answer, AuthRequest, AuthorizationRequest, Issue, Loaded, Next,
    Opened,
};
use crate::oauth2::error::{ErrorCode, OAuthError};
use crate::oauth2::scope_rules;
use crate::oidc::id_token::{self, IdTokenFor};
use crate::registry::model::Service;
use crate::registry::redirect_uri::OUT_OF_BAND;
use crate::rest::request_log::note_client;
use crate::scope::GROUPS;
use crate::state::AppState;
use crate::users::model::User;
use crate::web::page::{host_of, render, see_other, PageError};
use crate::web::{consent, cookies, templates};
use crate::{clock, db, telemetry};

pub const AUTH_PATH: &str = "/api/rest/oauth2/auth";

#[utoipa::path(
    operation_id = "authorize",
    get,
    path = "/api/rest/oauth2/auth",
    tag = "oauth2",
    summary = "The authorization endpoint",
    params(AuthorizationRequest),
    responses(crate::endpoints::api_doc::AuthorizationPages)
)]
pub async fn auth_get(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let form = OAuthForm::for_page(&req, req.query_string().as_bytes())?;
    authorize(&req, &state, form.read_page()?, None).await
}

#[utoipa::path(
    operation_id = "authorize_post",
    post,
    path = "/api/rest/oauth2/auth",
    tag = "oauth2",
    summary = "The authorization endpoint, its request in a form",
    request_body(content = AuthorizationRequest, content_type = "application/x-www-form-urlencoded"),
    responses(crate::endpoints::api_doc::AuthorizationPages)
)]
pub async fn auth_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let form = OAuthForm::for_page(&req, &body)?;
    authorize(&req, &state, form.read_page()?, None).await
}

/// The consent page's decision, with the authorization request it answers.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct ConsentForm {
    /// The page's anti-forgery token, matched with its cookie.
    #[schema(required = true)]
    pub csrf_token: Option<String>,
    /// `allow` or `deny`.
    #[schema(required = true)]
    pub decision: Option<String>,
    #[serde(flatten)]
    pub request: AuthorizationRequest,
}

#[utoipa::path(
    operation_id = "consent",
    post,
    path = "/api/rest/oauth2/auth/consent",
    tag = "oauth2",
    summary = "The consent page's decision",
    request_body(content = ConsentForm, content_type = "application/x-www-form-urlencoded"),
    responses(crate::endpoints::api_doc::ConsentPages, crate::endpoints::api_doc::ForgedForm)
)]
pub async fn consent_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let form: ConsentForm = OAuthForm::for_page(&req, &body)?.read_page()?;
    cookies::check_csrf(&req, form.csrf_token.as_deref())?;
    let answer = match form.decision.as_deref() {
        Some("allow") => Answer::Allow,
        Some("deny") => Answer::Deny,
        _ => return Err(PageError::bad_request("Choose Allow or Deny.")),
    };
    authorize(&req, &state, form.request, Some(answer)).await
}

/// Loads what the request needs (two visits), lets `authorization::decide`
/// say what happens next, and renders it; an allowed request is stored in a
/// third visit.
async fn authorize(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    sent: AuthorizationRequest,
    answer: Option<Answer>,
) -> Result<HttpResponse, PageError> {
    if let Some(client_id) = &sent.client_id {
        note_client(req, client_id);
    }
    let (now, par_required) = (clock::now(), state.settings.par_required);
    let opened = db::run(&state.pool, move |conn| {
        authorization::open(conn, sent, par_required, now)
    })
    .await?
    .map_err(PageError::bad_request)?;
    // From here on the client and its redirect URI are verified: errors go back to it.
    let request = match opened.check(&state.settings) {
        Ok(request) => request,
        Err(refused) => {
            let (target, error) = *refused;
            return Ok(error_to_client(
                &opened.client,
                &target,
                &state.issuer,
                &error,
            ));
        }
    };
    let Opened {
        client,
        request: sent,
        pushed,
        ..
    } = opened;
    let session_id = cookies::session_id(req);
    let (request, client, loaded) = db::run(&state.pool, move |conn| {
        let loaded = authorization::load(conn, &request, &client, session_id.as_deref(), now)?;
        Ok((request, client, loaded))
    })
    .await?;
    let fail = |error: &OAuthError| {
        Ok(error_to_client(
            &client,
            &request.target,
            &state.issuer,
            error,
        ))
    };
    let carried = sent.carried(pushed.as_deref());
    match authorization::decide(&request, &client, &loaded, answer, now) {
        Next::SignIn => Ok(to_login(&carried, request.login_hint.as_deref())),
        Next::StepUp { user } => Ok(crate::web::login::ask_second_factor(
            state,
            user,
            now,
            crate::sessions::pending::NextStep::Verify,
            &back_to(&carried),
        )),
        Next::AskConsent { user } => Ok(consent_page(
            req, state, &client, user, &request, &loaded, &carried,
        )),
        Next::Refused { user } => {
            let event = consent_event(req, state, Kind::ConsentRefused, user, &client, &request);
            state.audit.submit(event);
            // The user clicked Deny: sent on at once, as an answer they chose.
            let denied = OAuthError::new(ErrorCode::AccessDenied, "the user denied access");
            Ok(to_client(
                &request.target,
                &state.issuer,
                error_params(&denied),
            ))
        }
        Next::ToClient(error) => fail(&error),
        Next::Issue(issue) => {
            answer_allowed(req, state, &client, issue, &request, pushed, now).await
        }
    }
}

fn consent_event(
    req: &HttpRequest,
    state: &AppState,
    kind: Kind,
    user: &User,
    client: &Service,
    request: &AuthRequest,
) -> Event {
    Event::new(kind, Actor::User(user.id.clone()), state.origin(req))
        .user(&user.id)
        .service(&client.id)
        .detail("scope", request.consent_scope())
}

/// To the sign-in page, returning to this request as it stands once the
/// user has signed in.
/// Where a sign-in comes back to: this request, its forced sign-in and
/// `max_age` met by the sign-in.
fn back_to(request: &AuthorizationRequest) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(request.after_sign_in().pairs())
        .finish();
    format!("{AUTH_PATH}?{query}")
}

fn to_login(request: &AuthorizationRequest, login_hint: Option<&str>) -> HttpResponse {
    let return_to = back_to(request);
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
    loaded: &Loaded,
    carried: &AuthorizationRequest,
) -> HttpResponse {
    let names = loaded.service_names.as_deref().unwrap_or_default();
    let items = consent::items(names, &request.requested.oidc, request.offline);
    let (csrf_token, cookie) = cookies::csrf_token(req, state.secure_cookies());
    let page = templates::Consent {
        csrf_token,
        client_name: client.name.clone(),
        unverified_host: (!client.vouched_for()).then(|| host_of(&request.target.redirect_uri)),
        user_login: user.login.clone(),
        items,
        params: carried.pairs(),
    };
    render(StatusCode::OK, &page, cookie.into_iter().collect())
}

/// Stores what the user allowed (with the consent just given, using up a
/// pushed request), then answers the client: the code and/or tokens, or the
/// out-of-band page.
async fn answer_allowed(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    client: &Service,
    issue: Issue<'_>,
    request: &AuthRequest,
    pushed: Option<String>,
    now: NaiveDateTime,
) -> Result<HttpResponse, PageError> {
    let code_ttl = Duration::seconds(state.settings.authorization_code_ttl_secs);
    let (client_id, user_id) = (client.id.clone(), issue.user.id.clone());
    let (stored, sid) = (request.clone(), issue.sid.map(str::to_owned));
    let amr = issue.amr.map(str::to_owned);
    let (auth_time, record_consent) = (issue.auth_time, issue.record_consent);
    let (grant_id, code) = db::run(&state.pool, move |conn| {
        let allowed = Allowed {
            request: &stored,
            client_id: &client_id,
            user_id: &user_id,
            auth_time,
            sid: sid.as_deref(),
            amr: amr.as_deref(),
            record_consent,
            pushed: pushed.as_deref(),
        };
        authorization::record_authorization(conn, allowed, code_ttl, now)
    })
    .await?;
    let consent_given = issue
        .consent_given
        .then(|| consent_event(req, state, Kind::ConsentGiven, issue.user, client, request));
    if request.target.redirect_uri == OUT_OF_BAND {
        consent_given
            .into_iter()
            .for_each(|event| state.audit.submit(event));
        let page = templates::OutOfBand {
            client_name: client.name.clone(),
            code: code.unwrap_or_default(),
            minutes: (state.settings.authorization_code_ttl_secs + 59) / 60,
        };
        return Ok(render(StatusCode::OK, &page, vec![]));
    }
    let signed = match request.response_type.issues_tokens_here() {
        true => {
            signed_here(
                state,
                client,
                &issue,
                request,
                &grant_id,
                code.as_deref(),
                now,
            )
            .await?
        }
        false => SignedHere::default(),
    };
    // Recorded once what they record is stored and signed.
    consent_given
        .into_iter()
        .for_each(|event| state.audit.submit(event));
    let SignedHere { id_token, access } = signed;
    if !access.is_empty() {
        telemetry::token_issued("implicit");
        let user = issue.user;
        let event = Event::new(
            Kind::TokenIssued,
            Actor::User(user.id.clone()),
            state.origin(req),
        )
        .user(&user.id)
        .service(&client.id)
        .detail("grantType", "implicit")
        .detail("scope", crate::scope::join(&request.scope))
        .detail("refreshToken", false);
        state.audit.submit(event);
    }
    let answer: Vec<(&'static str, String)> = id_token
        .map(|token| ("id_token", token))
        .into_iter()
        .chain(code.map(|code| ("code", code)))
        .chain(access)
        .collect();
    Ok(to_client(&request.target, &state.issuer, answer))
}

/// The tokens of an implicit or hybrid response: the ID token, and the
/// access token with its type, lifetime and scope (the implicit flow issues
/// its access token here, not at /token).
#[derive(Default)]
struct SignedHere {
    id_token: Option<String>,
    access: Vec<(&'static str, String)>,
}

async fn signed_here(
    state: &web::Data<AppState>,
    client: &Service,
    issue: &Issue<'_>,
    request: &AuthRequest,
    grant_id: &str,
    code: Option<&str>,
    now: NaiveDateTime,
) -> Result<SignedHere, PageError> {
    let keys = state.keys.current(&state.pool).await;
    let ttl = state.settings.access_token_ttl_secs;
    let user = issue.user;
    let access_token = match request.response_type.token {
        true => {
            let grantable = Grantable {
                subject: user.id.clone(),
                audience: scope_rules::audience(&request.requested, &client.id),
                scope: request.scope.clone(),
                grant_id: Some(grant_id.to_owned()),
                signed_in: access_token::SignedIn::of(issue.auth_time, issue.amr),
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
    let mut signed = SignedHere::default();
    if request.response_type.id_token {
        let subject = IdTokenFor {
            user,
            client_id: &client.id,
            scope: &request.scope,
            auth_time: issue.auth_time,
            nonce: request.nonce.as_deref(),
            access_token: access_token.as_deref(),
            code,
            sid: issue.sid,
            amr: issue.amr,
            groups: match request.scope.iter().any(|s| s == GROUPS) {
                true => Some(state.access.group_names(&state.pool, &user.id).await?),
                false => None,
            },
        };
        signed.id_token = Some(id_token::sign(&keys, &state.issuer, subject, ttl, now)?);
    }
    if let Some(token) = access_token {
        signed.access = vec![
            ("access_token", token),
            ("token_type", "Bearer".into()),
            ("expires_in", ttl.to_string()),
            ("scope", crate::scope::join(&request.scope)),
        ];
    }
    Ok(signed)
}
