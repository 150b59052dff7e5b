//! The server's notion of "now", in epoch seconds (Cognito speaks epoch seconds).
//! Tests move it forward to check expiry without sleeping; nothing outside code in
//! the same process can change it. With PostgreSQL, `serve` follows the database
//! server's clock, so instances whose host clocks disagree still agree on code expiry,
//! lockouts and token times.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Wall-clock time plus an offset that only tests change.
#[derive(Debug, Default)]
pub struct Clock {
    offset: AtomicI64,
    /// The wall-clock reading a test froze time at; 0 when time runs.
    frozen: AtomicI64,
    /// The database clock minus the host clock, in seconds (see [`Clock::follow`]).
    db_offset: AtomicI64,
}

impl Clock {
    /// Seconds since the Unix epoch.
    pub fn now(&self) -> i64 {
        let wall = match self.frozen.load(Ordering::Relaxed) {
            0 => wall(),
            frozen => frozen,
        };
        wall + self.offset.load(Ordering::Relaxed) + self.db_offset.load(Ordering::Relaxed)
    }

    /// Follows a reference clock (the database's) that reads `reference` now.
    pub fn follow(&self, reference: i64) {
        self.db_offset.store(reference - wall(), Ordering::Relaxed);
    }

    /// Stops time, for tests that check a boundary to the second: from now on only
    /// [`Clock::advance`] moves it, whatever the machine's speed.
    pub fn freeze(&self) {
        self.frozen.store(wall(), Ordering::Relaxed);
    }

    /// Moves this clock forward by `seconds` (tests of expiry).
    pub fn advance(&self, seconds: i64) {
        self.offset.fetch_add(seconds, Ordering::Relaxed);
    }
}

fn wall() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
