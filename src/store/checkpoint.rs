//! SQLite WAL checkpoints off the request path. By default SQLite checkpoints inside
//! the `COMMIT` that takes the WAL past 1,000 pages: that request then waits for the
//! WAL's and the database's fsyncs (15–55 ms each on a busy disk), and while readers
//! keep the checkpoint from finishing, every following commit tries again. The pool's
//! connections checkpoint automatically only past [`BACKSTOP_PAGES`] (in case this task
//! falls behind); a task checkpoints every [`INTERVAL`] instead, on the connection the
//! store keeps open anyway, as a `PASSIVE` checkpoint, which never waits for readers or
//! writers.

use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::Mutex;

/// How often the WAL is copied back into the database.
pub const INTERVAL: Duration = Duration::from_secs(1);

/// The pool connections' own `wal_autocheckpoint` (pages): 64 MiB of WAL at 4 KiB
/// pages, reached only if the background checkpoints stop keeping up.
pub const BACKSTOP_PAGES: &str = "16384";

/// Checkpoints on `conn` every [`INTERVAL`] until the store that holds it is dropped.
pub fn spawn(conn: Weak<Mutex<sqlx::SqliteConnection>>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(conn) = conn.upgrade() else { return };
            checkpoint(&conn).await;
        }
    });
}

async fn checkpoint(conn: &Arc<Mutex<sqlx::SqliteConnection>>) {
    let mut conn = conn.lock().await;
    // Nothing to copy is cheap: SQLite syncs only when it backfills frames.
    if let Err(e) = sqlx::Executor::execute(&mut *conn, "pragma wal_checkpoint(passive)").await {
        tracing::warn!(error = %e, "WAL checkpoint failed; the next one retries");
    }
}
