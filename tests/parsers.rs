//! Property tests for every parser of untrusted input: whatever arrives, each
//! answers (an error or a value) without panicking, and what it accepts keeps
//! the rule it exists for. Bounded (`PROPTEST_CASES`, 2,000 by default per
//! property) so the suite stays fast; failures are kept in
//! `tests/parsers.proptest-regressions` and replayed first on every run.
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use idhub::endpoints::form::OAuthForm;
use idhub::fields::Fields;
use idhub::oauth2::access_token;
use idhub::oauth2::client_auth::{self, Credentials};
use idhub::oidc::keys::{generate_pem, SigningAlgorithm, SigningKey};
use idhub::oidc::keystore::KeySet;
use idhub::registry::client_metadata::ClientMetadata;
use idhub::registry::query::ServiceQuery;
use idhub::registry::redirect_uri;
use idhub::web::cookies::safe_return_to;
use proptest::prelude::*;

const ISSUER: &str = "https://id.example.com";

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct(
                "tests/parsers.proptest-regressions",
            ),
        )),
        ..ProptestConfig::default()
    }
}

/// Text that looks like what attackers send: URL and form punctuation,
/// percent escapes, control characters, NUL, non-ASCII.
fn hostile_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => "[a-zA-Z0-9._~-]{1,8}",
            2 => prop::sample::select(vec![
                "/", "//", "\\", ":", "?", "#", "&", "=", "+", "%", "%00", "%0a", "%2F", "%ZZ",
                "@", "[", "]", ",", ";", " ", "\t", "\n", "\r", "\0", "..", ".", "*", "'", "\"",
                "http://", "https://", "127.0.0.1", "127.1", "[::1]", "localhost", ":65536",
                "é", "\u{202e}", "\u{feff}", "𝄞",
            ])
            .prop_map(str::to_owned),
            1 => any::<String>(),
        ],
        0..24,
    )
    .prop_map(|parts| parts.concat())
}

/// The redirect URIs `/register`'s checks would store for a client with
/// these, if they accept it.
fn registered(uris: &[String]) -> Option<Vec<String>> {
    let metadata = serde_json::json!({"client_name": "Fuzzed", "redirect_uris": uris});
    let metadata = serde_json::from_value::<ClientMetadata>(metadata).ok()?;
    let service = metadata.check().ok()?.input.check(true).ok()?;
    Some(service.redirect_uris.unwrap_or_default())
}

