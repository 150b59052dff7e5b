//! The handles the domain works with: the store, the signing keys, the clock, the mailer,
//! outbound HTTP, the public URL and the pools' host names. Domain modules and the
//! shared operations take `&Services`, never the surfaces' state nor anything of HTTP
//! requests.

use crate::clock::Clock;
use crate::hosts::Hosts;
use crate::keys::KeyRing;
use crate::mail::Mailer;
use crate::store::{Store, StoreError};

pub struct Services {
    pub store: Store,
    pub keys: KeyRing,
    pub clock: Clock,
    pub mail: Mailer,
    /// Outbound HTTP (identity providers); never follows redirects.
    pub http: reqwest::Client,
    /// Base URL without a trailing slash; every pool's routes are under
    /// `<public_url>/<pool_id>`.
    pub public_url: String,
    /// The pools' domains (host names) and the issuer rule.
    pub hosts: Hosts,
}

impl Services {
    pub fn new(store: Store, keys: KeyRing, mail: Mailer, hosts: Hosts) -> Self {
        Self {
            store,
            keys,
            clock: Clock::default(),
            mail,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .expect("a TLS backend is compiled in"),
            public_url: hosts.public_url().to_string(),
            hosts,
        }
    }

    /// A pool's issuer, by the rule in [`crate::hosts`]: Cognito's when the operator
    /// opted in, else the pool's domain, else `<public_url>/<pool_id>`.
    pub async fn issuer(&self, pool_id: &str) -> Result<String, StoreError> {
        let domains = self.hosts.domains(&self.store, pool_id).await?;
        Ok(self.hosts.issuer(pool_id, &domains))
    }

    /// Every issuer a token of the pool may name (the pool's issuer, its path form and
    /// its domains), for verifying the pool's own tokens.
    pub async fn accepted_issuers(&self, pool_id: &str) -> Result<Vec<String>, StoreError> {
        let domains = self.hosts.domains(&self.store, pool_id).await?;
        Ok(self.hosts.accepted_issuers(pool_id, &domains))
    }

    /// The pool an issuer names, if it has one of the forms the pools' issuers take (a
    /// candidate id: verify the token against [`Services::accepted_issuers`]).
    pub async fn pool_of_issuer(&self, issuer: &str) -> Result<Option<String>, StoreError> {
        self.hosts.pool_of_issuer(&self.store, issuer).await
    }
}
