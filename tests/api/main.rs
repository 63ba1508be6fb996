//! Integration tests: each starts the real application on a random port against
//! a fresh database (a SQLite temp file, or a new PostgreSQL database when
//! TEST_DATABASE_URL is set) and speaks HTTP to it.
mod abuse;
mod admin_console;
mod audit;
mod battery;
mod browser;
mod chromium;
mod cli;
mod client_assertion;
mod console_chromium;
mod faults;
mod flows_browser;
mod flows_code;
mod health;
mod helpers;
mod home;
mod hostile_input;
mod hygiene;
mod independent;
mod independent_rp;
mod instances;
mod kill;
mod logout;
mod migrations;
mod oauth_client_credentials;
mod oauth_hygiene;
mod oauth_introspect_revoke;
mod oauth_password;
mod oauth_refresh;
mod oidc_keys_discovery;
mod permanent_tokens;
mod races;
mod registration;
mod registry;
mod spa_chromium;
mod users;
