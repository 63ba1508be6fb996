//! Builds the application once, for `main` and for the tests alike.
use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::DefaultHeaders;
use actix_web::{App, HttpServer};
use anyhow::Context;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::audit::Recorder;
use crate::authz::cache::AccessCache;
use crate::config::Settings;
use crate::db;
use crate::error::cause_chain;
use crate::factors::passkeys::RelyingParty;
use crate::feed_proof::FeedProof;
use crate::oauth2::client_assertion::ClientKeys;
use crate::oauth2::client_throttle::ClientThrottle;
use crate::oauth2::dpop_nonce::NonceKey;
use crate::oauth2::revoked_set::RevokedSet;
use crate::oauth2::token::TokenPolicy;
use crate::oauth2::used_jtis::JtiLedger;
use crate::oauth2::verified::VerifiedTokens;
use crate::oidc::keystore::{self, KeyPolicy, KeyStore};
use crate::oidc::{backchannel, discovery};
use crate::registry::cache::ServiceCache;
use crate::sessions::familiar_devices::DeviceKey;
use crate::sessions::lockout::Lockout;
use crate::state::AppState;
use crate::users::cache::UserCache;
use crate::users::password_hash::PasswordHasher;
use crate::{bootstrap, clock, endpoints, housekeeping, invalidation, rest, web};

/// Opens the pool, applies migrations and creates first-start data. Shared by
/// `serve` and every CLI command, so each of them works on a fresh database.
pub fn prepare(settings: &Settings) -> anyhow::Result<AppState> {
    let location =
        db::DatabaseLocation::parse(&settings.database_url).map_err(anyhow::Error::msg)?;
    let shown = location.shown();
    let timeout = std::time::Duration::from_millis(settings.database_timeout_ms.max(1));
    let pool = db::build_pool(location, settings.pool_size, timeout).map_err(anyhow::Error::msg)?;
    let hasher = PasswordHasher::new(settings).map_err(anyhow::Error::msg)?;
    let mut conn = pool.get().context("cannot get a database connection")?;
    let new_database = db::migrations::none_applied(&mut conn)
        .map_err(|e| anyhow::anyhow!("migrations failed: {e}"))?;
    db::migrations::run_pending(&mut conn)
        .map_err(|e| anyhow::anyhow!("migrations failed: {e}"))?;
    if new_database {
        // A server started from another directory, or without the
        // DATABASE_URL of the usual terminal, would otherwise start empty
        // without a word.
        eprintln!(
            "idhub: created a new, empty database at {shown}; if you expected existing services and users, stop and set DATABASE_URL to their database"
        );
    }
    let admin = bootstrap::ensure(&mut conn, settings, &hasher, clock::now())
        .map_err(|e| anyhow::anyhow!("bootstrap failed: {e}"))?;
    let password_set = settings
        .admin_password
        .as_ref()
        .is_some_and(|password| !password.expose().is_empty());
    match admin {
        bootstrap::Admin::Created(Some(password)) => {
            // Printed, never logged: this is the only time anyone sees it.
            eprintln!("idhub: created user 'admin' with the generated password: {password}");
            eprintln!(
                "idhub: it is not shown again; set IDHUB_ADMIN_PASSWORD on first start to choose it."
            );
        }
        // Logged by the server only (commands do not log): an operator who
        // set it to change the password learns that it did not.
        bootstrap::Admin::Existing if password_set => tracing::warn!(
            "IDHUB_ADMIN_PASSWORD is set but user 'admin' exists: it only chooses the first admin's password; change a password with `idhub users set-password admin`"
        ),
        bootstrap::Admin::Created(None) | bootstrap::Admin::Existing => {}
    }
    let policy = KeyPolicy::from_settings(settings).map_err(anyhow::Error::msg)?;
    let algorithm = policy.algorithm;
    let encrypting = policy.encryption.is_some();
    let keys = KeyStore::open(&mut conn, policy, clock::now())
        .map_err(|e| anyhow::anyhow!("signing keys: {e}"))?;
    let unencrypted =
        keystore::count_unencrypted(&mut conn).map_err(|e| anyhow::anyhow!("signing keys: {e}"))?;
    if encrypting && unencrypted > 0 {
        tracing::warn!(
            unencrypted,
            "signing keys are stored unencrypted: run `idhub keys encrypt`"
        );
    }
    let dpop_nonces = match settings.dpop_nonce_required {
        true => Some(Arc::new(
            NonceKey::load_or_create(&mut conn)
                .map_err(|e| anyhow::anyhow!("DPoP nonce key: {e}"))?,
        )),
        false => None,
    };
    let devices = Arc::new(
        DeviceKey::load_or_create(&mut conn)
            .map_err(|e| anyhow::anyhow!("device cookie key: {e}"))?,
    );
    drop(conn);
    let jtis = JtiLedger::start(pool.clone()).context("cannot start the JWT id writer")?;
    let feed_proof = Arc::new(FeedProof::new(timeout));
    // The writer thread is the server's (Application::build).
    let audit = Recorder::detached();
    Ok(AppState {
        pool,
        settings: settings.clone(),
        hasher,
        keys: Arc::new(keys),
        logout_wake: Arc::new(tokio::sync::Notify::new()),
        services: Arc::new(ServiceCache::new("services", Arc::clone(&feed_proof))),
        users: Arc::new(UserCache::new("users", Arc::clone(&feed_proof))),
        access: Arc::new(AccessCache::new(Arc::clone(&feed_proof))),
        verified: VerifiedTokens::default(),
        client_keys: Arc::new(ClientKeys::new().map_err(anyhow::Error::msg)?),
        dpop_nonces,
        devices,
        jtis,
        revoked: Arc::new(RevokedSet::new(
            settings.access_token_ttl_secs,
            Arc::clone(&feed_proof),
        )),
        feed_proof,
        audit,
        lockout: Lockout::from_settings(settings),
        client_throttle: Arc::new(ClientThrottle::from_settings(settings)),
        trusted_proxies: settings.trusted_proxies().map_err(anyhow::Error::msg)?,
        token_policy: TokenPolicy::from_settings(settings),
        issuer: settings.issuer(),
        passkeys: RelyingParty::for_issuer(&settings.issuer())
            .map_err(anyhow::Error::msg)?
            .map(Arc::new),
        sign_in_buttons: Default::default(),
        discovery: serde_json::to_string(&discovery::document(settings, algorithm.name()))
            .context("the discovery document")?,
        submissions: Default::default(),
    })
}

