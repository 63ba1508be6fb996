//! The pages, checked against their templates at compile time by askama.
use askama::Template;

use crate::oauth2::authorized_apps::AuthorizedApp;
use crate::users::permanent_tokens::PermanentToken;

#[derive(Template)]
#[template(path = "login.html")]
pub struct Login {
    /// The application the user signs in for, when an authorization
    /// request brought them here.
    pub application: Option<String>,
    pub csrf_token: String,
    pub return_to: String,
    pub login_hint: String,
    /// Passkeys work on this server: offer "Sign in with a passkey".
    pub passkeys: bool,
    /// The enabled auth modules a browser signs in through.
    pub modules: std::sync::Arc<Vec<crate::auth_modules::buttons::Button>>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "consent.html")]
pub struct Consent {
    pub csrf_token: String,
    pub client_name: String,
    /// For a client no administrator vouched for: the host the answer goes
    /// to, the one thing about it that is not its own word.
    pub unverified_host: Option<String>,
    pub user_login: String,
    pub items: Vec<String>,
    /// The authorization request, carried to the decision unchanged.
    pub params: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "device.html")]
pub struct Device {
    pub csrf_token: String,
    pub user_login: String,
    pub user_code: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "device_consent.html")]
pub struct DeviceConsent {
    pub csrf_token: String,
    pub client_name: String,
    /// No administrator vouched for the client.
    pub unverified: bool,
    pub user_login: String,
    pub user_code: String,
    pub items: Vec<String>,
}

#[derive(Template)]
#[template(path = "device_done.html")]
pub struct DeviceDone {
    pub title: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "oob.html")]
pub struct OutOfBand {
    pub client_name: String,
    pub code: String,
    pub minutes: i64,
}

/// Where an unverified client's answer would go, offered instead of sent:
/// a link (`href`), or a form posted to `action` with `params`.
#[derive(Template)]
#[template(path = "leave.html")]
pub struct Leave {
    pub title: String,
    pub message: String,
    pub client_name: String,
    pub host: String,
    pub href: String,
    pub action: String,
    pub params: Vec<(String, String)>,
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
    /// Where the confirmation posts: `/logout`, or the logout endpoint's
    /// confirmation with the request's parameters.
    pub action: String,
    pub params: Vec<(String, String)>,
    /// The application that asks to sign the user out.
    pub client_name: Option<String>,
    /// Signed out, and where an unverified client asked to send the user:
    /// its host and the URI, offered as a link rather than followed.
    pub continue_to: Option<(String, String)>,
}

pub struct AppRow {
    pub id: String,
    pub name: String,
    pub scope: String,
}

impl From<AuthorizedApp> for AppRow {
    fn from(app: AuthorizedApp) -> Self {
        Self {
            id: app.service.id,
            name: app.service.name,
            scope: app.scope.join(" "),
        }
    }
}

pub struct TokenRow {
    pub id: String,
    pub name: String,
    pub scope: String,
    pub created: String,
    pub last_used: String,
}

/// Times as the pages show them.
pub fn page_time(at: chrono::NaiveDateTime) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

impl From<&PermanentToken> for TokenRow {
    fn from(token: &PermanentToken) -> Self {
        Self {
            id: token.id.clone(),
            name: token.name.clone(),
            scope: token.scope.clone(),
            created: page_time(token.created),
            // Recorded to the minute, so a read costs no write.
            last_used: token
                .last_access
                .map(page_time)
                .unwrap_or_else(|| "never".into()),
        }
    }
}

