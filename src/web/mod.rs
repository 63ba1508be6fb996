//! Server-rendered pages: home, sign-in, consent, out-of-band codes, sign-out
//! and "my account". Plain HTML forms that work without JavaScript.
pub mod account;
pub mod admin;
pub mod consent;
pub mod cookies;
pub mod device;
pub mod home;
pub mod login;
pub mod page;
pub mod page_routes;
pub mod passkeys;
pub mod second_factor;
pub mod templates;
pub mod upstream;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(home::routes)
        .configure(admin::routes)
        .configure(login::routes)
        .configure(second_factor::routes)
        .configure(passkeys::routes)
        .configure(upstream::routes)
        .configure(device::routes)
        .configure(account::routes);
}

/// Form bodies of the pages: bad ones get an error page, not a bare 400.
pub fn form_config(limit: usize) -> web::FormConfig {
    web::FormConfig::default()
        .limit(limit)
        .error_handler(|error, _req| {
            page::PageError::bad_request(format!("The form could not be read: {error}")).into()
        })
}
