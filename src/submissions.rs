//! Forms that create something are acted on once. Such a form carries a
//! random key; the same key sent again (a double click, a resend after a
//! slow answer, the back button) gets what the first sending made instead
//! of a second one. Keys are kept in memory for ten minutes, at most
//! `MAX_KEPT`, per process: a browser sends both requests to the instance
//! its connection is open to.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const KEPT_FOR: Duration = Duration::from_secs(600);
const MAX_KEPT: usize = 10_000;

struct Seen {
    at: Instant,
    /// What the first sending made, once it is made.
    made: Option<String>,
}

/// What became of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sending {
    /// Never seen: act on it.
    First,
    /// Sent before; the id of what it made, when that is done.
    Again(Option<String>),
}

#[derive(Default)]
pub struct Submissions {
    seen: Mutex<HashMap<String, Seen>>,
}

impl Submissions {
    /// Records `key` as sent now, and says whether it was sent before.
    pub fn begin(&self, key: &str) -> Sending {
        let Ok(mut seen) = self.seen.lock() else {
            return Sending::First;
        };
        let now = Instant::now();
        if let Some(earlier) = seen.get(key) {
            if now.duration_since(earlier.at) < KEPT_FOR {
                return Sending::Again(earlier.made.clone());
            }
        }
        if seen.len() >= MAX_KEPT {
            seen.retain(|_, s| now.duration_since(s.at) < KEPT_FOR);
        }
        if seen.len() < MAX_KEPT {
            seen.insert(
                key.to_owned(),
                Seen {
                    at: now,
                    made: None,
                },
            );
        }
        Sending::First
    }

    /// The first sending of `key` made `id`.
    pub fn made(&self, key: &str, id: &str) {
        if let Ok(mut seen) = self.seen.lock() {
            if let Some(entry) = seen.get_mut(key) {
                entry.made = Some(id.to_owned());
            }
        }
    }

    /// The first sending of `key` was refused: the form may be sent again,
    /// corrected.
    pub fn forget(&self, key: &str) {
        if let Ok(mut seen) = self.seen.lock() {
            seen.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_acted_on_once_unless_refused() {
        let submissions = Submissions::default();
        assert_eq!(submissions.begin("k"), Sending::First);
        assert_eq!(submissions.begin("k"), Sending::Again(None));
        submissions.made("k", "service-1");
        assert_eq!(
            submissions.begin("k"),
            Sending::Again(Some("service-1".into()))
        );
        assert_eq!(submissions.begin("other"), Sending::First);
        submissions.forget("other");
        assert_eq!(submissions.begin("other"), Sending::First);
    }
}
