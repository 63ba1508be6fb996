//! Drops cached services and users the moment another process changes them,
//! from `db::change_feed`. A plain thread that sleeps between polls: no
//! runtime wake-ups, and an idle server costs next to nothing. It stops when
//! the caches are gone or the runtime that started it shuts down. On any
//! failure of the feed (the database gone, say) everything cached is dropped,
//! since changes may have been missed, and the feed is reopened.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::db::change_feed::{ChangeFeed, Entity};
use crate::db::DatabaseLocation;
use crate::error::cause_chain;
use crate::registry::cache::ServiceCache;
use crate::users::cache::UserCache;

/// How often the feed is polled: the delay before another process's change
/// to a service or user applies here.
pub const POLL: Duration = Duration::from_millis(5);
/// The pause before reopening a failed feed.
const RETRY: Duration = Duration::from_secs(1);

/// Sets its flag when dropped: held by a task of the starting runtime.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Starts watching; call from within a tokio runtime.
pub fn spawn(
    location: DatabaseLocation,
    timeout: Duration,
    services: &Arc<ServiceCache>,
    users: &Arc<UserCache>,
) -> std::io::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    let guard = StopOnDrop(Arc::clone(&stop));
    tokio::spawn(async move {
        let _guard = guard;
        std::future::pending::<()>().await
    });
    let (services, users) = (Arc::downgrade(services), Arc::downgrade(users));
    std::thread::Builder::new()
        .name("idhub-changes".into())
        .spawn(move || watch(&location, timeout, &services, &users, &stop))
        .map(drop)
}

fn watch(
    location: &DatabaseLocation,
    timeout: Duration,
    services: &Weak<ServiceCache>,
    users: &Weak<UserCache>,
    stop: &AtomicBool,
) {
    let mut feed: Option<ChangeFeed> = None;
    while !stop.load(Ordering::Acquire) {
        std::thread::sleep(POLL);
        let (Some(services), Some(users)) = (services.upgrade(), users.upgrade()) else {
            return;
        };
        let polled = match feed.as_mut() {
            Some(open) => open.poll(),
            None => ChangeFeed::open(location, timeout).map(|open| {
                feed = Some(open);
                Vec::new()
            }),
        };
        match polled {
            Ok(changes) => {
                for change in changes {
                    match change.entity {
                        Entity::Service => services.invalidate(&change.id),
                        Entity::User => users.invalidate(&change.id),
                    }
                }
            }
            Err(error) => {
                tracing::warn!(error = %cause_chain(&error), "change feed failed; cached entities dropped");
                services.invalidate_all();
                users.invalidate_all();
                feed = None;
                drop((services, users));
                std::thread::sleep(RETRY);
            }
        }
    }
}
