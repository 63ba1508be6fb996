//! What has been revoked lately, in memory, so introspection, userinfo and the
//! REST API judge an access token without a database round trip: revoked
//! access tokens (by `jti`, until they expire) and revoked or deleted grants.
//!
//! Filled from the database when the change feed opens, then kept current by
//! the feed (other instances, the CLI) and by this instance's own revocations,
//! noted as they are written. It answers only while the feed has recently
//! proved that nothing was missed, and only for tokens issued after what it
//! covers; otherwise callers ask the database, as before.
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::clock;
use crate::db::schema::{grants, revoked_access_tokens};
use crate::db::DbConn;
use crate::error::StoreError;
use crate::feed_proof::FeedProof;

/// Kept past the access-token lifetime: a token can be issued in the
/// milliseconds around its grant's revocation, and instances' clocks differ.
const MARGIN_SECS: i64 = 60;
/// Revocations remembered at most (about 100 bytes each). Past it the memory
/// stops answering until a reload finds fewer: a flood of revocations costs
/// database reads, never unbounded memory.
const MAX_REMEMBERED: usize = 1_000_000;

/// The memory's verdict on a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Live,
    TokenRevoked,
    GrantRevoked,
}

#[derive(Default)]
struct Known {
    /// Grant revocations from this time (unix seconds) on are all here;
    /// `None` until the first load.
    horizon: Option<i64>,
    /// Revoked access tokens: `jti` → expiry (unix seconds).
    tokens: HashMap<String, i64>,
    /// Revoked or deleted grants → when this instance learned of it.
    grants: HashMap<String, i64>,
}

pub struct RevokedSet {
    known: RwLock<Known>,
    /// Grant revocations are kept for this long (the access-token lifetime
    /// plus a margin): older ones concern only expired tokens.
    window_secs: i64,
    /// Whether the feed lately proved that no revocation was missed; the
    /// memory is loaded after each (re)opening of the feed.
    proof: Arc<FeedProof>,
    /// Set when a revocation could not be remembered (past `MAX_REMEMBERED`).
    overflowed: AtomicBool,
}

impl RevokedSet {
    pub fn new(access_token_ttl_secs: i64, proof: Arc<FeedProof>) -> Self {
        Self {
            known: RwLock::default(),
            window_secs: access_token_ttl_secs.saturating_add(MARGIN_SECS),
            proof,
            overflowed: AtomicBool::new(false),
        }
    }

    /// The verdict on a token issued at `iat`, or `None` when only the
    /// database can tell.
    pub fn judge(&self, jti: &str, grant_id: Option<&str>, iat: i64) -> Option<Verdict> {
        if !self.proof.vouches() || self.overflowed.load(Ordering::Acquire) {
            return None;
        }
        let known = self.known.read().ok()?;
        // Another instance's clock may run ahead of this one's: only tokens
        // well inside the covered span are judged here.
        let covered = known.horizon.is_some_and(|horizon| {
            iat >= horizon.saturating_add(MARGIN_SECS)
                && iat <= clock::unix_now().saturating_add(MARGIN_SECS)
        });
        if !covered {
            return None;
        }
        if known.tokens.contains_key(jti) {
            return Some(Verdict::TokenRevoked);
        }
        if grant_id.is_some_and(|id| known.grants.contains_key(id)) {
            return Some(Verdict::GrantRevoked);
        }
        Some(Verdict::Live)
    }

    pub fn note_token(&self, jti: &str, expires: i64) {
        if let Ok(mut known) = self.known.write() {
            if self.room_for_one(&known) {
                known.tokens.insert(jti.to_owned(), expires);
            }
        }
    }

    pub fn note_grant(&self, id: &str) {
        if let Ok(mut known) = self.known.write() {
            if self.room_for_one(&known) {
                known.grants.insert(id.to_owned(), clock::unix_now());
            }
        }
    }

    fn room_for_one(&self, known: &Known) -> bool {
        let room = known.tokens.len().saturating_add(known.grants.len()) < MAX_REMEMBERED;
        if !room {
            self.overflowed.store(true, Ordering::Release);
        }
        room
    }

    /// Whether a revocation was dropped for lack of room: reload when fewer.
    pub fn needs_reload(&self) -> bool {
        self.overflowed.load(Ordering::Acquire)
    }

