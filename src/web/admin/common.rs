//! What the console's pages share: the administrator check and list paging.
use actix_web::{web, HttpRequest, HttpResponse};

use crate::sessions::repo::Session;
use crate::state::AppState;
use crate::web::login::current_session;
use crate::web::page::{see_other, PageError};

/// The signed-in administrator; a redirect to the sign-in page for nobody
/// signed in; 403 for anyone else.
pub async fn administrator(
    state: &web::Data<AppState>,
    req: &HttpRequest,
) -> Result<Result<Session, HttpResponse>, PageError> {
    match current_session(state, req).await? {
        Some(session) if session.user.admin && !session.user.guest => Ok(Ok(session)),
        Some(_) => Err(PageError::forbidden("The console is for administrators.")),
        None => {
            let back: String =
                url::form_urlencoded::byte_serialize(req.uri().to_string().as_bytes()).collect();
            Ok(Err(see_other(&format!("/login?return_to={back}"), vec![])))
        }
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

/// Rows per console page.
pub const PAGE_ROWS: i64 = 50;

/// A link to another page of the same list.
pub fn page_link(path: &str, query: &str, key: &str, value: &str) -> String {
    let mut link = url::form_urlencoded::Serializer::new(String::new());
    if !query.is_empty() {
        link.append_pair("query", query);
    }
    link.append_pair(key, value);
    format!("{path}?{}", link.finish())
}
