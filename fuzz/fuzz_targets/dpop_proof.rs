//! A DPoP proof (RFC 9449) as a client sends it: the input's three lines
//! are the header's JSON (its `jwk` is the attacker's key), the claims' JSON
//! and the signature, each base64url-encoded into the proof, so the fuzzer
//! reaches the key and claim checks rather than stopping at the encoding.
#![no_main]
use idhub::oauth2::dpop::{self, Expected};
use idhub_fuzz::jwt_of_lines;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let proof = jwt_of_lines(data);
    let expected = |access_token| Expected {
        method: "POST",
        url: "https://id.example.com/api/rest/oauth2/token",
        access_token,
        now: 1_800_000_000,
        nonces: None,
    };
    // Nothing signed by a key the fuzzer does not hold can pass.
    assert!(dpop::check(&proof, expected(None)).is_err());
    assert!(dpop::check(&proof, expected(Some("an-access-token"))).is_err());
    // And the raw input as a proof of its own.
    let _ = dpop::check(&String::from_utf8_lossy(data), expected(None));
});
