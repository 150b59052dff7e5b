//! Shared state handed to every handler. Whatever two instances must agree on lives in
//! the database, so this holds only handles and caches.

use std::ops::Deref;
use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Config;
use crate::mail::Mailer;
use crate::metrics::Metrics;
use crate::store::Store;
use crate::keys::KeyRing;

/// Cheap to clone; derefs to [`Inner`].
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub store: Store,
    pub keys: KeyRing,
    pub clock: Clock,
    pub metrics: Metrics,
    pub mail: Mailer,
    /// Outbound HTTP (identity providers); never follows redirects.
    pub http: reqwest::Client,
    /// Verifies the Cognito API's signed requests.
    pub api_auth: crate::cognito_api::sigv4::Verifier,
    /// Request-rate limits per client address.
    pub limiter: crate::rate_limit::Limiter,
}

impl AppState {
    /// State whose messages go to the outbox.
    pub fn new(config: Config, store: Store, keys: KeyRing) -> Self {
        Self::with_mailer(config, store, keys, Mailer::Outbox)
    }

    /// State that delivers messages through `mail`.
    pub fn with_mailer(config: Config, store: Store, keys: KeyRing, mail: Mailer) -> Self {
        Self(Arc::new(Inner {
            api_auth: crate::cognito_api::sigv4::Verifier::new(config.api_keys.clone()),
            limiter: crate::rate_limit::Limiter::new(&config.rate_limits),
            config,
            store,
            keys,
            clock: Clock::default(),
            metrics: Metrics::default(),
            mail,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .expect("a TLS backend is compiled in"),
        }))
    }
}

impl Inner {
    /// A pool's issuer: `<public_url>/<pool_id>`.
    pub fn issuer(&self, pool_id: &str) -> String {
        format!("{}/{pool_id}", self.config.public_url)
    }
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
