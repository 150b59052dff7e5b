//! What operators graph, read at `/metrics` in Prometheus' text exposition format
//! (version 0.0.4). Per instance: sum across instances.
//!
//! Hand-kept rather than a client crate: every label set is known in advance (enums
//! below, route templates, trigger sources), so each counter is an atomic picked by
//! index and the request path neither locks nor allocates; the exposition format is a
//! few lines. Names follow Prometheus' conventions: `cognate_` prefix, `_total`
//! counters, `_seconds` histograms. No label carries a user, a client or anything a
//! client typed, so the series stay bounded.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// The domain's counters, shared by every handle of one process (transactions too).
#[derive(Debug, Default)]
pub struct Metrics {
    states_refused: Labelled,
    rate_limited: Labelled,
    /// Requests by route template.
    http: RwLock<HashMap<Arc<str>, Arc<Route>>>,
    sign_ins: [[AtomicU64; SignInOutcome::ALL.len()]; SignInFlow::ALL.len()],
    tokens: [AtomicU64; Grant::ALL.len()],
    refresh_reuse: AtomicU64,
    throttled: [AtomicU64; Throttle::ALL.len()],
    mail: Labelled2,
    /// By trigger source (Cognito's fixed names, from the code, never from a request).
    triggers: Mutex<BTreeMap<String, Arc<Trigger>>>,
}

/// One trigger source's invocations.
#[derive(Debug, Default)]
struct Trigger {
    outcomes: Labelled,
    seconds: Histogram,
}

/// How a sign-in was proven.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignInFlow {
    /// The Cognito API's `USER_PASSWORD_AUTH` / `ADMIN_USER_PASSWORD_AUTH`.
    Password,
    /// `USER_SRP_AUTH`'s password verifier.
    Srp,
    /// A refresh token (`/oauth2/token` or `REFRESH_TOKEN_AUTH`).
    Refresh,
    /// `CUSTOM_AUTH`'s challenge answers.
    Custom,
    /// An identity provider's sign-in.
    Federated,
    /// The hosted login page.
    HostedPage,
}

impl SignInFlow {
    const ALL: [Self; 6] = [
        Self::Password,
        Self::Srp,
        Self::Refresh,
        Self::Custom,
        Self::Federated,
        Self::HostedPage,
    ];
    fn name(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Srp => "srp",
            Self::Refresh => "refresh",
            Self::Custom => "custom",
            Self::Federated => "federated",
            Self::HostedPage => "hosted_page",
        }
    }
}

/// How a sign-in attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignInOutcome {
    /// Signed in (or on to a second factor or new password: the first proof held).
    Success,
    /// Wrong name, password, proof or token.
    Failure,
    /// Refused by the per-user throttle before anything was checked.
    Throttled,
    /// Proven, but the account may not sign in (disabled, unconfirmed, reset, …).
    Refused,
    /// A store, trigger or other failure.
    Error,
}

impl SignInOutcome {
    const ALL: [Self; 5] = [
        Self::Success,
        Self::Failure,
        Self::Throttled,
        Self::Refused,
        Self::Error,
    ];
    fn name(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Throttled => "throttled",
            Self::Refused => "refused",
            Self::Error => "error",
        }
    }
}

/// How tokens were obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
    /// The Cognito API's `InitiateAuth`/`RespondToAuthChallenge` (password, SRP,
    /// custom or MFA), which answer tokens directly.
    Api,
}

impl Grant {
    pub const ALL: [Grant; 4] = [
        Grant::AuthorizationCode,
        Grant::RefreshToken,
        Grant::ClientCredentials,
        Grant::Api,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Grant::AuthorizationCode => "authorization_code",
            Grant::RefreshToken => "refresh_token",
            Grant::ClientCredentials => "client_credentials",
            Grant::Api => "api",
        }
    }
}

/// Which throttle refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Throttle {
    /// Too many failed proofs for a username or address.
    SignIn,
    /// Too many messages to one user.
    Messages,
}

impl Throttle {
    const ALL: [Self; 2] = [Self::SignIn, Self::Messages];
    fn name(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::Messages => "messages",
        }
    }
}

impl Metrics {
    /// Counts a refused overloaded `state`, by the rule it broke.
    pub fn state_refused(&self, reason: &'static str) {
        self.states_refused.bump(reason);
    }

    /// How many states were refused for `reason`.
    pub fn states_refused(&self, reason: &str) -> u64 {
        self.states_refused.get(reason)
    }

