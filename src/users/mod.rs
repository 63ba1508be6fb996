//! Users, their passwords and their permanent tokens.
pub mod authorized_apps_routes;
pub mod cache;
pub mod model;
pub mod password;
pub mod repo;
pub mod routes;
pub mod token_routes;
pub mod tokens;
