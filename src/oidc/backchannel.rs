//! OpenID Connect Back-Channel Logout 1.0: when a browser session ends (sign
//! out, the logout endpoint, a ban, a password set), every service it signed
//! into that registered a `backchannelLogoutUri` gets a signed logout token,
//! at least once.
//!
//! Whatever ends a session notes its `sid` in `ended_sessions`, in the same
//! transaction. A worker thread on every instance polls that table every
//! second (and is woken by this instance's sign-outs); whoever deletes a note
//! turns it into one outbox row per service (`logout_outbox`), in the same
//! transaction, whichever instance, or the CLI, ended the session. The
//! workers lease due rows from the outbox, so one attempt is sent by one
//! instance, and retry a failed one with exponential backoff until the
//! delivery window (`backchannel_logout_window_secs`, 10 minutes by
//! default) after the session ended closes. Every attempt carries the same
//! `jti`, for the receiver to recognise a token it already has. Deliveries
//! run in the background with a short timeout and a cap on those in flight:
//! nobody waits for them, and a service that is down stops no other. Each
//! delivery, or giving up, is in the audit trail once, never the token.
use std::sync::{Arc, Weak};
use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::{Notify, Semaphore};

use super::jwt;
use super::keystore::{KeySet, KeyStore};
use super::logout_outbox::{self, Attempt, Notice, Outcome, Settled};
use crate::audit::{Actor, Event, Kind, Origin, Recorder};
use crate::db::DbPool;
use crate::error::AppError;
use crate::outbound::Outbound;

/// The `typ` of a logout token (the spec's recommendation).
pub const LOGOUT_TOKEN_TYPE: &str = "logout+jwt";
pub const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// How long a service has to answer one delivery; the outbox's lease
/// (`logout_outbox::LEASE`) must be well past it.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);
/// How often other processes' sign-outs, and attempts due, are looked for.
const POLL: Duration = Duration::from_secs(1);
/// A logout token's lifetime.
const TOKEN_TTL_SECS: i64 = 120;
/// Ended sessions claimed, and at most attempts leased, per round.
const BATCH: i64 = 100;
/// Deliveries in flight at once; more wait their turn in the outbox (a mass
/// ban must not open thousands of connections).
const IN_FLIGHT: usize = 64;

#[derive(Debug, Serialize)]
pub struct LogoutClaims {
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub sub: String,
    pub sid: String,
    pub events: Value,
}

pub fn logout_token(
    keys: &KeySet,
    issuer: &str,
    notice: &Notice,
    now: NaiveDateTime,
) -> Result<String, AppError> {
    let iat = now.and_utc().timestamp();
    let claims = LogoutClaims {
        iss: issuer.to_owned(),
        aud: notice.service_id.clone(),
        iat,
        exp: iat.saturating_add(TOKEN_TTL_SECS),
        jti: notice.jti.clone(),
        sub: notice.user_id.clone(),
        sid: notice.sid.clone(),
        events: json!({ LOGOUT_EVENT: {} }),
    };
    jwt::encode(&keys.current, LOGOUT_TOKEN_TYPE, &claims)
}

/// What the worker needs.
pub struct Deliverer {
    pub pool: DbPool,
    pub keys: Arc<KeyStore>,
    pub issuer: String,
    pub audit: Recorder,
    /// Woken by this instance's sign-outs; dropped by the server that
    /// owns it, which ends the worker.
    pub wake: Weak<Notify>,
    /// How long after a session ended its tokens are tried.
    pub window: Duration,
}

/// Starts the worker thread; it ends when `wake`'s owner drops it.
pub fn spawn(deliverer: Deliverer) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("idhub-backchannel".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(error) => {
                    tracing::error!(%error, "back-channel logout cannot start");
                    return;
                }
            };
            runtime.block_on(deliverer.run());
        })
        .map(drop)
}

