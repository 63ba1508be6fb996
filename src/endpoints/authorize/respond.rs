//! Sending an authorization response (or error) back to the verified client:
//! in the query, in the fragment, or as an auto-submitted form (form_post).
use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;

use crate::oauth2::authorize::{ResponseMode, Target};
use crate::oauth2::error::OAuthError;
use crate::registry::model::Service;
use crate::secrets;
use crate::web::page::{self, host_of};
use crate::web::templates::{FormPost, Leave};

/// How an answer reaches the client: a redirect to this URL, or a form
/// posted to it (form_post).
enum Delivery {
    Redirect(String),
    Form {
        action: String,
        params: Vec<(String, String)>,
    },
}

/// `params` plus `state` and `iss` (RFC 9207, against mix-up attacks), in
/// the response mode of `target`.
fn delivery(target: &Target, issuer: &str, mut params: Vec<(&'static str, String)>) -> Delivery {
    if let Some(state) = &target.state {
        params.push(("state", state.clone()));
    }
    params.push(("iss", issuer.to_owned()));
    match target.mode {
        ResponseMode::FormPost => Delivery::Form {
            action: target.redirect_uri.clone(),
            params: params.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        },
        mode => {
            let encoded = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())))
                .finish();
            let separator = match mode {
                ResponseMode::Fragment => '#',
                _ if target.redirect_uri.contains('?') => '&',
                _ => '?',
            };
            Delivery::Redirect(format!("{}{separator}{encoded}", target.redirect_uri))
        }
    }
}

/// Sends the answer on at once.
pub fn to_client(
    target: &Target,
    issuer: &str,
    params: Vec<(&'static str, String)>,
) -> HttpResponse {
    match delivery(target, issuer, params) {
        Delivery::Form { action, params } => {
            let nonce = secrets::generate();
            let csp = format!(
                "default-src 'none'; script-src 'nonce-{nonce}'; form-action {}; frame-ancestors 'none'; base-uri 'none'",
                origin_of(&action)
            );
            let form = FormPost {
                action,
                params,
                nonce,
            };
            page::render_with_csp(StatusCode::OK, &form, vec![], csp)
        }
        Delivery::Redirect(location) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, location))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
    }
}

/// An error as the client receives it (RFC 6749 §4.1.2.1).
pub fn error_params(error: &OAuthError) -> Vec<(&'static str, String)> {
    vec![
        ("error", error.code_name()),
        ("error_description", error.description.clone()),
    ]
}

/// An error for the client. A client no administrator vouched for could be
/// anybody's, and its redirect URI anywhere: an error nobody clicked for is
/// not sent on by itself, or idhub's address would be a link that lands on
/// that site (RFC 9700 §4.11.2). The user sees it and where it would go.
pub fn error_to_client(
    client: &Service,
    target: &Target,
    issuer: &str,
    error: &OAuthError,
) -> HttpResponse {
    let params = error_params(error);
    if client.vouched_for() {
        return to_client(target, issuer, params);
    }
    let (href, action, form) = match delivery(target, issuer, params) {
        Delivery::Redirect(location) => (location, String::new(), vec![]),
        Delivery::Form { action, params } => (String::new(), action, params),
    };
    let page = Leave {
        title: "The request could not be completed".into(),
        message: error.description.clone(),
        client_name: client.name.clone(),
        host: host_of(&target.redirect_uri),
        href,
        action,
        params: form,
    };
    page::render(StatusCode::BAD_REQUEST, &page, vec![])
}

fn origin_of(uri: &str) -> String {
    match url::Url::parse(uri) {
        Ok(url) => url.origin().ascii_serialization(),
        Err(_) => "'none'".into(),
    }
}
