//! Shared state handed to every handler: the domain's [`Services`] (which it derefs to)
//! and what only the surfaces need. Whatever two instances must agree on lives in the
//! database, so this holds only handles and caches.

use std::ops::Deref;
use std::sync::Arc;

use crate::config::Config;
use crate::keys::KeyRing;
use crate::mail::Mailer;
use crate::services::Services;
use crate::store::Store;

/// Cheap to clone; derefs to [`Inner`].
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub services: Services,
    pub config: Config,
    /// Verifies the Cognito API's signed requests.
    pub api_auth: crate::sigv4::Verifier,
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
        let mut services = Services::new(
            store,
            keys,
            mail,
            crate::hosts::Hosts::new(
                &config.public_url,
                config.domain_base.as_deref(),
                config.cognito_issuer,
            ),
        );
        services.triggers = crate::services::TriggerRuntime::new(&config.triggers);
        Self(Arc::new(Inner {
            api_auth: crate::sigv4::Verifier::new(config.api_keys.clone()),
            limiter: crate::rate_limit::Limiter::new(&config.rate_limits),
            services,
            config,
        }))
    }
}

impl Deref for Inner {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.services
    }
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
