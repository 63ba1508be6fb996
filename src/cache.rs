//! Entities by id, kept in memory (a bounded `moka` cache), so the hot paths
//! skip the database. Writes through this instance invalidate their entry at
//! once; writes by other instances and the CLI arrive through
//! `db::change_feed` within milliseconds. An entry is fresh for a second, and
//! past that for as long as the feed vouches for it (`feed_proof`), so a
//! database that stalls for a moment does not draw every request at once. A
//! background task rereads aging entries ahead of expiry.
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::db::{DbConn, DbPool};
use crate::error::{AppError, StoreError};
use crate::feed_proof::FeedProof;
use crate::telemetry::CacheCounters;

/// Fresh this long after being read, with or without the feed.
pub const TTL: Duration = Duration::from_secs(1);
/// Never kept longer, whatever the feed says.
const MAX_AGE: Duration = Duration::from_secs(60);
/// Entities kept at most; past it moka evicts the least useful ones (TinyLFU),
/// so a registry this large costs some misses, never all of them at once.
pub const MAX_ENTRIES: u64 = 100_000;

/// How a cached entity is read from the database.
pub trait Load: Sized {
    fn load(conn: &mut DbConn, id: &str) -> Result<Option<Self>, StoreError>;
    fn load_many(conn: &mut DbConn, ids: &[String]) -> Result<Vec<(String, Self)>, StoreError>;
}

struct Entry<T> {
    /// When the read that produced it began.
    read_at: Instant,
    /// `None`: known not to exist (so probing unknown ids costs no reads either).
    value: Option<Arc<T>>,
    /// Read since the last refresh: only entries in use are refreshed ahead;
    /// the others expire.
    used: Arc<AtomicBool>,
}

impl<T> Clone for Entry<T> {
    fn clone(&self) -> Self {
        Self {
            read_at: self.read_at,
            value: self.value.clone(),
            used: Arc::clone(&self.used),
        }
    }
}

/// Ids per query when refreshing ahead, well under both backends' bind limits.
const REFRESH_BATCH: usize = 500;

pub struct TtlCache<T> {
    entries: moka::sync::Cache<String, Entry<T>>,
    lookups: CacheCounters,
    /// Bumped by every invalidation, so a read that raced a write on this
    /// instance never stores what it read before the write.
    generation: AtomicU64,
    proof: Arc<FeedProof>,
}

/// Where a read began: the cache generation and the moment.
#[derive(Clone, Copy)]
struct ReadStart {
    generation: u64,
    at: Instant,
}

