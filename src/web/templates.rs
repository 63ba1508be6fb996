//! The pages, checked against their templates at compile time by askama.
use askama::Template;

#[derive(Template)]
#[template(path = "login.html")]
pub struct Login {
    /// The application the user signs in for, when an authorization
    /// request brought them here.
    pub application: Option<String>,
    pub csrf_token: String,
    pub return_to: String,
    pub login_hint: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "consent.html")]
pub struct Consent {
    pub csrf_token: String,
    pub client_name: String,
    pub user_login: String,
    pub items: Vec<String>,
    /// The authorization request, carried to the decision unchanged.
    pub params: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "oob.html")]
pub struct OutOfBand {
    pub client_name: String,
    pub code: String,
    pub minutes: i64,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct Error {
    pub title: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "form_post.html")]
pub struct FormPost {
    pub action: String,
    pub params: Vec<(String, String)>,
    pub nonce: String,
}

/// Who is signed in, as the home page shows it.
pub struct SignedIn {
    pub name: String,
    pub login: String,
    pub admin: bool,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct Home {
    pub signed_in: Option<SignedIn>,
}

#[derive(Template)]
#[template(path = "logout.html")]
pub struct Logout {
    pub signed_in: bool,
    pub csrf_token: String,
}

pub struct AppRow {
    pub id: String,
    pub name: String,
    pub scope: String,
}

pub struct TokenRow {
    pub id: String,
    pub name: String,
    pub scope: String,
    pub created: String,
}

#[derive(Template)]
#[template(path = "account.html")]
pub struct Account {
    pub csrf_token: String,
    pub user_name: String,
    pub user_login: String,
    pub apps: Vec<AppRow>,
    pub tokens: Vec<TokenRow>,
    pub new_token: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/index.html")]
pub struct AdminIndex {
    pub login: String,
}

pub struct ServiceRow {
    pub id: String,
    pub name: String,
    pub trusted: bool,
    pub redirect_uris: String,
}

#[derive(Template)]
#[template(path = "admin/services.html")]
pub struct AdminServices {
    pub query: String,
    pub rows: Vec<ServiceRow>,
    pub total: i64,
    /// The position of the first row shown, from 1.
    pub first: i64,
    pub previous: Option<String>,
    pub next: Option<String>,
}

pub struct EventRow {
    pub time: String,
    pub kind: String,
    pub actor: String,
    pub user_id: String,
    pub service_id: String,
    pub ip: String,
    pub details: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
pub struct AdminAudit {
    pub query: String,
    pub rows: Vec<EventRow>,
    pub older: Option<String>,
}
