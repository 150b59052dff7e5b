//! The handles the domain works with: the store, the signing keys, the clock, the mailer,
//! outbound HTTP, the public URL and the pools' host names. Domain modules and the
//! shared operations take `&Services`, never the surfaces' state nor anything of HTTP
//! requests.

use crate::clock::Clock;
use crate::events::{Event, EventSink};
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
    /// What trigger invocations go through.
    pub triggers: TriggerRuntime,
    /// Where auth events are queued for the background writer.
    pub events: EventSink,
    /// The process's counters for `/metrics`, shared by every handle (transactions'
    /// too).
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
}

/// The trigger invocations' shared client and where Lambda ARNs are invoked.
pub struct TriggerRuntime {
    /// The client Lambda invocations go through (connections reused; 5-second limit).
    pub http: reqwest::Client,
    /// The client webhooks go through: only to addresses checked when resolved
    /// (security matrix WH-03).
    pub webhook_http: reqwest::Client,
    /// The Lambda Invoke API's base URL (`--lambda-endpoint`), e.g. a local
    /// `sam local start-lambda` or one of the runners in `tools/`.
    pub lambda_endpoint: Option<String>,
    /// Development flag: let webhooks reach loopback and private addresses.
    pub allow_private: bool,
    /// Signs Lambda invocations when set.
    pub aws_credentials: Option<crate::config::AwsCredentials>,
}

impl TriggerRuntime {
    /// A runtime with the options of `serve` (`--lambda-endpoint`,
    /// `--trigger-allow-private`).
    pub fn new(options: &crate::config::TriggerOptions) -> Self {
        Self {
            http: crate::net_guard::lambda_client(),
            webhook_http: crate::net_guard::webhook_client(options.allow_private),
            lambda_endpoint: options
                .lambda_endpoint
                .as_deref()
                .map(|e| e.trim_end_matches('/').to_string()),
            allow_private: options.allow_private,
            aws_credentials: options.aws_credentials.clone(),
        }
    }
}

impl Services {
    /// Services over `store`, with an event writer of their own.
    pub fn new(store: Store, keys: KeyRing, mail: Mailer, hosts: Hosts) -> Self {
        let events = EventSink::start(&store);
        Self::with_events(store, keys, mail, hosts, events)
    }

    fn with_events(
        store: Store,
        keys: KeyRing,
        mail: Mailer,
        hosts: Hosts,
        events: EventSink,
    ) -> Self {
        Self {
            events,
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
            triggers: TriggerRuntime::new(&crate::config::TriggerOptions::from_env()),
            metrics: Default::default(),
        }
    }

    /// The same services over `store` (a transaction's, from [`Store::begin`]), with
    /// empty caches so nothing read inside the transaction outlives a rollback; mail
    /// goes to the outbox, in the transaction too. Events go to the same queue as
    /// this one's (they record attempts, which happened even if the transaction rolls
    /// back), and counters to the same metrics.
    pub fn with_store(&self, store: Store) -> Self {
        Self {
            metrics: self.metrics.clone(),
            ..Self::with_events(
                store,
                self.keys.with_empty_cache(),
                Mailer::Outbox,
                self.hosts.with_empty_cache(),
                self.events.clone(),
            )
        }
    }

    /// Records an auth event now, in the current request's context.
    pub fn record(&self, event: Event) {
        self.events.record(event, self.clock.now());
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