pub struct Application {
    port: u16,
    server: Server,
    /// The listener for `/metrics` and `/health/*`, when one is configured.
    metrics: Option<(u16, Server)>,
    audit: Recorder,
    pool: db::DbPool,
}

impl Application {
    pub fn build(mut settings: Settings) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(&settings.listen)
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        let address = listener.local_addr()?;
        let port = address.port();
        let metrics_listener = match &settings.metrics_listen {
            Some(metrics_listen) => Some(
                TcpListener::bind(metrics_listen)
                    .with_context(|| format!("cannot listen on {metrics_listen}"))?,
            ),
            None => None,
        };
        let metrics = rest::metrics::install().map_err(anyhow::Error::msg)?;
        // With port 0 the default issuer must name the port actually bound,
        // on the host as the listen address names it (`localhost` stays a
        // name: passkeys need one).
        if settings.issuer.is_none() {
            let host = settings
                .listen
                .rsplit_once(':')
                .map_or_else(|| address.ip().to_string(), |(host, _)| host.to_owned());
            settings.issuer = Some(format!("http://{host}:{port}"));
        }
        let mut state = prepare(&settings)?;
        state.audit =
            Recorder::start(state.pool.clone()).context("cannot start the audit writer")?;
        let state = actix_web::web::Data::new(state);
        let audit = state.audit.clone();
        spawn_refresher(state.clone());
        housekeeping::spawn(state.pool.clone(), state.settings.clone());
        backchannel::spawn(backchannel::Deliverer {
            pool: state.pool.clone(),
            keys: Arc::clone(&state.keys),
            issuer: state.issuer.clone(),
            audit: state.audit.clone(),
            wake: Arc::downgrade(&state.logout_wake),
            window: std::time::Duration::from_secs(state.settings.backchannel_logout_window_secs),
        })
        .context("cannot start back-channel logout")?;
        let location = db::DatabaseLocation::parse(&state.settings.database_url)
            .map_err(anyhow::Error::msg)?;
        let watched = invalidation::Watched {
            services: Arc::clone(&state.services),
            users: Arc::clone(&state.users),
            revoked: Arc::clone(&state.revoked),
            access: Arc::clone(&state.access),
            proof: Arc::clone(&state.feed_proof),
        };
        invalidation::spawn(location, state.pool.timeout(), &watched)
            .context("cannot start the change watcher")?;
        // Serve only once changes by others are heard, so none made just
        // after the start is missed; a feed that cannot open within the
        // database timeout leaves the caches to their one-second TTL.
        let deadline = std::time::Instant::now() + state.pool.timeout();
        while !state.feed_proof.is_listening() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        let metrics = actix_web::web::Data::new(metrics);
        let metrics_server = match metrics_listener {
            Some(listener) => {
                let port = listener.local_addr()?.port();
                Some((
                    port,
                    serve_metrics(listener, state.clone(), metrics.clone())?,
                ))
            }
            None => None,
        };
        let pool = state.pool.clone();
        let server = serve(listener, state, metrics_server.is_none().then_some(metrics))?;
        Ok(Self {
            port,
            server,
            metrics: metrics_server,
            audit,
            pool,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the metrics listener, when one is configured.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    /// Serves until SIGINT or SIGTERM, then stops gracefully: no new
    /// connections, requests in flight finish (for up to `SHUTDOWN_GRACE`),
    /// and the audit events still queued are written.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let mut server = self.server;
        let metrics = self.metrics.map(|(_, metrics)| {
            let handle = metrics.handle();
            tokio::spawn(metrics);
            handle
        });
        let served = tokio::select! {
            served = &mut server => served,
            signal = stop_signal() => {
                tracing::info!(
                    signal,
                    "idhub is stopping: requests in flight finish, new connections are refused"
                );
                // The server future carries out the stop, so it is polled
                // alongside; a second signal means stop now.
                let stopping = async {
                    tokio::select! {
                        () = handle.stop(true) => {}
                        again = stop_signal() => {
                            tracing::warn!(signal = again, "second stop signal: exiting at once");
                            std::process::exit(130);
                        }
                    }
                };
                let ((), served) = tokio::join!(stopping, &mut server);
                served
            }
        };
        // Scrapes go on while requests finish, and end with them, at once.
        if let Some(metrics) = metrics {
            metrics.stop(false).await;
        }
        let audit = self.audit;
        let flushed =
            tokio::task::spawn_blocking(move || audit.flush(std::time::Duration::from_secs(5)))
                .await
                .unwrap_or(false);
        if !flushed {
            tracing::warn!("audit events still queued at shutdown were not all written");
        }
        let folded = db::run(&self.pool, |conn| Ok(db::scrub::truncate_log(conn)?)).await;
        if let Err(error) = folded {
            tracing::warn!(%error, "the SQLite log was not folded into the database at stop");
        }
        served
    }
}

/// How long requests in flight may take to finish once a stop is asked for.
/// With the 5 s for the audit queue, within the 30 s orchestrators such as
/// Kubernetes wait before they kill.
const SHUTDOWN_GRACE_SECS: u64 = 20;

/// The name of the first stop signal received. The server listens itself,
/// rather than leaving it to actix, to say in its own log which one came.
async fn stop_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        tracing::warn!("cannot listen for SIGINT and SIGTERM; stop idhub with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = interrupt.recv() => "SIGINT",
        _ = terminate.recv() => "SIGTERM",
    }
}

