//! Command-line bodies: the same repo functions the HTTP handlers call.
use clap::{Args, Parser, Subcommand};
use serde_json::json;

use crate::audit::event::EventView;
use crate::audit::query::AuditQuery;
use crate::audit::store as audit_store;
use crate::audit::Caller;
use crate::config::Settings;
use crate::error::AppError;
use crate::oidc::keystore::{self, KeyPolicy};
use crate::paging::{Page, MAX_TOP};
use crate::registry::input::ServiceInput;
use crate::registry::model::{Service, HUB_SERVICE_ID};
use crate::registry::repo as services_repo;
use crate::startup;
use crate::state::AppState;
use crate::users::{password_hash as password, permanent_tokens as tokens, repo as users_repo};
use crate::{clock, scope, secrets, validate};

#[derive(Debug, Parser)]
#[command(
    name = "idhub",
    version,
    about = "A Hub-style identity service: service registry, users, OAuth 2.0 and OpenID Connect"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve HTTP (the default when no command is given).
    Serve,
    /// Apply pending database migrations and create first-start data.
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Manage registered services.
    #[command(subcommand)]
    Services(ServicesCommand),
    /// Manage permanent tokens.
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// Manage the token signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Password hashing with the configured Argon2id parameters.
    #[command(subcommand)]
    Passwords(PasswordsCommand),
    /// Read the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Print the latest events, oldest first.
    Tail {
        /// How many events.
        #[arg(long, short = 'n', default_value_t = 20)]
        lines: i64,
        /// Only events matching this query (as the REST API's `query`, e.g.
        /// "type: signin.failed user: ID").
        #[arg(long, default_value = "")]
        query: String,
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Debug, Subcommand)]
pub enum PasswordsCommand {
    /// Time one password verification (what each sign-in costs one core), in ms.
    Time {
        #[arg(long, default_value_t = 10)]
        iterations: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a new current signing key; the old ones stay in the JWKS until the
    /// tokens they signed have expired. Running servers switch within seconds.
    Rotate {
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create a user.
    Add {
        #[arg(long)]
        login: String,
        #[arg(long)]
        password: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        admin: bool,
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Debug, Subcommand)]
pub enum ServicesCommand {
    /// Register a service; prints its id and secret (the secret only this once).
    Add {
        #[arg(long)]
        name: String,
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        #[arg(long)]
        trusted: bool,
        #[command(flatten)]
        output: Output,
    },
    /// Mark a service trusted (or not, with --off).
    Trust {
        id: String,
        #[arg(long)]
        off: bool,
    },
    /// Replace a service's secret; prints the new one.
    ResetSecret {
        id: String,
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Create a permanent token; prints the token alone.
    Create {
        #[arg(long)]
        user: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = HUB_SERVICE_ID)]
        scope: String,
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Debug, Args)]
pub struct Output {
    /// Print JSON instead of plain text.
    #[arg(long)]
    json: bool,
}

/// Runs one non-serve command and returns what it prints on stdout.
pub fn run(command: Command, settings: &Settings) -> anyhow::Result<String> {
    if let Command::Passwords(PasswordsCommand::Time { iterations }) = command {
        return time_password_verification(settings, iterations);
    }
    let state = startup::prepare(settings)?;
    let printed = match command {
        Command::Serve | Command::Passwords(_) => unreachable_here()?,
        Command::Migrate => "migrations applied".to_owned(),
        Command::Users(UsersCommand::Add {
            login,
            password,
            email,
            name,
            admin,
            output,
        }) => add_user(&state, login, password, email, name, admin, output.json)?,
        Command::Services(ServicesCommand::Add {
            name,
            redirect_uris,
            trusted,
            output,
        }) => add_service(&state, name, redirect_uris, trusted, output.json)?,
        Command::Services(ServicesCommand::Trust { id, off }) => {
            with_conn(&state, |conn| {
                services_repo::set_trusted(conn, &id, !off, &Caller::cli())
            })?;
            format!(
                "service {id} is {}",
                if off { "not trusted" } else { "trusted" }
            )
        }
        Command::Services(ServicesCommand::ResetSecret { id, output }) => {
            let secret = with_conn(&state, |conn| {
                services_repo::reset_secret(conn, &id, clock::now(), &Caller::cli())
            })?;
            if output.json {
                json!({ "id": id, "secret": secret }).to_string()
            } else {
                secret
            }
        }
        Command::Tokens(TokensCommand::Create {
            user,
            name,
            scope,
            output,
        }) => create_token(&state, user, name, scope, output.json)?,
        Command::Keys(KeysCommand::Rotate { output }) => {
            let policy = KeyPolicy::from_settings(settings).map_err(anyhow::Error::msg)?;
            let kid = with_conn(&state, |conn| {
                keystore::rotate(
                    conn,
                    policy.algorithm,
                    policy.retention,
                    clock::now(),
                    &Caller::cli(),
                )
            })?;
            if output.json {
                json!({ "kid": kid, "algorithm": policy.algorithm.name() }).to_string()
            } else {
                kid
            }
        }
        Command::Audit(AuditCommand::Tail {
            lines,
            query,
            output,
        }) => audit_tail(&state, lines, &query, output.json)?,
    };
    Ok(printed)
}

fn audit_tail(state: &AppState, lines: i64, query: &str, as_json: bool) -> anyhow::Result<String> {
    let query = AuditQuery::parse(query).map_err(|e| anyhow::anyhow!("{e}"))?;
    let page = Page {
        skip: 0,
        top: lines.clamp(1, MAX_TOP),
        count_total: false,
    };
    let (mut events, _) = with_conn(state, |conn| {
        Ok(audit_store::list(conn, &query, page, None)?)
    })?;
    events.reverse();
    let printed: Vec<String> = events
        .iter()
        .map(|event| match as_json {
            true => serde_json::to_string(event).unwrap_or_default(),
            false => audit_line(event),
        })
        .collect();
    Ok(printed.join("\n"))
}

/// One event on one line: time, type, then whatever it names.
fn audit_line(event: &EventView) -> String {
    let time = chrono::DateTime::from_timestamp_millis(event.timestamp)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default();
    let mut line = format!("{time} {}", event.kind);
    for (name, value) in [
        ("actor", &event.actor),
        ("user", &event.user_id),
        ("service", &event.service_id),
        ("ip", &event.ip),
    ] {
        if let Some(value) = value {
            line.push_str(&format!(" {name}={value}"));
        }
    }
    if event.details.as_object().is_some_and(|d| !d.is_empty()) {
        line.push_str(&format!(" {}", event.details));
    }
    line
}

fn unreachable_here() -> anyhow::Result<String> {
    anyhow::bail!("this command is handled before the database is opened")
}

/// Needs no database: hashes once, then times verifications on this thread.
fn time_password_verification(settings: &Settings, iterations: u32) -> anyhow::Result<String> {
    let hasher = password::PasswordHasher::new(settings).map_err(anyhow::Error::msg)?;
    let hash = hasher
        .hash("correct horse battery staple")
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    hasher.verify("warm-up", &hash);
    let iterations = iterations.max(1);
    let started = std::time::Instant::now();
    for _ in 0..iterations {
        if !hasher.verify("correct horse battery staple", &hash) {
            anyhow::bail!("verification failed");
        }
    }
    let ms = started.elapsed().as_secs_f64() * 1000.0 / f64::from(iterations);
    Ok(format!("{ms:.2}"))
}

fn with_conn<T>(
    state: &AppState,
    work: impl FnOnce(&mut crate::db::DbConn) -> Result<T, AppError>,
) -> anyhow::Result<T> {
    let mut conn = state.pool.get()?;
    work(&mut conn).map_err(|e| anyhow::anyhow!("{e}"))
}

fn add_user(
    state: &AppState,
    login: String,
    plain_password: String,
    email: Option<String>,
    name: Option<String>,
    admin: bool,
    as_json: bool,
) -> anyhow::Result<String> {
    let login = validate::login(&login).map_err(|e| anyhow::anyhow!("{e}"))?;
    password::validate(&plain_password).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut new_user = users_repo::new_user(login, name, clock::now());
    new_user.email = email
        .as_deref()
        .map(validate::email)
        .transpose()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    new_user.admin = admin;
    new_user.password_hash = Some(
        state
            .hasher
            .hash(&plain_password)
            .map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    let user = with_conn(state, |conn| {
        users_repo::create(conn, new_user, &Caller::cli())
    })?;
    Ok(if as_json {
        json!({ "id": user.id }).to_string()
    } else {
        user.id
    })
}

fn add_service(
    state: &AppState,
    name: String,
    redirect_uris: Vec<String>,
    trusted: bool,
    as_json: bool,
) -> anyhow::Result<String> {
    let input = ServiceInput {
        name: Some(name),
        redirect_uris: Some(redirect_uris),
        trusted: Some(trusted),
        ..ServiceInput::default()
    };
    let checked = input.check(true).map_err(|e| anyhow::anyhow!("{e}"))?;
    let secret = secrets::generate();
    let name = checked.changes.name.clone().unwrap_or_default();
    let service = Service::new(name, secrets::hash(&secret), clock::now());
    let uris = checked.redirect_uris.unwrap_or_default();
    let service = with_conn(state, |conn| {
        services_repo::create(conn, service, &checked.changes, &uris, &Caller::cli())
    })?;
    Ok(if as_json {
        json!({ "id": service.id, "secret": secret }).to_string()
    } else {
        format!("id: {}\nsecret: {secret}", service.id)
    })
}

fn create_token(
    state: &AppState,
    login: String,
    name: String,
    scope: String,
    as_json: bool,
) -> anyhow::Result<String> {
    let name = validate::required_text("name", Some(&name), validate::MAX_SHORT_TEXT)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let ids = scope::parse("scope", &scope).map_err(|e| anyhow::anyhow!("{e}"))?;
    let (row, plain) = with_conn(state, |conn| {
        let user =
            users_repo::find_by_login(conn, &login)?.ok_or_else(|| AppError::not_found("user"))?;
        services_repo::require_registered(conn, "scope", &ids)?;
        tokens::create(conn, &user, name, &ids, clock::now(), &Caller::cli())
    })?;
    Ok(if as_json {
        json!({ "id": row.id, "name": row.name, "scope": row.scope, "token": plain }).to_string()
    } else {
        plain
    })
}
