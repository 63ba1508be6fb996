//! A bearer token as a resource server presents it: nothing that idhub did
//! not sign verifies, however it is shaped. The input's lines are the
//! header's JSON, the claims' JSON and the signature, base64url-encoded into
//! a JWT, so the fuzzer reaches the header and claim checks.
#![no_main]
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use idhub::oauth2::access_token;
use idhub::oidc::keys::{generate_pem, SigningAlgorithm, SigningKey};
use idhub::oidc::keystore::KeySet;
use idhub_fuzz::jwt_of_lines;
use libfuzzer_sys::fuzz_target;

const ISSUER: &str = "https://id.example.com";

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

fuzz_target!(|data: &[u8]| {
    let token = jwt_of_lines(data);
    assert!(access_token::verify(keys(), &token, ISSUER).is_err());
    assert!(access_token::verify(keys(), &String::from_utf8_lossy(data), ISSUER).is_err());
});
