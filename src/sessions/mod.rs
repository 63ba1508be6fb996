//! Browser sessions and signing in (a password, then perhaps a second
//! factor, or a passkey alone): below both the pages and
//! the OAuth endpoints, which share the sign-in rule and its lockout.
pub mod failure_counters;
pub mod familiar_devices;
pub mod lockout;
pub mod passkey_sign_in;
pub mod pending;
pub mod repo;
pub mod second_step;
pub mod sign_in;
