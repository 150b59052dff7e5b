//! Where events go: a bounded in-memory queue that a background task drains into the
//! `auth_events` table in batches (one statement per batch), so a request records an
//! event without waiting on the database. When the queue is full (the database is
//! slower than the events come) the event is dropped and counted ([`EventSink::dropped`])
//! rather than making the request wait: a slow audit log must not take sign-in down.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::mpsc;

use super::{Event, RequestContext, current};
use crate::store::{AuthEventRow, Store, StoreError};

/// Events waiting to be written, at most.
pub const QUEUE_CAPACITY: usize = 8192;

/// Events written per statement, at most (16 bound values each).
const BATCH: usize = 256;

/// Cheap to clone; all clones feed the same queue.
#[derive(Clone)]
pub struct EventSink {
    tx: Option<mpsc::Sender<AuthEventRow>>,
    dropped: Arc<AtomicU64>,
}

impl EventSink {
    /// A sink writing to `store` from a background task on the current Tokio runtime.
    /// Outside a runtime (nothing could drain the queue) every event is dropped.
    pub fn start(store: &Store) -> Self {
        if tokio::runtime::Handle::try_current().is_err() {
            return Self::with_queue(None);
        }
        let (sink, rx) = Self::channel(QUEUE_CAPACITY);
        tokio::spawn(write_batches(store.clone(), rx));
        sink
    }

    /// A sink over a queue of `capacity` and the queue's receiving end, for a writer
    /// the caller runs.
    pub fn channel(capacity: usize) -> (Self, mpsc::Receiver<AuthEventRow>) {
        let (tx, rx) = mpsc::channel(capacity);
        (Self::with_queue(Some(tx)), rx)
    }

    fn with_queue(tx: Option<mpsc::Sender<AuthEventRow>>) -> Self {
        Self {
            tx,
            dropped: Arc::default(),
        }
    }

    /// Queues `event`, at `at` (epoch seconds), in the current request's context.
    /// Never waits: a full queue drops the event and counts it.
    pub fn record(&self, event: Event, at: i64) {
        self.record_in(event, &current(), at);
    }

    /// [`EventSink::record`] in an explicit context.
    pub fn record_in(&self, event: Event, context: &RequestContext, at: i64) {
        let row = event.into_row(context, at);
        let sent = self.tx.as_ref().is_some_and(|tx| tx.try_send(row).is_ok());
        if !sent {
            let before = self.dropped.fetch_add(1, Ordering::Relaxed);
            // One warning per power of two dropped, so a flood is not doubled in the log.
            if before.is_power_of_two() || before == 0 {
                tracing::warn!(
                    dropped = before + 1,
                    "auth event queue full: events dropped"
                );
            }
        }
    }

    /// Events dropped because the queue was full, since start.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Writes one event at once, for commands that end before a background writer would
/// run (the CLI's admin changes).
pub async fn write_now(store: &Store, event: Event, at: i64) -> Result<(), StoreError> {
    store
        .insert_auth_events(&[event.into_row(&current(), at)])
        .await
}

/// Drains the queue until every sender is gone: waits for one event, takes whatever
/// else is queued (up to [`BATCH`]) and writes them together.
pub async fn write_batches(store: Store, mut rx: mpsc::Receiver<AuthEventRow>) {
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        if let Err(e) = store.insert_auth_events(&batch).await {
            tracing::warn!(error = %e, events = batch.len(), "writing auth events failed");
        }
        batch.clear();
    }
}

/// How long events are kept (`serve --events-max-count`, `--events-max-age-days`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub max_count: i64,
    pub max_age_seconds: i64,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            max_count: DEFAULT_MAX_COUNT,
            max_age_seconds: DEFAULT_MAX_AGE_DAYS * 86_400,
        }
    }
}

/// The default of `--events-max-count`.
pub const DEFAULT_MAX_COUNT: i64 = 1_000_000;

/// The default of `--events-max-age-days`.
pub const DEFAULT_MAX_AGE_DAYS: i64 = 90;

/// Deletes the events `retention` no longer keeps at `now`; run by the server's
/// periodic clean-up, never per event. The count deleted.
pub async fn prune(store: &Store, retention: Retention, now: i64) -> Result<u64, StoreError> {
    store
        .prune_auth_events(now - retention.max_age_seconds, retention.max_count)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Kind;

    #[test]
    fn a_full_queue_drops_and_counts_without_waiting() {
        let (sink, mut rx) = EventSink::channel(2);
        for _ in 0..5 {
            sink.record(Event::new(Kind::SignIn, "p"), 1);
        }
        assert_eq!(sink.dropped(), 3);
        assert!(rx.try_recv().is_ok());
        assert!(rx.try_recv().is_ok());
        assert!(rx.try_recv().is_err());
        // Room again: the next event is queued.
        sink.record(Event::new(Kind::SignIn, "p"), 1);
        assert_eq!(sink.dropped(), 3);
        assert!(rx.try_recv().is_ok());
    }
}
