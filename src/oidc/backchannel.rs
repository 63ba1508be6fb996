//! OpenID Connect Back-Channel Logout 1.0: when a browser session ends (sign
//! out, the logout endpoint, a ban, a password set), every service it signed
//! into that registered a `backchannelLogoutUri` gets a signed logout token.
//!
//! Whatever ends a session notes its `sid` in `ended_sessions`, in the same
//! transaction. A worker thread on every instance polls that table (and is
//! woken by this instance's sign-outs); whoever deletes a row delivers it, so
//! each is delivered once whichever instance, or the CLI, ended the session.
//! Deliveries run in the background with a short timeout and one retry:
//! nobody waits for them, and a service that is down stops no other. Each
//! outcome is in the audit trail, never the token.
use std::sync::{Arc, Weak};
use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::Notify;

use super::jwt;
use super::keystore::{KeySet, KeyStore};
use crate::audit::{Actor, Event, Kind, Origin, Recorder};
use crate::db::schema::{ended_sessions, grants, services};
use crate::db::{DbConn, DbPool};
use crate::error::{AppError, StoreError};
use crate::outbound::{Outbound, Reach};
use crate::registry::model::vouched;

/// The `typ` of a logout token (the spec's recommendation).
pub const LOGOUT_TOKEN_TYPE: &str = "logout+jwt";
pub const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// How long a service has to answer one delivery.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);
/// The pause before the one retry.
const RETRY_AFTER: Duration = Duration::from_secs(2);
/// How often other processes' sign-outs are looked for.
const POLL: Duration = Duration::from_secs(1);
/// A logout token's lifetime.
const TOKEN_TTL_SECS: i64 = 120;
/// Ended sessions claimed per round.
const BATCH: i64 = 100;
/// Deliveries in flight at once; more wait their turn (a mass ban must not
/// open thousands of connections).
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

/// A session that ended, and where to say so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub sid: String,
    pub user_id: String,
    pub service_id: String,
    pub uri: String,
    /// Who chose `uri` (`outbound`): a self-registered client's receiver
    /// must be on a public host.
    pub reach: Reach,
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
        jti: uuid::Uuid::new_v4().to_string(),
        sub: notice.user_id.clone(),
        sid: notice.sid.clone(),
        events: json!({ LOGOUT_EVENT: {} }),
    };
    jwt::encode(&keys.current, LOGOUT_TOKEN_TYPE, &claims)
}

/// A service to notify: id, receiver, trusted, verified.
type Target = (String, Option<String>, bool, bool);

/// Claims up to `limit` ended sessions (deleting each row: whoever deletes
/// it delivers it) and returns where to deliver them.
pub fn claim(conn: &mut DbConn, limit: i64) -> Result<Vec<Notice>, StoreError> {
    let pending: Vec<(String, String)> = ended_sessions::table
        .order(ended_sessions::ended_at.asc())
        .limit(limit)
        .select((ended_sessions::sid, ended_sessions::user_id))
        .load(conn)?;
    let mut notices = Vec::new();
    for (sid, user_id) in pending {
        // The claim and the read of its targets stand or fall together: a
        // failed read leaves the note for the next round.
        let targets = crate::db::transaction(conn, |conn| {
            let claimed = diesel::delete(ended_sessions::table.find(&sid)).execute(conn)?;
            if claimed == 0 {
                return Ok::<_, StoreError>(Vec::new());
            }
            let targets: Vec<Target> = grants::table
                .inner_join(services::table)
                .filter(grants::sid.eq(&sid))
                .filter(services::backchannel_logout_uri.is_not_null())
                .select((
                    services::id,
                    services::backchannel_logout_uri,
                    services::trusted,
                    services::verified,
                ))
                .distinct()
                .load(conn)?;
            Ok(targets)
        })?;
        notices.extend(
            targets
                .into_iter()
                .filter_map(|(service_id, uri, trusted, verified)| {
                    Some(Notice {
                        sid: sid.clone(),
                        user_id: user_id.clone(),
                        service_id,
                        uri: uri?,
                        reach: match vouched(trusted, verified) {
                            true => Reach::Anywhere,
                            false => Reach::PublicOnly,
                        },
                    })
                }),
        );
    }
    Ok(notices)
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
    async fn run(self) {
        let client = match Outbound::new(DELIVERY_TIMEOUT) {
            Ok(client) => client,
            Err(error) => {
                tracing::error!(%error, "back-channel logout has no HTTP client");
                return;
            }
        };
        let this = Arc::new(self);
        let permits = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
        loop {
            let Some(wake) = this.wake.upgrade() else {
                return;
            };
            let _ = tokio::time::timeout(POLL, wake.notified()).await;
            drop(wake);
            let pool = this.pool.clone();
            let claimed = crate::db::run(&pool, |conn| Ok(claim(conn, BATCH)?)).await;
            let notices = match claimed {
                Ok(notices) => notices,
                Err(error) => {
                    tracing::warn!(%error, "back-channel logout: ended sessions unreadable");
                    continue;
                }
            };
            for notice in notices {
                let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
                    return;
                };
                let (this, client) = (Arc::clone(&this), client.clone());
                tokio::spawn(async move {
                    this.deliver(&client, notice).await;
                    drop(permit);
                });
            }
        }
    }

    async fn deliver(&self, client: &Outbound, notice: Notice) {
        let keys = self.keys.current(&self.pool).await;
        let token = match logout_token(&keys, &self.issuer, &notice, crate::clock::now()) {
            Ok(token) => token,
            Err(error) => {
                tracing::error!(%error, "back-channel logout token not signed");
                return;
            }
        };
        let mut outcome = post(client, &notice, &token).await;
        if outcome.is_err() {
            tokio::time::sleep(RETRY_AFTER).await;
            outcome = post(client, &notice, &token).await;
        }
        let event = Event::new(
            match outcome {
                Ok(()) => Kind::LogoutDelivered,
                Err(_) => Kind::LogoutDeliveryFailed,
            },
            Actor::System,
            Origin::default(),
        )
        .user(&notice.user_id)
        .service(&notice.service_id)
        .detail("sid", notice.sid.as_str());
        let event = match outcome {
            Ok(()) => event,
            Err(reason) => {
                tracing::warn!(service = %notice.service_id, %reason, "back-channel logout failed");
                event.detail("reason", reason)
            }
        };
        self.audit.submit(event);
    }
}

/// One delivery: 200 or 204 is success (the spec's answers); anything else,
/// a timeout or no connection is a failure, named without the token.
async fn post(outbound: &Outbound, notice: &Notice, token: &str) -> Result<(), String> {
    let client = outbound.client_for(&notice.uri, notice.reach)?;
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
        Ok(response) if response.status().is_success() => Ok(()),
        Ok(response) => Err(format!("answered {}", response.status().as_u16())),
        Err(error) if error.is_timeout() => Err("timed out".into()),
        Err(_) => Err("unreachable".into()),
    }
}
