//! An OAuth endpoint's body, read as every endpoint reads it: the form, then
//! the token request typed by `grant_type`, then the client's credentials.
//! The first line of the input is the Content-Type; the rest is the body.
#![no_main]
use idhub::endpoints::form::OAuthForm;
use idhub::oauth2::client_auth::{self, Credentials};
use idhub::oauth2::token::TokenRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (content_type, body) = match data.iter().position(|b| *b == b'\n') {
        Some(end) => (
            String::from_utf8_lossy(&data[..end]).into_owned(),
            &data[end + 1..],
        ),
        None => (String::new(), data),
    };
    let Ok(form) = OAuthForm::parse(Some(&content_type), body) else {
        return;
    };
    let pairs = form.pairs();
    for (i, (key, value)) in pairs.iter().enumerate() {
        assert!(!key.contains('\0') && !value.contains('\0'));
        assert!(!value.is_empty(), "empty values are absent");
        assert!(pairs[..i].iter().all(|(k, _)| k != key), "repeated {key}");
    }
    let _ = TokenRequest::from_params(pairs);
    let _ = client_auth::presented(Credentials {
        authorization: form.get("authorization"),
        form_id: form.get("client_id"),
        form_secret: form.get("client_secret"),
        form_assertion_type: form.get("client_assertion_type"),
        form_assertion: form.get("client_assertion"),
    });
});
