//! Request-rate limits per client address, by category: the token endpoint, the
//! hosted pages' form posts, and the Cognito JSON API. Each is a GCRA bucket (a
//! sustained rate plus a burst) kept in memory by `governor`, so a limit applies per
//! instance: N instances admit up to N times the rate. Guessing passwords is limited
//! separately and across instances by `throttle`, which counts failures in the
//! database; these limits only stop floods.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// What a limit applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    /// `/oauth2/token` and `/oauth2/revoke`.
    Token,
    /// Every POST of the hosted pages (sign-in, sign-up, codes, password reset).
    Form,
    /// The Cognito JSON API (`POST /`), signed or not.
    Api,
}

impl Category {
    pub const ALL: [Category; 3] = [Category::Token, Category::Form, Category::Api];

    pub fn name(self) -> &'static str {
        match self {
            Category::Token => "token",
            Category::Form => "form",
            Category::Api => "api",
        }
    }
}

/// A sustained rate (requests per second) and the burst allowed above it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub per_second: u32,
    pub burst: u32,
}

/// The limit of each category; `None` turns a category's limit off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimits {
    pub token: Option<Limit>,
    pub form: Option<Limit>,
    pub api: Option<Limit>,
}

impl Default for RateLimits {
    /// Generous for one client, tight for a flood from one address. Cognito's own
    /// quotas are per account (e.g. 120 sign-ins per second), not per address.
    fn default() -> Self {
        Self {
            token: Some(Limit {
                per_second: 50,
                burst: 200,
            }),
            form: Some(Limit {
                per_second: 5,
                burst: 60,
            }),
            api: Some(Limit {
                per_second: 25,
                burst: 200,
            }),
        }
    }
}

impl RateLimits {
    /// No limits (benchmarks, and test suites that are one client sending many requests).
    pub const OFF: RateLimits = RateLimits {
        token: None,
        form: None,
        api: None,
    };

    pub fn get(&self, category: Category) -> Option<Limit> {
        match category {
            Category::Token => self.token,
            Category::Form => self.form,
            Category::Api => self.api,
        }
    }

    fn slot(&mut self, category: Category) -> &mut Option<Limit> {
        match category {
            Category::Token => &mut self.token,
            Category::Form => &mut self.form,
            Category::Api => &mut self.api,
        }
    }
}

/// `off`, or a comma-separated list of `category=RATE/BURST` or `category=off`
/// changing the defaults, e.g. `token=100/400,form=off`.
impl FromStr for RateLimits {
    type Err = String;

    fn from_str(spec: &str) -> Result<Self, String> {
        let spec = spec.trim();
        if spec == "off" {
            return Ok(Self::OFF);
        }
        let mut limits = Self::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?}: expected category=RATE/BURST or category=off"))?;
            let category = Category::ALL
                .into_iter()
                .find(|c| c.name() == name.trim())
                .ok_or_else(|| format!("unknown category {name:?} (token, form or api)"))?;
            *limits.slot(category) = match value.trim() {
                "off" => None,
                value => {
                    let (rate, burst) = value
                        .split_once('/')
                        .ok_or_else(|| format!("{part:?}: expected RATE/BURST"))?;
                    let number = |s: &str| match s.trim().parse::<u32>() {
                        Ok(n) if n > 0 => Ok(n),
                        _ => Err(format!("{part:?}: rates and bursts are positive integers")),
                    };
                    Some(Limit {
                        per_second: number(rate)?,
                        burst: number(burst)?,
                    })
                }
            };
        }
        Ok(limits)
    }
}

/// The buckets of every category, keyed by client address.
pub struct Limiter {
    buckets: Vec<(Category, DefaultKeyedRateLimiter<IpAddr>)>,
}

impl Limiter {
    pub fn new(limits: &RateLimits) -> Self {
        let buckets = Category::ALL
            .into_iter()
            .filter_map(|c| {
                let limit = limits.get(c)?;
                let quota = Quota::per_second(NonZeroU32::new(limit.per_second)?)
                    .allow_burst(NonZeroU32::new(limit.burst)?);
                Some((c, RateLimiter::keyed(quota)))
            })
            .collect();
        Self { buckets }
    }

    /// Takes one request from `addr`'s bucket; `Err` holds the seconds to wait.
    pub fn check(&self, category: Category, addr: Option<IpAddr>) -> Result<(), u64> {
        let (Some(addr), Some((_, bucket))) =
            (addr, self.buckets.iter().find(|(c, _)| *c == category))
        else {
            return Ok(());
        };
        bucket.check_key(&addr).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            // Round up: a client that waits the advertised time must get through.
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0 || wait == Duration::ZERO)
        })
    }

    /// Forgets addresses whose buckets are full again, bounding memory.
    pub fn forget_idle(&self) {
        for (_, bucket) in &self.buckets {
            bucket.retain_recent();
            bucket.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_change_the_defaults_or_turn_limits_off() {
        assert_eq!("off".parse::<RateLimits>().unwrap(), RateLimits::OFF);
        let limits: RateLimits = "token=100/400, form=off".parse().unwrap();
        assert_eq!(
            limits.token,
            Some(Limit {
                per_second: 100,
                burst: 400
            })
        );
        assert_eq!(limits.form, None);
        assert_eq!(limits.api, RateLimits::default().api);
        for bad in ["token", "token=1", "token=0/5", "bogus=1/1", "api=x/2"] {
            assert!(bad.parse::<RateLimits>().is_err(), "{bad}");
        }
    }

    // Matrix: RL-01
    #[test]
    fn a_burst_is_admitted_then_refused_with_a_wait_per_address() {
        let limits: RateLimits = "token=1/3".parse().unwrap();
        let limiter = Limiter::new(&limits);
        let a = Some("192.0.2.1".parse().unwrap());
        let b = Some("192.0.2.2".parse().unwrap());
        for _ in 0..3 {
            assert_eq!(limiter.check(Category::Token, a), Ok(()));
        }
        let wait = limiter.check(Category::Token, a).unwrap_err();
        assert!((1..=2).contains(&wait), "{wait}");
        // Another address has its own bucket; an unknown address is not limited here.
        assert_eq!(limiter.check(Category::Token, b), Ok(()));
        assert_eq!(limiter.check(Category::Token, None), Ok(()));
    }
}
