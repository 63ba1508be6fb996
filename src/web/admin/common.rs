//! What the console's pages share: the administrator check and list paging.
use actix_web::cookie::Cookie;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::error::AppError;
use crate::sessions::repo::Session;
use crate::state::AppState;
use crate::web::cookies;
use crate::web::login::current_session;
use crate::web::page::{see_other, PageError};
use crate::web::templates::Span;

/// The signed-in administrator; a redirect to the sign-in page for nobody
/// signed in; 403 for anyone else.
pub async fn administrator(
    state: &web::Data<AppState>,
    req: &HttpRequest,
) -> Result<Result<Session, HttpResponse>, PageError> {
    match current_session(state, req).await? {
        Some(session) if session.user.is_admin() => Ok(Ok(session)),
        Some(_) => Err(PageError::forbidden("The console is for administrators.")),
        None => {
            let back: String =
                url::form_urlencoded::byte_serialize(req.uri().to_string().as_bytes()).collect();
            Ok(Err(see_other(&format!("/login?return_to={back}"), vec![])))
        }
    }
}

/// The administrator who sent a console form, once its CSRF token checks
/// out. Forms are never redirected to the sign-in page: a stranger's post
/// gets 403 like a non-administrator's.
pub async fn form_administrator(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    csrf_token: Option<&str>,
) -> Result<Session, PageError> {
    cookies::check_csrf(req, csrf_token)?;
    match current_session(state, req).await? {
        Some(session) if session.user.is_admin() => Ok(session),
        _ => Err(PageError::forbidden("The console is for administrators.")),
    }
}

/// The CSRF token for the forms of a console page, and the cookie to set.
pub fn csrf(state: &AppState, req: &HttpRequest) -> (String, Vec<Cookie<'static>>) {
    let (token, cookie) = cookies::csrf_token(req, state.secure_cookies());
    (token, cookie.into_iter().collect())
}

/// A refused change is shown on its page with the reason (a field the
/// checks refused, a name already taken); other errors (not found, 403, 503)
/// are error pages.
pub fn refusal(error: AppError) -> Result<String, PageError> {
    match error {
        AppError::BadRequest { message, .. } | AppError::Conflict { message, .. } => Ok(message),
        other => Err(other.into()),
    }
}

/// `?query=…&skip=…` of a console list.
#[derive(Debug, serde::Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    pub query: String,
    pub skip: Option<String>,
    /// The audit list pages by event id, as the REST API's `$after`.
    pub before: Option<String>,
}

impl ListQuery {
    /// Where the page starts: `skip`, or the first row.
    pub fn skip(&self) -> i64 {
        self.skip
            .as_deref()
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(0)
            .max(0)
    }
}

/// Rows per console page.
pub const PAGE_ROWS: i64 = 50;

/// The span of a list page at `skip` of `total` rows, with links to the
/// pages before and after it.
pub fn span(path: &str, query: &str, skip: i64, total: i64) -> Span {
    let next = skip.saturating_add(PAGE_ROWS);
    Span {
        total,
        first: skip.saturating_add(1),
        previous: (skip > 0).then(|| {
            let previous = skip.saturating_sub(PAGE_ROWS).max(0).to_string();
            page_link(path, query, "skip", &previous)
        }),
        next: (next < total).then(|| page_link(path, query, "skip", &next.to_string())),
    }
}

/// A link to another page of the same list.
pub fn page_link(path: &str, query: &str, key: &str, value: &str) -> String {
    let mut link = url::form_urlencoded::Serializer::new(String::new());
    if !query.is_empty() {
        link.append_pair("query", query);
    }
    link.append_pair(key, value);
    format!("{path}?{}", link.finish())
}

/// What a confirmation page asks.
pub struct Confirmation<'a> {
    pub heading: String,
    pub message: &'a str,
    /// Where the confirming form posts.
    pub action: String,
    pub button: &'a str,
    pub cancel: String,
}

/// "Are you sure?" before a change that cannot be undone, with its form's
/// CSRF token.
pub fn confirm_page(state: &AppState, req: &HttpRequest, asked: Confirmation<'_>) -> HttpResponse {
    let (csrf_token, cookies) = csrf(state, req);
    let page = crate::web::templates::AdminConfirm {
        heading: asked.heading,
        message: asked.message.to_owned(),
        action: asked.action,
        button: asked.button.to_owned(),
        cancel: asked.cancel,
        csrf_token,
    };
    crate::web::page::render(actix_web::http::StatusCode::OK, &page, cookies)
}
