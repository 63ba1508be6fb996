//! How far the change feed vouches for what this process holds in memory.
//!
//! The feed proves, poll by poll, that every change committed before some
//! moment has been applied here. Whatever was read from the database after
//! the feed began listening is then current, however old, for as long as
//! those proofs keep coming: a change to it would have been applied (dropped
//! from a cache, noted as revoked). The entity caches and the revoked set
//! trust memory by this one rule, so a database that stalls for a moment
//! does not send every request to it at once.
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Never trusted longer than this after the feed's last proof, whatever the
/// database timeout.
const MAX_TRUST: Duration = Duration::from_secs(2);

pub struct FeedProof {
    started: Instant,
    /// Memory is trusted this long after the last proof: as long as a
    /// request would wait for the database (a busy database answers the
    /// feed's heartbeat late too; a dead connection stops the proofs).
    trusted_for: Duration,
    /// When the current feed began listening, as `stamp` gives it; 0: no feed.
    listening_since: AtomicU64,
    /// Every change committed before this moment is applied; 0: none proven.
    complete_as_of: AtomicU64,
}

impl FeedProof {
    pub fn new(trusted_for: Duration) -> Self {
        Self {
            started: Instant::now(),
            trusted_for: trusted_for.min(MAX_TRUST),
            listening_since: AtomicU64::new(0),
            complete_as_of: AtomicU64::new(0),
        }
    }

    /// Milliseconds after `started`, plus one so that 0 can mean "never".
    fn stamp(&self, at: Instant) -> u64 {
        let millis = at.saturating_duration_since(self.started).as_millis();
        u64::try_from(millis).unwrap_or(u64::MAX).saturating_add(1)
    }

    /// A feed opened and listens from `since` on (taken after it opened).
    pub fn listening(&self, since: Instant) {
        self.listening_since
            .store(self.stamp(since), Ordering::Release);
    }

    /// Whether a feed is open and listening.
    pub fn is_listening(&self) -> bool {
        self.listening_since.load(Ordering::Acquire) != 0
    }

    /// The feed has applied every change committed before `at`.
    pub fn complete_as_of(&self, at: Instant) {
        self.complete_as_of.store(self.stamp(at), Ordering::Release);
    }

    /// The feed failed: changes may have been missed.
    pub fn lost(&self) {
        self.complete_as_of.store(0, Ordering::Release);
        self.listening_since.store(0, Ordering::Release);
    }

    /// Whether the feed proved itself within `trusted_for`.
    pub fn vouches(&self) -> bool {
        let proved = self.complete_as_of.load(Ordering::Acquire);
        if proved == 0 {
            return false;
        }
        let limit = u64::try_from(self.trusted_for.as_millis()).unwrap_or(u64::MAX);
        self.stamp(Instant::now()).saturating_sub(proved) <= limit
    }

    /// Whether something read from the database from `read_at` on is still
    /// current: it was read while the feed listened, and the feed vouches.
    pub fn vouches_for(&self, read_at: Instant) -> bool {
        let since = self.listening_since.load(Ordering::Acquire);
        // Strictly after: stamps are whole milliseconds, and a read in the
        // millisecond the feed opened may have begun before it.
        since != 0 && self.stamp(read_at) > since && self.vouches()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRUST: Duration = Duration::from_millis(500);

    #[test]
    fn nothing_is_vouched_for_before_a_proof() {
        let proof = FeedProof::new(TRUST);
        assert!(!proof.vouches());
        proof.listening(Instant::now());
        std::thread::sleep(Duration::from_millis(2));
        assert!(!proof.vouches_for(Instant::now()));
        proof.complete_as_of(Instant::now());
        assert!(proof.vouches_for(Instant::now()));
    }

    #[test]
    fn reads_from_before_the_feed_listened_are_not_vouched_for() {
        let proof = FeedProof::new(TRUST);
        let before = Instant::now();
        std::thread::sleep(Duration::from_millis(3));
        proof.listening(Instant::now());
        proof.complete_as_of(Instant::now());
        assert!(proof.vouches());
        assert!(!proof.vouches_for(before));
    }

    #[test]
    fn a_lost_feed_or_a_stale_proof_vouches_for_nothing() {
        let proof = FeedProof::new(Duration::from_millis(10));
        proof.listening(Instant::now());
        std::thread::sleep(Duration::from_millis(2));
        let read_at = Instant::now();
        proof.complete_as_of(Instant::now());
        proof.lost();
        assert!(!proof.vouches_for(read_at));
        proof.listening(Instant::now());
        proof.complete_as_of(Instant::now());
        std::thread::sleep(Duration::from_millis(30));
        assert!(!proof.vouches(), "a proof older than the trust span");
    }

    #[test]
    fn trust_is_capped() {
        let proof = FeedProof::new(Duration::from_secs(3600));
        assert_eq!(proof.trusted_for, MAX_TRUST);
    }
}
