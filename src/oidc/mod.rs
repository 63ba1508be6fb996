//! OpenID Connect below OAuth: signing keys, JWTs, ID tokens and the discovery
//! document. Nothing here knows HTTP or the OAuth grants.
pub mod discovery;
pub mod id_token;
pub mod jwt;
pub mod keys;
pub mod keystore;
