//! Command-line bodies: the same domain functions the HTTP handlers call, one
//! file per noun. Every command names the database it opens on stderr, and
//! only `migrate` (and `serve`) may create one.
mod audit;
mod common;
mod database;
mod groups;
mod housekeeping;
mod keys;
mod passwords;
mod services;
mod tokens;
mod users;

use clap::{Parser, Subcommand};

pub use audit::AuditCommand;
pub use keys::KeysCommand;
pub use passwords::PasswordsCommand;
pub use services::ServicesCommand;
pub use tokens::TokensCommand;
pub use users::UsersCommand;

use crate::config::Settings;
use crate::startup;

#[derive(Debug, Parser)]
#[command(
    name = "idhub",
    version,
    about = "A Hub-style identity service: service registry, users, OAuth 2.0 and OpenID Connect",
    after_help = "Settings come from IDHUB_CONFIG (a TOML file), DATABASE_URL and IDHUB_* \
                  variables; `idhub serve --help` lists them."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve HTTP (the default when no command is given).
    #[command(after_help = SETTINGS_HELP)]
    Serve,
    /// Create the database if needed, apply pending migrations and create
    /// first-start data (the admin, the guest, the Hub service).
    Migrate,
    /// Manage users (list, add, ban, unban, unlock, set-password, delete).
    #[command(subcommand)]
    Users(UsersCommand),
    /// Manage registered services (list, show, add, update, trust, reset-secret, delete).
    #[command(subcommand)]
    Services(ServicesCommand),
    /// Manage user groups (list, add, delete, add-member, remove-member).
    #[command(subcommand)]
    Groups(groups::GroupsCommand),
    /// Manage permanent tokens.
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// Manage the token signing keys (list, rotate, and encrypt them at rest).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Password hashing with the configured Argon2id parameters.
    #[command(subcommand)]
    Passwords(PasswordsCommand),
    /// Read the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Copy the SQLite database to FILE, a new file (mode 0600), consistent
    /// while servers run; restore by using the copy as the database.
    /// PostgreSQL: use pg_dump (the error says how).
    Backup {
        /// Where to write the copy; an existing file is never overwritten.
        file: std::path::PathBuf,
    },
    /// Delete expired codes, tokens, sessions and lockouts now (a server
    /// does this every IDHUB_HOUSEKEEPING_INTERVAL_SECS).
    Housekeeping {
        /// Also long-revoked grants, old refresh tokens and audit events past
        /// retention, whose cutoffs come from ACCESS_TOKEN_TTL_SECS,
        /// REFRESH_TOKEN_TTL_SECS and AUDIT_RETENTION_DAYS: only with the
        /// server's settings.
        #[arg(long)]
        all: bool,
    },
}

