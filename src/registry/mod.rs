//! The service registry: applications and resource servers, with their secrets.
pub mod application_type;
pub mod cache;
pub mod changes;
pub mod client_metadata;
pub mod input;
pub mod model;
pub mod open_registration;
pub mod query;
pub mod redirect_uri;
pub mod registrations;
pub mod repo;
pub mod switches;