    /// Counts a request refused by a rate limit, by category.
    pub fn rate_limited(&self, category: &'static str) {
        self.rate_limited.bump(category);
    }

    /// The counters of requests to `route` (a route template, or `unmatched`). Taken
    /// under a read lock; a template seen for the first time is added once.
    pub fn route(&self, route: &str) -> Arc<Route> {
        if let Some(r) = self.http.read().expect("metrics lock").get(route) {
            return r.clone();
        }
        self.http
            .write()
            .expect("metrics lock")
            .entry(Arc::from(route))
            .or_default()
            .clone()
    }

    /// Counts a sign-in attempt.
    pub fn sign_in(&self, flow: SignInFlow, outcome: SignInOutcome) {
        self.sign_ins[flow as usize][outcome as usize].fetch_add(1, Relaxed);
    }

    /// Counts one set of tokens issued.
    pub fn tokens_issued(&self, grant: Grant) {
        self.tokens[grant as usize].fetch_add(1, Relaxed);
    }

    /// Counts a refresh token presented again after rotation (its sign-in is revoked).
    pub fn refresh_reused(&self) {
        self.refresh_reuse.fetch_add(1, Relaxed);
    }

    /// Counts a request a throttle refused.
    pub fn throttled(&self, throttle: Throttle) {
        self.throttled[throttle as usize].fetch_add(1, Relaxed);
    }

    /// Counts a message handed to the mailer, by kind and whether it went out.
    pub fn mail(&self, kind: &'static str, sent: bool) {
        self.mail.bump((kind, if sent { "sent" } else { "failed" }));
    }

    /// Counts one trigger invocation by trigger source and outcome (`ok`, `refused`,
    /// `unreachable`, `invalid_response`), with its duration.
    pub fn trigger_call(&self, source: &str, outcome: &'static str, took: Duration) {
        let trigger = {
            let mut triggers = self.triggers.lock().expect("metrics lock");
            match triggers.get(source) {
                Some(t) => t.clone(),
                None => triggers.entry(source.to_string()).or_default().clone(),
            }
        };
        trigger.outcomes.bump(outcome);
        trigger.seconds.observe(took);
    }

    /// How many invocations of `source` ended in `outcome`.
    pub fn trigger_calls(&self, source: &str, outcome: &str) -> u64 {
        let triggers = self.triggers.lock().expect("metrics lock");
        triggers.get(source).map_or(0, |t| t.outcomes.get(outcome))
    }

    /// Everything, with the gauges read at scrape time, in Prometheus' text format.
    pub fn render(&self, gauges: &Gauges) -> String {
        let mut out = String::with_capacity(16 * 1024);
        self.render_http(&mut out);
        family(
            &mut out,
            "cognate_sign_ins_total",
            "counter",
            "Sign-in attempts by flow and outcome.",
        );
        for flow in SignInFlow::ALL {
            for outcome in SignInOutcome::ALL {
                let n = self.sign_ins[flow as usize][outcome as usize].load(Relaxed);
                let _ = writeln!(
                    out,
                    "cognate_sign_ins_total{{flow=\"{}\",outcome=\"{}\"}} {n}",
                    flow.name(),
                    outcome.name()
                );
            }
        }
        family(
            &mut out,
            "cognate_tokens_issued_total",
            "counter",
            "Token sets issued, by grant.",
        );
        for grant in Grant::ALL {
            let n = self.tokens[grant as usize].load(Relaxed);
            let _ = writeln!(
                out,
                "cognate_tokens_issued_total{{grant=\"{}\"}} {n}",
                grant.name()
            );
        }
        family(
            &mut out,
            "cognate_refresh_token_reuse_total",
            "counter",
            "Rotated refresh tokens presented again (their sign-ins are revoked).",
        );
        let _ = writeln!(
            out,
            "cognate_refresh_token_reuse_total {}",
            self.refresh_reuse.load(Relaxed)
        );
        family(
            &mut out,
            "cognate_throttled_total",
            "counter",
            "Requests refused by a per-user throttle, by throttle.",
        );
        for t in Throttle::ALL {
            let n = self.throttled[t as usize].load(Relaxed);
            let _ = writeln!(
                out,
                "cognate_throttled_total{{throttle=\"{}\"}} {n}",
                t.name()
            );
        }
        self.rate_limited.render(
            &mut out,
            "cognate_rate_limited_total",
            "Requests refused by a per-address rate limit.",
            ["category"],
        );
        self.states_refused.render(
            &mut out,
            "cognate_state_refused_total",
            "Overloaded state parameters refused at authorize.",
            ["reason"],
        );
        self.mail.render(
            &mut out,
            "cognate_mail_messages_total",
            "Messages handed to the mailer, by kind and outcome (sent, failed).",
            ["kind", "outcome"],
        );
        self.render_triggers(&mut out);
        gauges.render(&mut out);
        out
    }

