//! Integration tests: each starts the real application on a random port against
//! a fresh database (a SQLite temp file, or a new PostgreSQL database when
//! TEST_DATABASE_URL is set) and speaks HTTP to it.
mod cli;
mod health;
mod helpers;
mod hygiene;
mod migrations;
mod permanent_tokens;
mod registry;
mod users;
