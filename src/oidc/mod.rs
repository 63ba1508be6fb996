//! OpenID Connect below OAuth: signing keys, JWTs, ID tokens, the discovery
//! document and back-channel logout. Nothing here serves HTTP or knows the
//! OAuth grants; `backchannel` is an HTTP client of the services.
pub mod backchannel;
pub mod discovery;
pub mod id_token;
pub mod jwt;
pub mod keys;
pub mod keystore;
pub mod logout_outbox;
pub mod user_claims;
