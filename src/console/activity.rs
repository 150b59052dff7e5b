//! A pool's sign-in activity for the console's dashboard (issue 20 item 3): sign-ins,
//! failures and sign-ups per hour over the last 24 hours and per UTC day over the last
//! 30 days, counted from the auth event log and drawn with [`super::chart`].

use crate::store::{AuthEventCount, Store, StoreError};

use super::chart::{Chart, Series, Style};

/// Event kinds counted as sign-ins when they pass and as failures when they fail.
const SIGN_IN_KINDS: [&str; 2] = ["sign_in", "federation_sign_in"];
/// Further kinds counted as failures: a wrong second factor, or a refusal for too many
/// failed attempts.
const FAILURE_KINDS: [&str; 2] = ["mfa_challenge", "throttled"];
const SIGN_UP_KIND: &str = "sign_up";

/// The span a chart covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// 24 hourly buckets, the current hour last.
    Hours24,
    /// 30 daily buckets (UTC days), today last.
    Days30,
}

impl Window {
    /// A bucket's width in seconds.
    pub fn bucket(self) -> i64 {
        match self {
            Window::Hours24 => 3_600,
            Window::Days30 => 86_400,
        }
    }

    /// How many buckets the window has.
    pub fn buckets(self) -> usize {
        match self {
            Window::Hours24 => 24,
            Window::Days30 => 30,
        }
    }

    /// `[from, until)`: the buckets ending with the one holding `now`.
    pub fn range(self, now: i64) -> (i64, i64) {
        let b = self.bucket();
        let until = now.div_euclid(b).saturating_add(1).saturating_mul(b);
        let from = until.saturating_sub(b * self.buckets() as i64);
        (from, until)
    }

    /// A bucket's label from its first second: `14:00` or `Dec 07` (UTC).
    pub fn label(self, start: i64) -> String {
        let Ok(t) = time::OffsetDateTime::from_unix_timestamp(start) else {
            return start.to_string();
        };
        match self {
            Window::Hours24 => format!("{:02}:00", t.hour()),
            Window::Days30 => {
                let month = t.month().to_string();
                format!("{} {:02}", &month[..3], t.day())
            }
        }
    }

    fn title(self) -> &'static str {
        match self {
            Window::Hours24 => "Sign-ins, failures and sign-ups per hour, last 24 hours (UTC)",
            Window::Days30 => "Sign-ins, failures and sign-ups per day, last 30 days (UTC)",
        }
    }

    fn style(self) -> Style {
        match self {
            Window::Hours24 => Style::Bars,
            Window::Days30 => Style::Lines,
        }
    }
}

/// Counts per bucket of one window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub window: Window,
    /// The first bucket's first second.
    pub from: i64,
    pub sign_ins: Vec<u64>,
    pub failures: Vec<u64>,
    pub sign_ups: Vec<u64>,
}

impl Activity {
    /// A pool's activity in the window ending now.
    pub async fn load(
        store: &Store,
        pool_id: &str,
        window: Window,
        now: i64,
    ) -> Result<Activity, StoreError> {
        let (from, until) = window.range(now);
        let counts = store
            .auth_event_counts(pool_id, window.bucket(), from, until)
            .await?;
        Ok(Activity::from_counts(window, now, &counts))
    }

    /// Sorts the counted events into the window's series; buckets without events count
    /// zero, and counts outside the window are ignored.
    pub fn from_counts(window: Window, now: i64, counts: &[AuthEventCount]) -> Activity {
        let (from, _) = window.range(now);
        let n = window.buckets();
        let mut a = Activity {
            window,
            from,
            sign_ins: vec![0; n],
            failures: vec![0; n],
            sign_ups: vec![0; n],
        };
        for c in counts {
            let offset = (c.bucket - from).div_euclid(window.bucket());
            let Some(i) = usize::try_from(offset).ok().filter(|i| *i < n) else {
                continue;
            };
            let pass = c.outcome == "pass";
            let kind = c.kind.as_str();
            let series = if SIGN_IN_KINDS.contains(&kind) {
                Some(if pass {
                    &mut a.sign_ins
                } else {
                    &mut a.failures
                })
            } else if FAILURE_KINDS.contains(&kind) && !pass {
                Some(&mut a.failures)
            } else if kind == SIGN_UP_KIND && pass {
                Some(&mut a.sign_ups)
            } else {
                None
            };
            if let Some(series) = series {
                series[i] = series[i].saturating_add(u64::try_from(c.count).unwrap_or(0));
            }
        }
        a
    }

    /// The window's chart: bars for hours, lines for days.
    pub fn chart(&self) -> Chart {
        let labels = (0..self.window.buckets())
            .map(|i| {
                self.window
                    .label(self.from + self.window.bucket() * i as i64)
            })
            .collect();
        Chart {
            title: self.window.title().to_string(),
            style: self.window.style(),
            labels,
            series: vec![
                Series::new("Sign-ins", self.sign_ins.clone()),
                Series::new("Failures", self.failures.clone()),
                Series::new("Sign-ups", self.sign_ups.clone()),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-07 21:15:14 UTC.
    const NOW: i64 = 1_796_678_114;

    fn count(bucket: i64, kind: &str, outcome: &str, count: i64) -> AuthEventCount {
        AuthEventCount {
            bucket,
            kind: kind.into(),
            outcome: outcome.into(),
            count,
        }
    }

    #[test]
    fn windows_end_with_the_bucket_holding_now() {
        let (from, until) = Window::Hours24.range(NOW);
        assert_eq!(until, 1_796_680_800); // 22:00
        assert_eq!(until - from, 24 * 3_600);
        assert_eq!(Window::Hours24.label(from), "22:00");
        assert_eq!(Window::Hours24.label(until - 3_600), "21:00");
        let (from, until) = Window::Days30.range(NOW);
        assert_eq!(Window::Days30.label(until - 86_400), "Dec 07");
        assert_eq!(Window::Days30.label(from), "Nov 08");
    }

    #[test]
    fn counts_are_sorted_into_sign_ins_failures_and_sign_ups() {
        let (from, _) = Window::Hours24.range(NOW);
        let last = from + 23 * 3_600;
        let a = Activity::from_counts(
            Window::Hours24,
            NOW,
            &[
                count(from, "sign_in", "pass", 4),
                count(from, "federation_sign_in", "pass", 1),
                count(from, "sign_in", "fail", 2),
                count(last, "throttled", "fail", 1),
                count(last, "mfa_challenge", "fail", 1),
                count(last, "mfa_challenge", "pass", 7),
                count(last, "sign_up", "pass", 3),
                count(last, "sign_up", "fail", 9),
                count(last, "token_issued", "pass", 9),
                // Outside the window: ignored.
                count(from - 3_600, "sign_in", "pass", 9),
                count(last + 3_600, "sign_in", "pass", 9),
            ],
        );
        assert_eq!(a.sign_ins[0], 5);
        assert_eq!(a.failures[0], 2);
        assert_eq!(a.failures[23], 2);
        assert_eq!(a.sign_ups[23], 3);
        assert_eq!(a.sign_ins.iter().sum::<u64>(), 5);
        let chart = a.chart();
        assert_eq!(chart.buckets(), 24);
        assert_eq!(chart.labels[0], "22:00");
        assert!(
            chart
                .summary()
                .contains("Sign-ins 5, Failures 4, Sign-ups 3")
        );
    }
}
