//! The server's notion of "now", in epoch seconds (Cognito speaks epoch seconds).
//! Tests move it forward to check expiry without sleeping; nothing outside code in
//! the same process can change it.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Wall-clock time plus an offset that only tests change.
#[derive(Debug, Default)]
pub struct Clock {
    offset: AtomicI64,
}

impl Clock {
    /// Seconds since the Unix epoch.
    pub fn now(&self) -> i64 {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        wall + self.offset.load(Ordering::Relaxed)
    }

    /// Moves this clock forward by `seconds` (tests of expiry).
    pub fn advance(&self, seconds: i64) {
        self.offset.fetch_add(seconds, Ordering::Relaxed);
    }
}
