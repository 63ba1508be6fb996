//! Drops cached services, users and permissions the moment another process changes them,
//! and keeps the revoked set current, from `db::change_feed`. A plain thread
//! that sleeps between polls: no runtime wake-ups, and an idle server costs
//! next to nothing. It stops when the caches are gone or the runtime that
//! started it shuts down. On any failure of the feed (the database gone, say)
//! everything cached is dropped and the revoked set distrusted, since changes
//! may have been missed; the feed is reopened and the set reloaded.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use crate::authz::cache::AccessCache;
use crate::clock;
use crate::db::change_feed::{Change, ChangeFeed};
use crate::db::DatabaseLocation;
use crate::error::{cause_chain, StoreError};
use crate::feed_proof::FeedProof;
use crate::oauth2::revoked_set::RevokedSet;
use crate::registry::cache::ServiceCache;
use crate::users::cache::UserCache;

/// How often the feed is polled: the delay before another process's change
/// to a service or user applies here.
pub const POLL: Duration = Duration::from_millis(5);
/// The pause before reopening a failed feed.
const RETRY: Duration = Duration::from_secs(1);
/// How often expired revocations are forgotten.
const PRUNE_EVERY: Duration = Duration::from_secs(10);

/// Sets its flag when dropped: held by a task of the starting runtime.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// What the feed keeps current.
#[derive(Clone)]
pub struct Watched {
    pub services: Arc<ServiceCache>,
    pub users: Arc<UserCache>,
    pub revoked: Arc<RevokedSet>,
    pub access: Arc<AccessCache>,
    /// Told when the feed opens, proves itself complete, or fails.
    pub proof: Arc<FeedProof>,
}

struct WatchedWeak {
    services: Weak<ServiceCache>,
    users: Weak<UserCache>,
    revoked: Weak<RevokedSet>,
    access: Weak<AccessCache>,
    proof: Weak<FeedProof>,
}

impl WatchedWeak {
    fn upgrade(&self) -> Option<Watched> {
        Some(Watched {
            services: self.services.upgrade()?,
            users: self.users.upgrade()?,
            revoked: self.revoked.upgrade()?,
            access: self.access.upgrade()?,
            proof: self.proof.upgrade()?,
        })
    }
}

/// Starts watching; call from within a tokio runtime.
pub fn spawn(
    location: DatabaseLocation,
    timeout: Duration,
    watched: &Watched,
) -> std::io::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    let guard = StopOnDrop(Arc::clone(&stop));
    tokio::spawn(async move {
        let _guard = guard;
        std::future::pending::<()>().await
    });
    let weak = WatchedWeak {
        services: Arc::downgrade(&watched.services),
        users: Arc::downgrade(&watched.users),
        revoked: Arc::downgrade(&watched.revoked),
        access: Arc::downgrade(&watched.access),
        proof: Arc::downgrade(&watched.proof),
    };
    std::thread::Builder::new()
        .name("idhub-changes".into())
        .spawn(move || watch(&location, timeout, &weak, &stop))
        .map(drop)
}

/// Opens the feed, then fills the revoked set from the database: in this
/// order, so a revocation committed in between is in one or the other.
fn open(
    location: &DatabaseLocation,
    timeout: Duration,
    watched: &Watched,
) -> Result<ChangeFeed, StoreError> {
    let mut feed = ChangeFeed::open(location, timeout)?;
    watched.proof.listening(Instant::now());
    watched.revoked.load(feed.connection(), clock::now())?;
    Ok(feed)
}

fn apply(watched: &Watched, change: Change) {
    match change {
        Change::Service(id) => watched.services.invalidate(&id),
        Change::User(id) => {
            watched.users.invalidate(&id);
            watched.access.user_changed(&id);
        }
        Change::Grant(id) => watched.revoked.note_grant(&id),
        Change::AccessToken { jti, expires } => watched.revoked.note_token(&jti, expires),
        Change::AccessOfUser(id) => watched.access.user_changed(&id),
        Change::AccessGraph => watched.access.graph_changed(),
    }
}

fn watch(location: &DatabaseLocation, timeout: Duration, weak: &WatchedWeak, stop: &AtomicBool) {
    let mut feed: Option<ChangeFeed> = None;
    let mut last_prune = Instant::now();
    while !stop.load(Ordering::Acquire) {
        std::thread::sleep(POLL);
        let Some(watched) = weak.upgrade() else {
            return;
        };
        let polled = match feed.as_mut() {
            Some(open) => open.poll(),
            None => open(location, timeout, &watched).and_then(|opened| feed.insert(opened).poll()),
        };
        match polled {
            Ok(polled) => {
                for change in polled.changes {
                    apply(&watched, change);
                }
                if let Some(at) = polled.complete_as_of {
                    watched.proof.complete_as_of(at);
                }
            }
            Err(error) => {
                tracing::warn!(error = %cause_chain(&error), "change feed failed; cached entities dropped");
                watched.proof.lost();
                watched.services.invalidate_all();
                watched.users.invalidate_all();
                watched.access.invalidate_all();
                feed = None;
                drop(watched);
                std::thread::sleep(RETRY);
                continue;
            }
        }
        if last_prune.elapsed() >= PRUNE_EVERY {
            last_prune = Instant::now();
            watched.revoked.prune(clock::unix_now());
            if watched.revoked.needs_reload() {
                if let Some(open) = feed.as_mut() {
                    if let Err(error) = watched.revoked.load(open.connection(), clock::now()) {
                        tracing::warn!(error = %cause_chain(&error), "reloading revocations failed");
                    }
                }
            }
        }
    }
}