/// Keeps the signing keys and cached services fresh in the background, so the
/// hot paths read memory only; if the database is slow, this task waits, not
/// the requests (which fall back to reading once entries expire).
fn spawn_refresher(state: actix_web::web::Data<AppState>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(250));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            state.keys.current(&state.pool).await;
            let (services, users) = (Arc::clone(&state.services), Arc::clone(&state.users));
            let access = Arc::clone(&state.access);
            let refreshed = db::run(&state.pool, move |conn| {
                services.refresh_ahead(conn)?;
                users.refresh_ahead(conn)?;
                Ok(access.refresh_ahead(conn)?)
            });
            if let Err(error) = refreshed.await {
                tracing::warn!(error = %cause_chain(&error), "refreshing cached entities failed");
            }
        }
    });
}

/// The main listener; it serves `/metrics` too when given the recorder.
fn serve(
    listener: TcpListener,
    state: actix_web::web::Data<AppState>,
    metrics: Option<actix_web::web::Data<PrometheusHandle>>,
) -> anyhow::Result<Server> {
    let workers = state.settings.workers;
    let body_limit = state.settings.max_body_bytes;
    // Blocking work is database calls (bounded by the pool) and Argon2 (bounded
    // by its permits); more threads would only wait, each with its own stack
    // and malloc arena.
    let blocking_threads = state.settings.pool_size as usize + state.hasher.concurrency();
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(rest::json::json_config(body_limit))
            .app_data(actix_web::web::PayloadConfig::new(body_limit))
            .app_data(rest::json::query_config())
            .app_data(rest::json::path_config())
            .app_data(web::form_config(body_limit))
            .wrap(actix_web::middleware::from_fn(
                rest::door::check_at_the_door,
            ))
            .wrap(actix_web::middleware::from_fn(
                rest::error_bodies::fill_empty_errors,
            ))
            .wrap(
                // No page of idhub may be framed (clickjacking, RFC 9700 §4.16),
                // and no URL of it (codes, states) leaks through Referer.
                DefaultHeaders::new()
                    .add(("X-Content-Type-Options", "nosniff"))
                    .add(("X-Frame-Options", "DENY"))
                    .add(("Content-Security-Policy", "frame-ancestors 'none'"))
                    .add(("Referrer-Policy", "no-referrer")),
            )
            .wrap(actix_web::middleware::from_fn(
                rest::request_log::log_request,
            ))
            .configure(|cfg| {
                if let Some(metrics) = &metrics {
                    cfg.app_data(metrics.clone())
                        .configure(rest::metrics::routes);
                }
            })
            .configure(routes)
            .default_service(actix_web::web::to(rest::error_bodies::no_route))
    })
    .listen(listener)?;
    if let Some(workers) = workers {
        server = server.workers(workers.max(1));
    }
    server = server
        .worker_max_blocking_threads(blocking_threads.max(2))
        .shutdown_timeout(SHUTDOWN_GRACE_SECS)
        // Application::run_until_stopped listens for the stop signals.
        .disable_signals();
    Ok(server.run())
}

