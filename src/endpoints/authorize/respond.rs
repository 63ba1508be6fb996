//! Sending an authorization response (or error) back to the verified client:
//! in the query, in the fragment, or as an auto-submitted form (form_post).
use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;

use crate::oauth2::authorize::{ResponseMode, Target};
use crate::oauth2::error::OAuthError;
use crate::secrets;
use crate::web::page;
use crate::web::templates::FormPost;

/// `params` plus `state` and `iss` (RFC 9207, against mix-up attacks).
pub fn to_client(
    target: &Target,
    issuer: &str,
    mut params: Vec<(&'static str, String)>,
) -> HttpResponse {
    if let Some(state) = &target.state {
        params.push(("state", state.clone()));
    }
    params.push(("iss", issuer.to_owned()));
    match target.mode {
        ResponseMode::FormPost => {
            let nonce = secrets::generate();
            let csp = format!(
                "default-src 'none'; script-src 'nonce-{nonce}'; form-action {}; frame-ancestors 'none'; base-uri 'none'",
                origin_of(&target.redirect_uri)
            );
            let form = FormPost {
                action: target.redirect_uri.clone(),
                params: params.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
                nonce,
            };
            page::render_with_csp(StatusCode::OK, &form, vec![], csp)
        }
        mode => {
            let encoded = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())))
                .finish();
            let separator = match mode {
                ResponseMode::Fragment => '#',
                _ if target.redirect_uri.contains('?') => '&',
                _ => '?',
            };
            HttpResponse::SeeOther()
                .insert_header((
                    header::LOCATION,
                    format!("{}{separator}{encoded}", target.redirect_uri),
                ))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish()
        }
    }
}

pub fn error_to_client(target: &Target, issuer: &str, error: &OAuthError) -> HttpResponse {
    to_client(
        target,
        issuer,
        vec![
            ("error", error.code_name()),
            ("error_description", error.description.clone()),
        ],
    )
}

fn origin_of(uri: &str) -> String {
    match url::Url::parse(uri) {
        Ok(url) => url.origin().ascii_serialization(),
        Err(_) => "'none'".into(),
    }
}
