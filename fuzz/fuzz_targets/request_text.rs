//! The small languages of request parameters: `fields`, the service
//! `query`, scopes, `return_to` after sign-in, and redirect URI matching.
//! The input is split at its first newline where two texts are needed.
#![no_main]
use idhub::fields::Fields;
use idhub::registry::query::ServiceQuery;
use idhub::registry::redirect_uri;
use idhub::web::cookies::safe_return_to;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = Fields::parse(&text);
    let _ = ServiceQuery::parse(&text);
    if let Ok(entries) = idhub::scope::parse("scope", &text) {
        assert!(entries.iter().all(|e| !e.is_empty() && !e.contains(' ')));
    }
    let path = safe_return_to(Some(&text));
    assert!(path.starts_with('/') && !path.starts_with("//"), "{path:?}");
    assert!(!path
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\'));

    let (registered, presented) = text.split_once('\n').unwrap_or((&text, ""));
    let _ = redirect_uri::validate(registered);
    assert!(redirect_uri::matches(registered, registered));
    if registered != presented && redirect_uri::matches(registered, presented) {
        assert!(presented.starts_with("http://"), "{presented:?}");
    }
});