    fn render_triggers(&self, out: &mut String) {
        let triggers = self.triggers.lock().expect("metrics lock");
        let name = "cognate_trigger_invocations_total";
        family(
            out,
            name,
            "counter",
            "Trigger invocations by trigger source and outcome.",
        );
        for (source, t) in triggers.iter() {
            let source = escape(source);
            for (outcome, n) in t.outcomes.0.lock().expect("metrics lock").iter() {
                let _ = writeln!(
                    out,
                    "{name}{{trigger=\"{source}\",outcome=\"{outcome}\"}} {n}"
                );
            }
        }
        let name = "cognate_trigger_duration_seconds";
        family(
            out,
            name,
            "histogram",
            "Trigger invocation time, by trigger source.",
        );
        for (source, t) in triggers.iter() {
            t.seconds
                .render(out, name, &format!("trigger=\"{}\"", escape(source)));
        }
    }

    fn render_http(&self, out: &mut String) {
        // A sorted copy, so requests are not held up while the text is written.
        let routes: BTreeMap<Arc<str>, Arc<Route>> = self
            .http
            .read()
            .expect("metrics lock")
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        family(
            out,
            "cognate_http_requests_total",
            "counter",
            "HTTP requests by route template and status code.",
        );
        for (route, r) in &routes {
            let route = escape(route);
            for (i, n) in r.statuses.iter().enumerate() {
                let n = n.load(Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "cognate_http_requests_total{{route=\"{route}\",status=\"{}\"}} {n}",
                        i + STATUS_MIN
                    );
                }
            }
        }
        family(
            out,
            "cognate_http_request_duration_seconds",
            "histogram",
            "Time to a response's headers, by route template.",
        );
        for (route, r) in &routes {
            let label = format!("route=\"{}\"", escape(route));
            r.seconds
                .render(out, "cognate_http_request_duration_seconds", &label);
        }
    }
}

const STATUS_MIN: usize = 100;
const STATUS_COUNT: usize = 500;

/// One route template's requests.
#[derive(Debug)]
pub struct Route {
    /// By status code, 100 to 599.
    statuses: Box<[AtomicU64; STATUS_COUNT]>,
    seconds: Histogram,
}

impl Default for Route {
    fn default() -> Self {
        Self {
            statuses: Box::new(std::array::from_fn(|_| AtomicU64::new(0))),
            seconds: Histogram::default(),
        }
    }
}

impl Route {
    /// Counts one response.
    pub fn observe(&self, status: u16, took: Duration) {
        let i = usize::from(status)
            .saturating_sub(STATUS_MIN)
            .min(STATUS_COUNT - 1);
        self.statuses[i].fetch_add(1, Relaxed);
        self.seconds.observe(took);
    }
}

/// Bucket bounds in seconds: from a refresh (a millisecond) to a slow trigger.
const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// A latency histogram with fixed buckets; observing is a few atomic adds.
#[derive(Debug, Default)]
pub struct Histogram {
    /// Not cumulative: observations whose smallest bound is this bucket's.
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl Histogram {
    /// Records one duration.
    pub fn observe(&self, took: Duration) {
        let secs = took.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.buckets[i].fetch_add(1, Relaxed);
        }
        self.count.fetch_add(1, Relaxed);
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Relaxed);
    }

    /// The `_bucket`, `_sum` and `_count` lines, with `labels` (`a="b"`, or empty).
    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (bound, n) in BUCKETS.iter().zip(&self.buckets) {
            cumulative += n.load(Relaxed);
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}"
            );
        }
        let count = self.count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}");
        let sum = self.sum_nanos.load(Relaxed) as f64 / 1e9;
        let braces = |s: &str| match s {
            "" => String::new(),
            s => format!("{{{s}}}"),
        };
        let _ = writeln!(out, "{name}_sum{} {sum}", braces(labels));
        let _ = writeln!(out, "{name}_count{} {count}", braces(labels));
    }
}

/// Values read at scrape time from the parts that own them.
#[derive(Debug, Default)]
pub struct Gauges {
    /// The database pool: `sqlite` or `postgres`.
    pub db_backend: &'static str,
    pub db_connections_max: u64,
    pub db_connections_open: u64,
    pub db_connections_idle: u64,
    /// Waits for a pooled connection where the store acquires one itself.
    pub db_acquire: Option<Arc<Histogram>>,
    /// Hashing slots (one per core) and how many are in use and waited for.
    pub hash_slots: u64,
    pub hash_slots_in_use: u64,
    pub hash_waiting: u64,
    /// Auth events dropped because their queue was full (the database too slow).
    pub events_dropped: u64,
}

