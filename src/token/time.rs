//! Time as tokens see it: one type for "now" and for every instant derived
//! from it, so the rounding rules live here and nowhere else.
//!
//! simplejwt reads the clock once per request (`current_time`, an aware UTC
//! datetime with microseconds) and compares it, with its fraction, against
//! whole-second claims: PyJWT's `exp <= now - leeway` means a token whose
//! `exp` is 100 is expired from 100.0 on. Claims it writes are whole seconds
//! rounded down (`datetime_to_epoch`). [`Timestamp`] keeps the fraction for
//! comparisons and gives whole seconds ([`Timestamp::epoch`]) for what is
//! written into claims and the store.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// An instant, in seconds since the Unix epoch with the fraction.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Timestamp(f64);

impl Timestamp {
    /// The current time (a clock before 1970 reads as the epoch).
    pub fn now() -> Self {
        Self(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
        )
    }

    /// The instant `secs` seconds after the epoch.
    pub const fn from_secs_f64(secs: f64) -> Self {
        Self(secs)
    }

    /// The instant of a whole-second claim value (`exp`, `iat`).
    pub const fn from_epoch(secs: i64) -> Self {
        Self(secs as f64)
    }

    /// Seconds since the epoch, with the fraction.
    pub const fn as_secs_f64(self) -> f64 {
        self.0
    }

    /// Whole seconds since the epoch, rounded down: what a claim carries and
    /// what the store records (simplejwt's `datetime_to_epoch`).
    pub fn epoch(self) -> i64 {
        self.0.floor() as i64
    }

    /// Whole milliseconds since the epoch, rounded down (throttle counters).
    pub fn epoch_millis(self) -> i64 {
        (self.0 * 1000.0).floor() as i64
    }

    /// `d` later. Durations are bounded by the settings (100 years), so this
    /// stays far inside the range where whole seconds are exact.
    pub fn after(self, d: Duration) -> Self {
        Self(self.0 + d.as_secs_f64())
    }

    /// `d` earlier.
    pub fn before(self, d: Duration) -> Self {
        Self(self.0 - d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_whole_seconds_rounded_down() {
        let t = Timestamp::from_secs_f64(1_999_999_700.9);
        assert_eq!(t.epoch(), 1_999_999_700);
        assert_eq!(t.after(Duration::from_secs(300)).epoch(), 2_000_000_000);
        assert_eq!(t.before(Duration::from_millis(900)).epoch(), 1_999_999_700);
        assert_eq!(Timestamp::from_epoch(5).as_secs_f64(), 5.0);
    }

    #[test]
    fn now_is_after_2020() {
        assert!(Timestamp::now().epoch() > 1_577_836_800);
    }
}