    /// Replaces the memory with what the database holds now. Call right after
    /// the feed opened, so nothing between the two is lost.
    pub fn load(&self, conn: &mut DbConn, now: NaiveDateTime) -> Result<(), StoreError> {
        let horizon = now.and_utc().timestamp().saturating_sub(self.window_secs);
        let since = chrono::DateTime::from_timestamp(horizon, 0).map_or(now, |t| t.naive_utc());
        let tokens: Vec<(String, NaiveDateTime)> = revoked_access_tokens::table
            .filter(revoked_access_tokens::expires_at.gt(now))
            .select((
                revoked_access_tokens::jti,
                revoked_access_tokens::expires_at,
            ))
            .load(conn)?;
        let revoked_grants: Vec<(String, Option<NaiveDateTime>)> = grants::table
            .filter(grants::revoked_at.ge(since))
            .select((grants::id, grants::revoked_at))
            .load(conn)?;
        let fresh = Known {
            horizon: Some(horizon),
            tokens: tokens
                .into_iter()
                .map(|(jti, expires)| (jti, expires.and_utc().timestamp()))
                .collect(),
            grants: revoked_grants
                .into_iter()
                .map(|(id, at)| (id, at.map_or(horizon, |t| t.and_utc().timestamp())))
                .collect(),
        };
        let overflowed = fresh.tokens.len().saturating_add(fresh.grants.len()) > MAX_REMEMBERED;
        if let Ok(mut known) = self.known.write() {
            *known = fresh;
        }
        self.overflowed.store(overflowed, Ordering::Release);
        Ok(())
    }

    /// Forgets expired tokens and grant revocations older than the window,
    /// moving the horizon up to match.
    pub fn prune(&self, now: i64) {
        let horizon = now.saturating_sub(self.window_secs);
        if let Ok(mut known) = self.known.write() {
            known.tokens.retain(|_, expires| *expires > now);
            known
                .grants
                .retain(|_, at| *at >= horizon.saturating_sub(MARGIN_SECS));
            if known.horizon.is_some_and(|old| old < horizon) {
                known.horizon = Some(horizon);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::time::{Duration, Instant};

    fn proof() -> Arc<FeedProof> {
        let proof = Arc::new(FeedProof::new(Duration::from_millis(500)));
        proof.listening(Instant::now());
        proof.complete_as_of(Instant::now());
        proof
    }

    fn proven(ttl: i64) -> RevokedSet {
        let set = RevokedSet::new(ttl, proof());
        if let Ok(mut known) = set.known.write() {
            known.horizon = Some(1_000);
        }
        set
    }

    #[test]
    fn says_nothing_until_loaded_and_proved() {
        let set = RevokedSet::new(3600, proof());
        assert_eq!(set.judge("j", None, 5_000), None, "never loaded");
        let set = proven(3600);
        assert_eq!(set.judge("j", None, 5_000), Some(Verdict::Live));
        set.proof.lost();
        assert_eq!(set.judge("j", None, 5_000), None, "feed failed");
    }

    #[test]
    fn tokens_from_before_the_horizon_go_to_the_database() {
        let set = proven(3600);
        assert_eq!(set.judge("j", Some("g"), 1_059), None);
        assert_eq!(set.judge("j", Some("g"), 1_060), Some(Verdict::Live));
        let far_ahead = clock::unix_now() + 3_600;
        assert_eq!(
            set.judge("j", Some("g"), far_ahead),
            None,
            "a clock far ahead"
        );
    }

    #[test]
    fn noted_revocations_are_judged() {
        let set = proven(3600);
        set.note_token("j1", 9_999);
        set.note_grant("g1");
        assert_eq!(set.judge("j1", None, 5_000), Some(Verdict::TokenRevoked));
        assert_eq!(
            set.judge("j2", Some("g1"), 5_000),
            Some(Verdict::GrantRevoked)
        );
        assert_eq!(set.judge("j2", Some("g2"), 5_000), Some(Verdict::Live));
    }

    #[test]
    fn pruning_moves_the_horizon_with_what_it_forgets() {
        let set = proven(100);
        set.note_token("old", 2_000);
        set.note_token("new", 20_000);
        set.prune(10_000);
        let known = set.known.read().unwrap();
        assert!(!known.tokens.contains_key("old"));
        assert!(known.tokens.contains_key("new"));
        assert_eq!(known.horizon, Some(10_000 - 160));
    }
}
