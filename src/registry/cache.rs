//! Services by id, kept in memory for at most one second: client
//! authentication and token checks on the hot paths skip the database. Writes
//! through this instance invalidate their entry at once; other instances (and
//! the CLI) are seen within the TTL, the documented bound.
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use super::model::Service;
use super::repo;
use crate::db::DbConn;
use crate::error::AppError;

pub const TTL: Duration = Duration::from_secs(1);
/// Enough for any real registry; past it the cache starts over rather than grow.
const MAX_ENTRIES: usize = 10_000;

struct Entry {
    loaded: Instant,
    /// `None`: known not to exist (so probing unknown ids costs no reads either).
    service: Option<Arc<Service>>,
}

#[derive(Default)]
pub struct ServiceCache {
    entries: RwLock<HashMap<String, Entry>>,
    /// Bumped by every invalidation, so a read that raced a write on this
    /// instance never stores what it read before the write.
    generation: AtomicU64,
}

impl ServiceCache {
    /// The cached answer if it is fresh: `Some(None)` means "no such service".
    pub fn fresh(&self, id: &str) -> Option<Option<Arc<Service>>> {
        let entries = self.entries.read().ok()?;
        let entry = entries.get(id)?;
        (entry.loaded.elapsed() < TTL).then(|| entry.service.clone())
    }

    fn store(&self, id: &str, service: Option<Arc<Service>>, read_at_generation: u64) {
        if let Ok(mut entries) = self.entries.write() {
            if self.generation.load(Ordering::Acquire) != read_at_generation {
                return;
            }
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(
                id.to_owned(),
                Entry {
                    loaded: Instant::now(),
                    service,
                },
            );
        }
    }

    /// Call after the write has committed.
    pub fn invalidate(&self, id: &str) {
        if let Ok(mut entries) = self.entries.write() {
            self.generation.fetch_add(1, Ordering::AcqRel);
            entries.remove(id);
        }
    }

    /// Rereads, in one query, every entry past half its TTL, so requests find
    /// fresh entries and do not wait on the database themselves (a slow
    /// checkpoint then delays this task, not the hot path). Returns how many.
    pub fn refresh_ahead(&self, conn: &mut DbConn) -> Result<usize, AppError> {
        let generation = self.generation.load(Ordering::Acquire);
        let aging: Vec<String> = match self.entries.read() {
            Ok(entries) => entries
                .iter()
                .filter(|(_, e)| e.loaded.elapsed() >= TTL / 2)
                .map(|(id, _)| id.clone())
                .collect(),
            Err(_) => return Ok(0),
        };
        if aging.is_empty() {
            return Ok(0);
        }
        let mut found: HashMap<String, Arc<Service>> = repo::find_many(conn, &aging)?
            .into_iter()
            .map(|s| (s.id.clone(), Arc::new(s)))
            .collect();
        for id in &aging {
            self.store(id, found.remove(id), generation);
        }
        Ok(aging.len())
    }

    /// The service, from memory when fresh, else from the database.
    pub fn lookup(&self, conn: &mut DbConn, id: &str) -> Result<Option<Arc<Service>>, AppError> {
        if let Some(cached) = self.fresh(id) {
            return Ok(cached);
        }
        let generation = self.generation.load(Ordering::Acquire);
        let loaded = match repo::find(conn, id) {
            Ok(service) => Some(Arc::new(service)),
            Err(AppError::NotFound(_)) => None,
            Err(other) => return Err(other),
        };
        self.store(id, loaded.clone(), generation);
        Ok(loaded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_invalidate() {
        let cache = ServiceCache::default();
        assert!(cache.fresh("a").is_none());
        let service = Service::new("A".into(), "h".into(), chrono::Utc::now().naive_utc());
        cache.store("a", Some(Arc::new(service)), 0);
        assert!(matches!(cache.fresh("a"), Some(Some(_))));
        cache.store("b", None, 0);
        assert!(matches!(cache.fresh("b"), Some(None)));
        cache.invalidate("a");
        assert!(cache.fresh("a").is_none());
        cache.store("c", None, 0);
        assert!(
            cache.fresh("c").is_none(),
            "a read from before the invalidation is not stored"
        );
    }
}