fn keys() -> &'static KeySet {
    static KEYS: OnceLock<KeySet> = OnceLock::new();
    KEYS.get_or_init(|| {
        let pem = generate_pem(SigningAlgorithm::Es256).expect("a key");
        let key = Arc::new(SigningKey::from_pem("k1", SigningAlgorithm::Es256, &pem).expect("key"));
        KeySet {
            published: HashMap::from([("k1".to_owned(), Arc::clone(&key))]),
            current: key,
            jwks: String::new(),
        }
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fields_parse_or_refuse(text in hostile_text()) {
        let _ = Fields::parse(&text);
    }

    #[test]
    fn service_queries_parse_or_refuse(text in hostile_text()) {
        let _ = ServiceQuery::parse(&text);
    }

    #[test]
    fn scopes_have_no_empty_or_spaced_entries(text in hostile_text()) {
        if let Ok(entries) = idhub::scope::parse("scope", &text) {
            for entry in entries {
                prop_assert!(!entry.is_empty());
                prop_assert!(!entry.contains(' '));
            }
        }
    }

    #[test]
    fn return_to_is_always_a_local_path(text in hostile_text()) {
        let path = safe_return_to(Some(&text));
        prop_assert!(path.starts_with('/'));
        prop_assert!(!path.starts_with("//"));
        prop_assert!(!path.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\'));
    }

    #[test]
    fn redirect_uris_match_themselves_and_only_differ_by_a_loopback_port(
        registered in hostile_text(),
        presented in hostile_text(),
    ) {
        let _ = redirect_uri::validate(&registered);
        prop_assert!(redirect_uri::matches(&registered, &registered));
        if registered != presented && redirect_uri::matches(&registered, &presented) {
            prop_assert!(presented.starts_with("http://"), "{presented}");
            prop_assert!(!presented.chars().any(|c| c.is_control() || c.is_whitespace()));
        }
    }

    #[test]
    fn loopback_ports_are_the_only_freedom(port in 0u32..70000, path in "[a-z/]{0,12}") {
        let registered = format!("http://127.0.0.1/{path}");
        let presented = format!("http://127.0.0.1:{port}/{path}");
        prop_assert_eq!(redirect_uri::matches(&registered, &presented), port <= 65535);
        let elsewhere = format!("http://127.0.0.1:{port}/{path}x");
        prop_assert!(!redirect_uri::matches(&registered, &elsewhere));
    }

    #[test]
    fn forms_parse_without_nul_or_repeats(body in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(form) = OAuthForm::parse(Some("application/x-www-form-urlencoded"), &body) {
            let pairs = form.pairs();
            for (i, (key, value)) in pairs.iter().enumerate() {
                prop_assert!(!key.contains('\0') && !value.contains('\0'));
                prop_assert!(pairs[..i].iter().all(|(k, _)| k != key), "repeated {key}");
            }
        }
    }

    #[test]
    fn forms_of_hostile_text_parse_or_refuse(text in hostile_text(), content_type in hostile_text()) {
        let _ = OAuthForm::parse(Some(&content_type), text.as_bytes());
        let _ = OAuthForm::parse(None, text.as_bytes());
    }

    #[test]
    fn basic_credentials_parse_or_refuse(header in hostile_text(), encoded in "[A-Za-z0-9+/=]{0,40}") {
        for value in [header.clone(), format!("Basic {encoded}"), format!("Basic {header}")] {
            let _ = client_auth::presented(Credentials {
                authorization: Some(&value),
                ..Credentials::default()
            });
        }
    }

    #[test]
    fn client_assertions_of_hostile_text_parse_or_refuse(text in hostile_text(), parts in prop::collection::vec("[A-Za-z0-9_-]{0,60}", 3)) {
        for assertion in [text.clone(), parts.join(".")] {
            let _ = client_auth::presented(Credentials {
                form_assertion_type: Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                form_assertion: Some(&assertion),
                ..Credentials::default()
            });
        }
    }

    /// What `/register` would store (after its metadata check and the
    /// registry's check of the service, which trims) are only redirect URIs
    /// the registry's rule accepts: `http` for loopback hosts only, no
    /// fragment, no `javascript:`; and one such URI alone is accepted.
    #[test]
    fn registrations_accept_exactly_the_valid_redirect_uris(uris in prop::collection::vec(hostile_text(), 1..3), host in prop::sample::select(vec!["127.0.0.1", "254.0.0.1", "localhost", "app.example.com", "[::1]", "[::2]"])) {
        for stored in registered(&uris).iter().flatten() {
            prop_assert!(redirect_uri::validate(stored).is_ok(), "stored {stored:?}");
            prop_assert_eq!(stored.trim(), stored.as_str());
        }
        let uri = format!("http://{host}/cb");
        let stored = registered(std::slice::from_ref(&uri));
        prop_assert_eq!(stored.is_some(), redirect_uri::validate(&uri).is_ok(), "{}", uri);
    }

    #[test]
    fn bearer_tokens_that_were_not_signed_here_are_rejected(text in hostile_text(), parts in prop::collection::vec("[A-Za-z0-9_-]{0,60}", 3)) {
        prop_assert!(access_token::verify(keys(), &text, ISSUER).is_err());
        let forged = parts.join(".");
        prop_assert!(access_token::verify(keys(), &forged, ISSUER).is_err());
    }
}
