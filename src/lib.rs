//! idhub: a Hub-style identity service. See README.md and docs/.
pub mod authn;
pub mod bootstrap;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod fields;
pub mod ops;
pub mod paging;
pub mod registry;
pub mod rest;
pub mod scopes;
pub mod secrets;
pub mod startup;
pub mod users;
pub mod validate;
