//! The Hub-style JSON REST API under `/api/rest`: one file per resource, each
//! with its route table (`routes`) and thin handlers over domain functions.
pub mod api_doc;
pub mod audit_events;
pub mod authn;
pub mod authorized_apps;
pub mod body_deadline;
pub mod door;
pub mod dpop;
pub mod error_bodies;
pub mod error_response;
pub mod forwarded_scheme;
pub mod health;
pub mod json;
pub mod metrics;
pub mod nul_guard;
pub mod openapi;
pub mod permanent_tokens;
pub mod request_log;
pub mod resource;
pub mod services;
pub mod strict_json;
pub mod usergroups;
pub mod users;