impl Gauges {
    fn render(&self, out: &mut String) {
        let db = format!("backend=\"{}\"", self.db_backend);
        let gauges: [(&str, &str, u64); 3] = [
            (
                "cognate_db_pool_max_connections",
                "The database pool's largest size.",
                self.db_connections_max,
            ),
            (
                "cognate_db_pool_connections",
                "Connections the database pool holds open.",
                self.db_connections_open,
            ),
            (
                "cognate_db_pool_idle_connections",
                "Open connections no statement is using.",
                self.db_connections_idle,
            ),
        ];
        for (name, help, value) in gauges {
            family(out, name, "gauge", help);
            let _ = writeln!(out, "{name}{{{db}}} {value}");
        }
        family(
            out,
            "cognate_db_pool_acquire_seconds",
            "histogram",
            "Waits for a pooled connection (transactions and token rotation).",
        );
        if let Some(h) = &self.db_acquire {
            h.render(out, "cognate_db_pool_acquire_seconds", &db);
        }
        let gauges: [(&str, &str, u64); 3] = [
            (
                "cognate_password_hash_slots",
                "Password hashes that may run at once (one per core).",
                self.hash_slots,
            ),
            (
                "cognate_password_hash_slots_in_use",
                "Password hashes running now.",
                self.hash_slots_in_use,
            ),
            (
                "cognate_password_hash_waiting",
                "Password hashes waiting for a slot (the argon2 queue).",
                self.hash_waiting,
            ),
        ];
        for (name, help, value) in gauges {
            family(out, name, "gauge", help);
            let _ = writeln!(out, "{name} {value}");
        }
        let name = "cognate_auth_events_dropped_total";
        family(
            out,
            name,
            "counter",
            "Auth events dropped because the queue to the database was full.",
        );
        let _ = writeln!(out, "{name} {}", self.events_dropped);
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A label value as the format wants it (route templates may hold any path byte).
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Rare events counted by one fixed label (a lock is fine off the hot path).
#[derive(Debug, Default)]
struct Labelled(Mutex<BTreeMap<&'static str, u64>>);

impl Labelled {
    fn bump(&self, label: &'static str) {
        *self
            .0
            .lock()
            .expect("metrics lock")
            .entry(label)
            .or_default() += 1;
    }

    fn get(&self, label: &str) -> u64 {
        let counts = self.0.lock().expect("metrics lock");
        counts.get(label).copied().unwrap_or(0)
    }

    fn render(&self, out: &mut String, name: &str, help: &str, [label]: [&str; 1]) {
        family(out, name, "counter", help);
        for (value, n) in self.0.lock().expect("metrics lock").iter() {
            let _ = writeln!(out, "{name}{{{label}=\"{value}\"}} {n}");
        }
    }
}

/// Events counted by two fixed labels.
#[derive(Debug, Default)]
struct Labelled2(Mutex<BTreeMap<(&'static str, &'static str), u64>>);

impl Labelled2 {
    fn bump(&self, labels: (&'static str, &'static str)) {
        *self
            .0
            .lock()
            .expect("metrics lock")
            .entry(labels)
            .or_default() += 1;
    }

    fn render(&self, out: &mut String, name: &str, help: &str, [l1, l2]: [&str; 2]) {
        family(out, name, "counter", help);
        for ((v1, v2), n) in self.0.lock().expect("metrics lock").iter() {
            let _ = writeln!(out, "{name}{{{l1}=\"{v1}\",{l2}=\"{v2}\"}} {n}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_end_with_the_count() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(500));
        h.observe(Duration::from_millis(20));
        h.observe(Duration::from_secs(60));
        let mut out = String::new();
        h.render(&mut out, "x_seconds", "");
        assert!(out.contains("x_seconds_bucket{le=\"0.001\"} 1\n"), "{out}");
        assert!(out.contains("x_seconds_bucket{le=\"0.025\"} 2\n"), "{out}");
        assert!(out.contains("x_seconds_bucket{le=\"30\"} 2\n"), "{out}");
        assert!(out.contains("x_seconds_bucket{le=\"+Inf\"} 3\n"), "{out}");
        assert!(out.contains("x_seconds_count 3\n"), "{out}");
    }
}