impl<T: Load + Send + Sync + 'static> TtlCache<T> {
    /// `name` labels the cache's hit and miss counters.
    pub fn new(name: &'static str, proof: Arc<FeedProof>) -> Self {
        Self {
            lookups: CacheCounters::new(name),
            entries: moka::sync::Cache::builder()
                .max_capacity(MAX_ENTRIES)
                .time_to_live(MAX_AGE)
                .build(),
            generation: AtomicU64::new(0),
            proof,
        }
    }

    /// From memory when fresh, else read from the database (and kept).
    pub async fn get(
        self: &Arc<Self>,
        pool: &DbPool,
        id: &str,
    ) -> Result<Option<Arc<T>>, AppError> {
        if let Some(cached) = self.fresh(id) {
            return Ok(cached);
        }
        let (cache, id) = (Arc::clone(self), id.to_owned());
        crate::db::run(pool, move |conn| Ok(cache.lookup(conn, &id)?)).await
    }

    /// The cached answer if it is fresh: `Some(None)` means "does not exist".
    pub fn fresh(&self, id: &str) -> Option<Option<Arc<T>>> {
        let fresh = self
            .entries
            .get(id)
            .filter(|entry| entry.read_at.elapsed() < TTL || self.proof.vouches_for(entry.read_at));
        self.lookups.record(fresh.is_some());
        let entry = fresh?;
        entry.used.store(true, Ordering::Relaxed);
        Some(entry.value)
    }

    fn read_start(&self) -> ReadStart {
        ReadStart {
            generation: self.generation.load(Ordering::Acquire),
            at: Instant::now(),
        }
    }

    fn store(&self, id: &str, value: Option<Arc<T>>, read: ReadStart) {
        if self.generation.load(Ordering::Acquire) != read.generation {
            return;
        }
        self.entries.insert(
            id.to_owned(),
            Entry {
                read_at: read.at,
                value,
                used: Arc::new(AtomicBool::new(false)),
            },
        );
        // An invalidation between the check and the insert would otherwise
        // be undone by it, and the stale entry kept while the feed vouches.
        if self.generation.load(Ordering::Acquire) != read.generation {
            self.entries.invalidate(id);
        }
    }

    /// Call after the write has committed.
    pub fn invalidate(&self, id: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries.invalidate(id);
    }

    /// Forgets every entry: changes may have been missed.
    pub fn invalidate_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries.invalidate_all();
    }

    /// The entity, from memory when fresh, else from the database.
    pub fn lookup(&self, conn: &mut DbConn, id: &str) -> Result<Option<Arc<T>>, StoreError> {
        if let Some(cached) = self.fresh(id) {
            return Ok(cached);
        }
        let read = self.read_start();
        let loaded = T::load(conn, id)?.map(Arc::new);
        self.store(id, loaded.clone(), read);
        Ok(loaded)
    }

    /// Rereads, a batch per query, every entry past half its TTL that was read
    /// since its last refresh, so requests find fresh entries and do not wait
    /// on the database themselves. Returns how many.
    pub fn refresh_ahead(&self, conn: &mut DbConn) -> Result<usize, StoreError> {
        let read = self.read_start();
        let aging: Vec<String> = self
            .entries
            .iter()
            .filter(|(_, e)| {
                e.read_at.elapsed() >= TTL / 2 && e.used.swap(false, Ordering::Relaxed)
            })
            .map(|(id, _)| String::clone(&id))
            .collect();
        for batch in aging.chunks(REFRESH_BATCH) {
            let mut found: HashMap<String, Arc<T>> = T::load_many(conn, batch)?
                .into_iter()
                .map(|(id, value)| (id, Arc::new(value)))
                .collect();
            for id in batch {
                self.store(id, found.remove(id), read);
            }
        }
        Ok(aging.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Thing;

    impl Load for Thing {
        fn load(_: &mut DbConn, _: &str) -> Result<Option<Self>, StoreError> {
            Ok(None)
        }
        fn load_many(_: &mut DbConn, _: &[String]) -> Result<Vec<(String, Self)>, StoreError> {
            Ok(Vec::new())
        }
    }

    fn unproven() -> TtlCache<Thing> {
        TtlCache::new("things", Arc::new(FeedProof::new(Duration::from_secs(1))))
    }

    fn read_now(generation: u64) -> ReadStart {
        ReadStart {
            generation,
            at: Instant::now(),
        }
    }

    #[test]
    fn entries_expire_and_invalidate() {
        let cache = unproven();
        assert!(cache.fresh("a").is_none());
        cache.store("a", Some(Arc::new(Thing)), read_now(0));
        assert!(matches!(cache.fresh("a"), Some(Some(_))));
        cache.store("b", None, read_now(0));
        assert!(matches!(cache.fresh("b"), Some(None)));
        cache.invalidate("a");
        assert!(cache.fresh("a").is_none());
        cache.store("c", None, read_now(0));
        assert!(
            cache.fresh("c").is_none(),
            "a read from before the invalidation is not stored"
        );
    }

    #[test]
    fn past_its_ttl_an_entry_lives_while_the_feed_vouches_for_it() {
        let proof = Arc::new(FeedProof::new(Duration::from_secs(2)));
        let cache = TtlCache::<Thing>::new("things", Arc::clone(&proof));
        cache.store("early", Some(Arc::new(Thing)), read_now(0));
        std::thread::sleep(Duration::from_millis(5));
        proof.listening(Instant::now());
        std::thread::sleep(Duration::from_millis(2));
        cache.store("late", Some(Arc::new(Thing)), read_now(0));
        cache.store("unproven", Some(Arc::new(Thing)), read_now(0));
        std::thread::sleep(TTL + Duration::from_millis(50));
        assert!(cache.fresh("unproven").is_none(), "no proof yet");
        proof.complete_as_of(Instant::now());
        assert!(matches!(cache.fresh("late"), Some(Some(_))));
        assert!(
            cache.fresh("early").is_none(),
            "read before the feed listened"
        );
        proof.lost();
        assert!(cache.fresh("late").is_none(), "the feed failed");
    }

    #[test]
    fn more_entries_than_the_old_cliff_all_stay() {
        let cache = unproven();
        for i in 0..20_000 {
            cache.store(&format!("id{i}"), Some(Arc::new(Thing)), read_now(0));
        }
        let fresh = (0..20_000)
            .filter(|i| matches!(cache.fresh(&format!("id{i}")), Some(Some(_))))
            .count();
        assert_eq!(fresh, 20_000);
    }
}
