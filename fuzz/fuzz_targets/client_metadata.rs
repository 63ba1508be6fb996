//! A dynamic registration's JSON (RFC 7591) as `/register` reads it: parsed,
//! its metadata checked, then the service it describes checked as the
//! registry checks every new service. The metadata check leaves redirect
//! URIs to the registry's, which stores them trimmed: every redirect URI
//! that would be stored passes the registry's rule.
#![no_main]
use idhub::registry::client_metadata::ClientMetadata;
use idhub::registry::redirect_uri;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(metadata) = serde_json::from_slice::<ClientMetadata>(data) else {
        return;
    };
    let Ok(checked) = metadata.check() else {
        return;
    };
    if let Ok(service) = checked.input.check(true) {
        for uri in service.redirect_uris.iter().flatten() {
            assert!(redirect_uri::validate(uri).is_ok(), "stored {uri:?}");
            assert_eq!(uri.trim(), uri, "stored untrimmed");
        }
    }
});