/// `serve --help`: the settings, as environment variables (a TOML file named
/// by IDHUB_CONFIG takes the same keys in lower case, without the prefix).
const SETTINGS_HELP: &str = "\
Settings (environment; docs/configuration.md explains each):
  DATABASE_URL                    sqlite://PATH (default sqlite://idhub.db) or postgres://...
  IDHUB_LISTEN                    address to bind (127.0.0.1:8080)
  IDHUB_ISSUER                    public base URL (http://<listen>)
  IDHUB_ADMIN_PASSWORD            the admin's password on first start (else one is generated)
  IDHUB_POOL_SIZE                 database connections (8)
  IDHUB_DATABASE_TIMEOUT_MS       longest wait for the database before 503 (2000)
  IDHUB_WORKERS                   HTTP worker threads (one per core)
  IDHUB_MAX_BODY_BYTES            largest request body (65536)
  IDHUB_LOG                       log filter (info)
  IDHUB_LOG_FORMAT                text or json, one object a line (text)
  IDHUB_METRICS_LISTEN            a second address serving only /metrics and /health/* (unset: /metrics on IDHUB_LISTEN)
  IDHUB_ACCESS_TOKEN_TTL_SECS     access and ID token lifetime (3600)
  IDHUB_REFRESH_TOKEN_TTL_SECS    refresh token lifetime (2592000)
  IDHUB_AUTHORIZATION_CODE_TTL_SECS  code lifetime (60)
  IDHUB_DEVICE_CODE_TTL_SECS     device and user code lifetime, RFC 8628 (600)
  IDHUB_DEVICE_CODE_MAX_FAILURES wrong user codes at /device before a lock (10)
  IDHUB_SESSION_TTL_SECS          browser session lifetime (28800)
  IDHUB_SIGNING_ALGORITHM         RS256, ES256 or EdDSA (RS256)
  IDHUB_KEY_ROTATION_DAYS         automatic key rotation (90)
  IDHUB_KEY_ENCRYPTION_KEY        encrypts the signing keys at rest (32 bytes, base64; unset)
  IDHUB_KEY_CACHE_SECS            how long keys are used before rereading (5, at most 10)
  IDHUB_PASSWORD_GRANT_ENABLED    the password grant (true)
  IDHUB_IMPLICIT_GRANT_ENABLED    the implicit flow (true)
  IDHUB_OPEN_REGISTRATION         anyone may register clients (RFC 7591) (false)
  IDHUB_OPEN_REGISTRATION_PER_HOUR, _OVERALL_PER_HOUR   clients registered without a token, per address and in all (10, 500)
  IDHUB_DPOP_NONCE_REQUIRED       DPoP proofs must carry a server nonce, RFC 9449 (false)
  IDHUB_PAR_REQUIRED              authorization requests must be pushed first (RFC 9126) (false)
  IDHUB_PASSWORD_HASH_MEMORY_KIB, _ITERATIONS, _PARALLELISM, _CONCURRENCY   Argon2id
  IDHUB_PASSWORD_MAX_FAILURES, _ADDRESS_MAX_FAILURES, _CLIENT_MAX_FAILURES,
  IDHUB_PASSWORD_ACCOUNT_MAX_FAILURES, _FAILURE_WINDOW_SECS, _LOCKOUT_SECS   sign-in throttling
  IDHUB_CLIENT_AUTH_MAX_FAILURES  failed client authentications that lock a source (10)
  IDHUB_TRUSTED_PROXIES           reverse proxies whose X-Forwarded-For is believed
  IDHUB_AUDIT_RETENTION_DAYS      audit events kept (90; 0 keeps all)
  IDHUB_HOUSEKEEPING_INTERVAL_SECS  seconds between deletions of expired rows (300; 0: never)";

/// The least a command waits for the database, in milliseconds.
const CLI_DATABASE_TIMEOUT_MS: u64 = 10_000;

/// Runs one non-serve command and returns what it prints on stdout.
pub fn run(command: Command, settings: &Settings) -> anyhow::Result<String> {
    if let Command::Passwords(command) = command {
        return passwords::run(command, settings);
    }
    if let Command::Keys(KeysCommand::NewEncryptionKey) = command {
        return keys::new_encryption_key();
    }
    let creates = matches!(command, Command::Migrate);
    database::announce_and_check(settings, creates)?;
    // One command needs few connections, and may wait longer than a request
    // would for a database that a busy server keeps occupied.
    let settings = &Settings {
        pool_size: settings.pool_size.min(2),
        database_timeout_ms: settings.database_timeout_ms.max(CLI_DATABASE_TIMEOUT_MS),
        ..settings.clone()
    };
    let state = startup::prepare(settings)?;
    match command {
        Command::Serve | Command::Passwords(_) => {
            anyhow::bail!("this command is handled before the database is opened")
        }
        Command::Migrate => Ok("migrations applied".to_owned()),
        Command::Users(command) => users::run(command, &state),
        Command::Services(command) => services::run(command, &state),
        Command::Tokens(command) => tokens::run(command, &state),
        Command::Groups(command) => groups::run(command, &state),
        Command::Keys(command) => keys::run(command, &state, settings),
        Command::Audit(command) => audit::run(command, &state),
        Command::Housekeeping { all } => housekeeping::run(&state, settings, all),
        Command::Backup { file } => {
            let bytes =
                common::with_conn(&state, |conn| Ok(crate::db::backup::backup(conn, &file)))?
                    .map_err(anyhow::Error::from)?;
            Ok(format!(
                "backed up to {} ({bytes} bytes); to restore, stop idhub and point DATABASE_URL at a copy of it",
                file.display()
            ))
        }
    }
}
