//! Counters operators read at `/metrics` (Prometheus text format). Per instance: sum
//! them across instances.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Event counters, labelled by a fixed set of reasons.
#[derive(Debug, Default)]
pub struct Metrics {
    states_refused: Counter,
    rate_limited: Counter,
}

impl Metrics {
    /// Counts a refused overloaded `state`, by the rule it broke.
    pub fn state_refused(&self, reason: &'static str) {
        bump(&self.states_refused, reason);
    }

    /// How many states were refused for `reason`.
    pub fn states_refused(&self, reason: &str) -> u64 {
        read(&self.states_refused, reason)
    }

    /// Counts a request refused by a rate limit, by category.
    pub fn rate_limited(&self, category: &'static str) {
        bump(&self.rate_limited, category);
    }

    /// The counters in Prometheus' text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        render_counter(
            &mut out,
            "cognate_state_refused_total",
            "Overloaded state parameters refused at authorize.",
            "reason",
            &self.states_refused,
        );
        render_counter(
            &mut out,
            "cognate_rate_limited_total",
            "Requests refused by a per-address rate limit.",
            "category",
            &self.rate_limited,
        );
        out
    }
}

type Counter = Mutex<BTreeMap<&'static str, u64>>;

fn bump(counter: &Counter, label: &'static str) {
    *counter
        .lock()
        .expect("metrics lock")
        .entry(label)
        .or_default() += 1;
}

fn read(counter: &Counter, label: &str) -> u64 {
    counter
        .lock()
        .expect("metrics lock")
        .get(label)
        .copied()
        .unwrap_or(0)
}

fn render_counter(out: &mut String, name: &str, help: &str, label: &str, counter: &Counter) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
    for (value, n) in counter.lock().expect("metrics lock").iter() {
        let _ = writeln!(out, "{name}{{{label}=\"{value}\"}} {n}");
    }
}

/// Trigger invocations by trigger source and outcome (`ok`, `refused`, `unreachable`,
/// `invalid_response`), kept by the domain's services.
#[derive(Debug, Default)]
pub struct TriggerCounters {
    counts: Mutex<BTreeMap<(String, &'static str), u64>>,
}

impl TriggerCounters {
    /// Counts one invocation.
    pub fn count(&self, source: &str, outcome: &'static str) {
        *self
            .counts
            .lock()
            .expect("metrics lock")
            .entry((source.to_string(), outcome))
            .or_default() += 1;
    }

    /// How many invocations of `source` ended in `outcome`.
    pub fn get(&self, source: &str, outcome: &str) -> u64 {
        self.counts
            .lock()
            .expect("metrics lock")
            .iter()
            .filter(|((s, o), _)| s == source && *o == outcome)
            .map(|(_, n)| *n)
            .sum()
    }

    /// The counter in Prometheus' text format.
    pub fn render(&self) -> String {
        let name = "cognate_trigger_invocations_total";
        let mut out = format!(
            "# HELP {name} Trigger invocations by trigger source and outcome.\n# TYPE {name} counter\n"
        );
        for ((source, outcome), n) in self.counts.lock().expect("metrics lock").iter() {
            let _ = writeln!(
                out,
                "{name}{{trigger=\"{source}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        out
    }
}