/// The operators' listener: metrics and health only, one worker, so a
/// monitoring system reaches them on an address the public cannot.
fn serve_metrics(
    listener: TcpListener,
    state: actix_web::web::Data<AppState>,
    metrics: actix_web::web::Data<PrometheusHandle>,
) -> anyhow::Result<Server> {
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(metrics.clone())
            .wrap(actix_web::middleware::from_fn(
                rest::error_bodies::fill_empty_errors,
            ))
            .configure(rest::metrics::routes)
            .configure(rest::health::routes)
            .default_service(actix_web::web::to(rest::error_bodies::no_route))
    })
    .listen(listener)?
    .workers(1)
    .shutdown_timeout(SHUTDOWN_GRACE_SECS)
    .disable_signals();
    Ok(server.run())
}

/// Every route of the server, in one table. Order matters where paths overlap:
/// `/api/rest/users/{id}/…` resources come before `/api/rest/users/{id}`.
fn routes(cfg: &mut actix_web::web::ServiceConfig) {
    cfg.configure(rest::health::routes)
        .configure(endpoints::openapi::routes)
        .configure(endpoints::routes)
        .configure(rest::services::routes)
        .configure(rest::permanent_tokens::routes)
        .configure(rest::authorized_apps::routes)
        .configure(rest::audit_events::routes)
        .configure(rest::permission_cache::routes)
        .configure(rest::permissions::routes)
        .configure(rest::roles::routes)
        .configure(rest::projects::routes)
        .configure(rest::project_roles::routes)
        .configure(rest::auth_modules::routes)
        .configure(rest::identities::routes)
        .configure(rest::two_factor::routes)
        .configure(rest::usergroups::routes)
        .configure(web::routes)
        .configure(rest::users::routes);
}