impl Deliverer {
    /// Rounds until the server stops. Attempts in flight then are dropped
    /// with the runtime; their leases run out and another instance, or this
    /// one started again, makes them.
    async fn run(self) {
        let client = match Outbound::new(DELIVERY_TIMEOUT) {
            Ok(client) => client,
            Err(error) => {
                tracing::error!(%error, "back-channel logout has no HTTP client");
                return;
            }
        };
        let this = Arc::new(self);
        let permits = Arc::new(Semaphore::new(IN_FLIGHT));
        loop {
            let Some(wake) = this.wake.upgrade() else {
                return;
            };
            let _ = tokio::time::timeout(POLL, wake.notified()).await;
            drop(wake);
            this.claim().await;
            // No more leased than can be sent at once: a leased row waiting
            // for its turn could outlive its lease.
            let free = i64::try_from(permits.available_permits()).unwrap_or(0);
            for attempt in this.lease(free.min(BATCH)).await {
                let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
                    return;
                };
                let (this, client) = (Arc::clone(&this), client.clone());
                tokio::spawn(async move {
                    this.attempt(&client, attempt).await;
                    drop(permit);
                });
            }
        }
    }

    /// Turns ended sessions into outbox rows; a failure leaves them for the
    /// next round.
    async fn claim(&self) {
        let window = TimeDelta::from_std(self.window).unwrap_or(TimeDelta::MAX);
        let claimed = crate::db::run(&self.pool, move |conn| {
            Ok(logout_outbox::claim(
                conn,
                BATCH,
                window,
                crate::clock::now(),
            )?)
        })
        .await;
        if let Err(error) = claimed {
            tracing::warn!(%error, "back-channel logout: ended sessions unreadable");
        }
    }

    async fn lease(&self, limit: i64) -> Vec<Attempt> {
        let leased = crate::db::run(&self.pool, move |conn| {
            Ok(logout_outbox::lease(conn, limit, crate::clock::now())?)
        })
        .await;
        leased.unwrap_or_else(|error| {
            tracing::warn!(%error, "back-channel logout: the outbox is unreadable");
            Vec::new()
        })
    }

    /// One attempt, settled in the outbox; a failure to settle leaves the
    /// row leased, to be tried again when the lease runs out.
    async fn attempt(&self, client: &Outbound, attempt: Attempt) {
        let outcome = self.send(client, &attempt.notice).await;
        if let Outcome::Failed(reason) = &outcome {
            tracing::debug!(service = %attempt.notice.service_id, number = attempt.number, %reason,
                "back-channel logout attempt failed");
        }
        let spread: f64 = rand::random();
        let settled = {
            let (attempt, outcome) = (attempt.clone(), outcome.clone());
            crate::db::run(&self.pool, move |conn| {
                let now = crate::clock::now();
                Ok(logout_outbox::settle(
                    conn, &attempt, &outcome, now, spread,
                )?)
            })
            .await
        };
        match settled {
            Ok(settled) => self.record(&attempt, settled),
            Err(error) => {
                tracing::warn!(%error, "back-channel logout: an attempt could not be recorded");
            }
        }
    }

    /// Signs a token for this attempt (fresh `iat` and `exp`, the row's
    /// `jti`) and posts it.
    async fn send(&self, client: &Outbound, notice: &Notice) -> Outcome {
        let keys = self.keys.current(&self.pool).await;
        match logout_token(&keys, &self.issuer, notice, crate::clock::now()) {
            Ok(token) => post(client, notice, &token).await,
            Err(error) => {
                tracing::error!(%error, "back-channel logout token not signed");
                Outcome::Failed("not signed".into())
            }
        }
    }

    fn record(&self, attempt: &Attempt, settled: Settled) {
        let notice = &attempt.notice;
        let (kind, reason) = match settled {
            Settled::Pending => return,
            Settled::Delivered => (Kind::LogoutDelivered, None),
            Settled::GaveUp(reason) => {
                tracing::warn!(service = %notice.service_id, attempts = attempt.number, %reason,
                    "back-channel logout failed");
                (Kind::LogoutDeliveryFailed, Some(reason))
            }
        };
        let event = Event::new(kind, Actor::System, Origin::default())
            .user(&notice.user_id)
            .service(&notice.service_id)
            .detail("sid", notice.sid.as_str())
            .detail("jti", notice.jti.as_str())
            .detail("attempts", attempt.number);
        self.audit.submit(match reason {
            Some(reason) => event.detail("reason", reason),
            None => event,
        });
    }
}

/// One delivery: 200 or 204 is success (the spec's answers); anything else,
/// a timeout or no connection is a failure, named without the token.
async fn post(outbound: &Outbound, notice: &Notice, token: &str) -> Outcome {
    let client = match outbound.client_for(&notice.uri, notice.reach) {
        Ok(client) => client,
        Err(reason) => return Outcome::Refused(reason),
    };
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("logout_token", token)
        .finish();
    let sent = client
        .post(&notice.uri)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await;
    match sent {
        Ok(response) if response.status().is_success() => Outcome::Delivered,
        Ok(response) => Outcome::Failed(format!("answered {}", response.status().as_u16())),
        Err(error) if error.is_timeout() => Outcome::Failed("timed out".into()),
        Err(_) => Outcome::Failed("unreachable".into()),
    }
}
