//! idhub: a Hub-style identity service. See README.md and docs/architecture.md
//! for the layers; a module only imports modules of its own layer or below.

// A panic reachable from a request is a bug: unwrap, expect and panic! only in tests.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

// Foundation: no idhub module below these.
pub mod clock;
pub mod config;
pub mod error;
pub mod feed_proof;
pub mod fields;
pub mod grant_types;
pub mod key_encryption;
pub mod outbound;
pub mod paging;
pub mod query_terms;
pub mod scope;
pub mod secrets;
pub mod submissions;
pub mod telemetry;
pub mod validate;
// Storage, and entities cached from it.
pub mod audit;
pub mod cache;
pub mod db;
pub mod housekeeping;
// Domain data.
pub mod auth_modules;
pub mod authz;
pub mod bootstrap;
pub mod factors;
pub mod groups;
pub mod invalidation;
pub mod registry;
pub mod sessions;
pub mod users;
// Account changes on someone's request: rules, checks and hashing together.
pub mod accounts;
// Protocol: keys and JWTs, then OAuth 2.0 / OpenID Connect.
pub mod oauth2;
pub mod oidc;
// HTTP: shared state, the REST API, the OAuth endpoints, the pages.
pub mod endpoints;
pub mod rest;
pub mod state;
pub mod web;
// Wiring: the only modules that know every route and command.
pub mod cli;
pub mod startup;
