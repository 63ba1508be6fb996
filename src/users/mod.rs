//! Users, their passwords and their permanent tokens.
pub mod cache;
pub mod input;
pub mod model;
pub mod password_hash;
pub mod permanent_tokens;
pub mod repo;
pub mod rules;
