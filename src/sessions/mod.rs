//! Browser sessions and signing in with a password: below both the pages and
//! the OAuth endpoints, which share the sign-in rule and its lockout.
pub mod failure_counters;
pub mod familiar_devices;
pub mod lockout;
pub mod pending;
pub mod repo;
pub mod second_step;
pub mod sign_in;
