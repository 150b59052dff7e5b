//! The handles the domain works with: the store, the signing keys, the clock, the mailer,
//! outbound HTTP and the public URL. Domain modules and the shared operations take
//! `&Services`, never the surfaces' state nor anything of HTTP requests.

use crate::clock::Clock;
use crate::keys::KeyRing;
use crate::mail::Mailer;
use crate::store::Store;

pub struct Services {
    pub store: Store,
    pub keys: KeyRing,
    pub clock: Clock,
    pub mail: Mailer,
    /// Outbound HTTP (identity providers); never follows redirects.
    pub http: reqwest::Client,
    /// Base URL without a trailing slash; a pool's issuer is `<public_url>/<pool_id>`.
    pub public_url: String,
}

impl Services {
    pub fn new(store: Store, keys: KeyRing, mail: Mailer, public_url: &str) -> Self {
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
            public_url: public_url.to_string(),
        }
    }

    /// A pool's issuer: `<public_url>/<pool_id>`.
    pub fn issuer(&self, pool_id: &str) -> String {
        format!("{}/{pool_id}", self.public_url)
    }
}
