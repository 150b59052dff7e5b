//! Counters operators read at `/metrics` (Prometheus text format). Per instance: sum
//! them across instances.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::state::AppState;

/// Event counters, labelled by a fixed set of reasons.
#[derive(Debug, Default)]
pub struct Metrics {
    states_refused: Mutex<BTreeMap<&'static str, u64>>,
}

impl Metrics {
    /// Counts a refused overloaded `state`, by the rule it broke.
    pub fn state_refused(&self, reason: &'static str) {
        *self
            .states_refused
            .lock()
            .expect("metrics lock")
            .entry(reason)
            .or_default() += 1;
    }

    /// How many states were refused for `reason`.
    pub fn states_refused(&self, reason: &str) -> u64 {
        self.states_refused
            .lock()
            .expect("metrics lock")
            .get(reason)
            .copied()
            .unwrap_or(0)
    }

    fn render(&self) -> String {
        let mut out = String::from(
            "# HELP cognate_state_refused_total Overloaded state parameters refused at authorize.\n\
             # TYPE cognate_state_refused_total counter\n",
        );
        for (reason, n) in self.states_refused.lock().expect("metrics lock").iter() {
            let _ = writeln!(
                out,
                "cognate_state_refused_total{{reason=\"{reason}\"}} {n}"
            );
        }
        out
    }
}

pub async fn get_metrics(State(app): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.metrics.render(),
    )
}
