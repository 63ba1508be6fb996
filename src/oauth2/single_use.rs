//! Authorization codes and refresh tokens are each good for one use. Both are
//! consumed by one conditional UPDATE (`used_at` set where it was null and the
//! secret unexpired): of two racing uses exactly one changes a row. This is
//! what the attempt means.
use chrono::NaiveDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SingleUse {
    /// This call used it; the caller may issue what it stands for.
    Won,
    /// It had been used before: a replay, so the grant it belongs to is revoked.
    Replayed,
    /// Unused but past its expiry.
    Expired,
}

impl SingleUse {
    /// Judges an attempt from whether the UPDATE changed a row and what the
    /// row said when it was read, before the UPDATE.
    pub fn judge(
        updated_a_row: bool,
        used_before: bool,
        expires_at: NaiveDateTime,
        now: NaiveDateTime,
    ) -> Self {
        if updated_a_row {
            Self::Won
        } else if !used_before && expires_at <= now {
            Self::Expired
        } else {
            Self::Replayed
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_used_secret_is_a_replay_even_after_expiry() {
        let now = chrono::DateTime::from_timestamp(1_000_000, 0)
            .map(|t| t.naive_utc())
            .unwrap_or_default();
        let earlier = now - chrono::Duration::seconds(1);
        let later = now + chrono::Duration::seconds(1);
        assert_eq!(SingleUse::judge(true, false, later, now), SingleUse::Won);
        assert_eq!(
            SingleUse::judge(false, false, earlier, now),
            SingleUse::Expired
        );
        assert_eq!(
            SingleUse::judge(false, true, earlier, now),
            SingleUse::Replayed
        );
        // Unused and unexpired, yet the UPDATE lost: another use won the race.
        assert_eq!(
            SingleUse::judge(false, false, later, now),
            SingleUse::Replayed
        );
    }
}
