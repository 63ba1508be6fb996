//! OpenID Connect: signing keys, JWTs, discovery, JWKS and userinfo.
pub mod discovery;
pub mod id_token;
pub mod jwt;
pub mod keys;
pub mod keystore;
pub mod userinfo;