#[derive(Template)]
#[template(path = "account.html")]
pub struct Account {
    pub csrf_token: String,
    pub user_name: String,
    pub user_login: String,
    /// An administrator's page links the console.
    pub admin: bool,
    pub apps: Vec<AppRow>,
    pub tokens: Vec<TokenRow>,
    /// The ways in through auth modules (another provider, a directory).
    pub identities: Vec<crate::auth_modules::identities::IdentityView>,
    pub new_token: Option<String>,
    pub error: Option<String>,
    pub message: Option<String>,
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

/// Where a console list page stands: the rows shown and links to the
/// pages beside it.
pub struct Span {
    pub total: i64,
    /// The position of the first row shown, from 1.
    pub first: i64,
    pub previous: Option<String>,
    pub next: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/services.html")]
pub struct AdminServices {
    pub query: String,
    pub rows: Vec<ServiceRow>,
    pub span: Span,
}

/// A user or service an event names: its login or name and its console
/// page, or the bare id of one that is gone.
pub struct Named {
    pub label: String,
    pub link: Option<String>,
}

impl Named {
    pub fn plain(label: &str) -> Self {
        Self {
            label: label.to_owned(),
            link: None,
        }
    }
}

pub struct EventRow {
    pub time: String,
    pub kind: String,
    pub actor: Named,
    pub user: Named,
    pub service: Named,
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

pub use super::admin::connect::Connect;
pub use super::admin::service_form::{ServiceFields, Switch};

pub struct GrantRow {
    pub user_id: String,
    pub login: String,
    pub scope: String,
    pub created: String,
}

#[derive(Template)]
#[template(path = "admin/service.html")]
pub struct AdminService {
    pub csrf_token: String,
    /// Reached by sending the new-service form twice.
    pub sent_twice: bool,
    pub id: String,
    pub fields: ServiceFields,
    pub trusted: bool,
    /// Every service but the built-in Hub service.
    pub deletable: bool,
    pub created: String,
    pub secret_rotated: String,
    pub grants: Vec<GrantRow>,
    pub connect: Connect,
}

#[derive(Template)]
#[template(path = "admin/service_form.html")]
pub struct AdminServiceForm {
    pub heading: String,
    pub action: String,
    pub cancel: String,
    pub csrf_token: String,
    pub fields: ServiceFields,
    pub error: Option<String>,
}

/// A new service: its name, its kind and where users come back; every
/// other field afterwards, with Edit.
#[derive(Template)]
#[template(path = "admin/service_new.html")]
pub struct AdminServiceNew {
    pub csrf_token: String,
    /// The form's key, so a second sending creates nothing more.
    pub submission: String,
    pub name: String,
    pub redirect_uris: String,
    pub description: String,
    pub kinds: Vec<KindChoice>,
    pub error: Option<String>,
}

/// One application type on the new-service form.
pub struct KindChoice {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub chosen: bool,
}

/// A secret, shown once, with a button that copies it.
#[derive(Template)]
#[template(path = "admin/secret.html")]
pub struct AdminSecret {
    pub heading: String,
    pub id: String,
    pub name: String,
    pub secret: String,
    pub script_nonce: String,
    pub connect: Connect,
}

/// "Are you sure?" before a change that cannot be undone.
#[derive(Template)]
#[template(path = "admin/confirm.html")]
pub struct AdminConfirm {
    pub heading: String,
    pub message: String,
    pub action: String,
    pub button: String,
    pub cancel: String,
    pub csrf_token: String,
}

pub struct UserRow {
    pub id: String,
    pub login: String,
    pub name: String,
    pub email: String,
    pub admin: bool,
    pub banned: bool,
    pub guest: bool,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
pub struct AdminUsers {
    pub query: String,
    pub rows: Vec<UserRow>,
    pub span: Span,
}

#[derive(Template)]
#[template(path = "admin/user.html")]
pub struct AdminUser {
    pub csrf_token: String,
    /// The administrator's own account: no ban, no demotion, and a password
    /// change needs the current one.
    pub is_self: bool,
    pub id: String,
    pub login: String,
    pub name: String,
    pub email: String,
    pub admin: bool,
    pub banned: bool,
    pub guest: bool,
    /// What second factors the user has; an admin may remove them.
    pub second_factor: crate::factors::FactorStatus,
    /// The server's policy (`IDHUB_REQUIRE_SECOND_FACTOR`) requires this
    /// user to have a second factor, whatever the per-user flag says.
    pub policy_requires: bool,
    pub created: String,
    pub apps: Vec<AppRow>,
    pub tokens: Vec<TokenRow>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/user_new.html")]
pub struct AdminUserNew {
    pub csrf_token: String,
    pub login: String,
    pub name: String,
    pub email: String,
    pub admin: bool,
    pub error: Option<String>,
}

pub struct KeyRow {
    pub kid: String,
    pub algorithm: String,
    pub created: String,
    pub state: String,
}

#[derive(Template)]
#[template(path = "admin/keys.html")]
pub struct AdminKeys {
    pub csrf_token: String,
    pub rows: Vec<KeyRow>,
}
