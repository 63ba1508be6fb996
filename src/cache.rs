//! Entities by id, kept in memory for at most one second, so the hot paths
//! skip the database. Writes through this instance invalidate their entry at
//! once; other instances (and the CLI) are seen within the TTL, the documented
//! bound. A background task rereads aging entries ahead of expiry.
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::db::DbConn;
use crate::error::AppError;

pub const TTL: Duration = Duration::from_secs(1);
/// Enough for any real registry; past it the cache starts over rather than grow.
const MAX_ENTRIES: usize = 10_000;

/// How a cached entity is read from the database.
pub trait Load: Sized {
    fn load(conn: &mut DbConn, id: &str) -> Result<Option<Self>, AppError>;
    fn load_many(conn: &mut DbConn, ids: &[String]) -> Result<Vec<(String, Self)>, AppError>;
}

struct Entry<T> {
    loaded: Instant,
    /// `None`: known not to exist (so probing unknown ids costs no reads either).
    value: Option<Arc<T>>,
}

pub struct TtlCache<T> {
    entries: RwLock<HashMap<String, Entry<T>>>,
    /// Bumped by every invalidation, so a read that raced a write on this
    /// instance never stores what it read before the write.
    generation: AtomicU64,
}

impl<T> Default for TtlCache<T> {
    fn default() -> Self {
        Self {
            entries: RwLock::new(HashMap::new()),
            generation: AtomicU64::new(0),
        }
    }
}

impl<T: Load> TtlCache<T> {
    /// The cached answer if it is fresh: `Some(None)` means "does not exist".
    pub fn fresh(&self, id: &str) -> Option<Option<Arc<T>>> {
        let entries = self.entries.read().ok()?;
        let entry = entries.get(id)?;
        (entry.loaded.elapsed() < TTL).then(|| entry.value.clone())
    }

    fn store(&self, id: &str, value: Option<Arc<T>>, read_at_generation: u64) {
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
                    value,
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

    /// The entity, from memory when fresh, else from the database.
    pub fn lookup(&self, conn: &mut DbConn, id: &str) -> Result<Option<Arc<T>>, AppError> {
        if let Some(cached) = self.fresh(id) {
            return Ok(cached);
        }
        let generation = self.generation.load(Ordering::Acquire);
        let loaded = T::load(conn, id)?.map(Arc::new);
        self.store(id, loaded.clone(), generation);
        Ok(loaded)
    }

    /// Rereads, in one query, every entry past half its TTL, so requests find
    /// fresh entries and do not wait on the database themselves. Returns how many.
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
        let mut found: HashMap<String, Arc<T>> = T::load_many(conn, &aging)?
            .into_iter()
            .map(|(id, value)| (id, Arc::new(value)))
            .collect();
        for id in &aging {
            self.store(id, found.remove(id), generation);
        }
        Ok(aging.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Thing;

    impl Load for Thing {
        fn load(_: &mut DbConn, _: &str) -> Result<Option<Self>, AppError> {
            Ok(None)
        }
        fn load_many(_: &mut DbConn, _: &[String]) -> Result<Vec<(String, Self)>, AppError> {
            Ok(Vec::new())
        }
    }

    #[test]
    fn entries_expire_and_invalidate() {
        let cache = TtlCache::<Thing>::default();
        assert!(cache.fresh("a").is_none());
        cache.store("a", Some(Arc::new(Thing)), 0);
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
