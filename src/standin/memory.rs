//! What the stand-ins remember between requests: authorization codes (single use,
//! 5 minutes) and access tokens (1 hour). In memory on purpose: a development stand-in
//! runs in one process and may forget everything on restart.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use super::Provider;
use super::identities::Identity;
use super::quirks::Quirk;
use crate::crypto::random_token;

/// How long an authorization code can be redeemed (Google's codes last minutes).
const CODE_TTL: i64 = 5 * 60;
/// How long an access token is accepted, unless the provider says otherwise.
pub(super) const TOKEN_TTL: i64 = 60 * 60;

/// Seconds since the Unix epoch.
pub(super) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A consent given at `…/decide`, waiting for its code to be redeemed.
pub(super) struct Grant {
    pub provider: Provider,
    pub client_id: String,
    pub redirect_uri: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub scope: String,
    pub identity: &'static Identity,
    pub quirk: Option<Quirk>,
}

/// What an access token stands for.
#[derive(Clone)]
pub(super) struct Issued {
    pub provider: Provider,
    pub identity: &'static Identity,
    pub scope: String,
    pub quirk: Option<Quirk>,
}

impl Issued {
    /// The subject, scope and quirk of the grant the token was bought with.
    pub fn from_grant(grant: &Grant) -> Self {
        Self {
            provider: grant.provider,
            identity: grant.identity,
            scope: grant.scope.clone(),
            quirk: grant.quirk,
        }
    }

    /// Whether the token was granted `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        has_scope(&self.scope, scope)
    }

    /// The email a profile may show: the identity has one and the `no_email` quirk
    /// was not asked for.
    pub fn email(&self) -> Option<&'static str> {
        self.identity
            .email
            .filter(|_| self.quirk != Some(Quirk::NoEmail))
    }
}

/// Whether `scopes` grants `scope`; space-separated (RFC 6749 §3.3) or
/// comma-separated (Facebook).
pub(super) fn has_scope(scopes: &str, scope: &str) -> bool {
    scopes
        .split(|c: char| c == ',' || c.is_whitespace())
        .any(|s| s == scope)
}

/// Values under random keys, each with an expiry time.
struct Expiring<T>(Mutex<HashMap<String, (i64, T)>>);

impl<T> Default for Expiring<T> {
    fn default() -> Self {
        Self(Mutex::default())
    }
}

impl<T> Expiring<T> {
    // A poisoned lock only means a request panicked elsewhere; each critical section
    // here is one map operation, so the map is still consistent.
    fn map(&self) -> MutexGuard<'_, HashMap<String, (i64, T)>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores `value` for `ttl` seconds under `prefix` and a random key. Expired entries
    /// are dropped here so the map cannot grow without bound.
    fn insert(&self, prefix: &str, value: T, ttl: i64) -> String {
        let now = now();
        let key = format!("{prefix}{}", random_token(32));
        let mut map = self.map();
        map.retain(|_, (expires_at, _)| *expires_at > now);
        map.insert(key.clone(), (now + ttl, value));
        key
    }

    fn take(&self, key: &str) -> Option<T> {
        let (expires_at, value) = self.map().remove(key)?;
        (expires_at > now()).then_some(value)
    }

    fn get(&self, key: &str) -> Option<T>
    where
        T: Clone,
    {
        let (expires_at, value) = self.map().get(key).cloned()?;
        (expires_at > now()).then_some(value)
    }
}

/// Codes and tokens, each map behind its own lock.
#[derive(Default)]
pub(super) struct Memory {
    grants: Expiring<Grant>,
    tokens: Expiring<Issued>,
    /// The (client id, identity) pairs that have authorized once (Apple tells a client
    /// the name only the first time).
    authorized: Mutex<HashSet<(String, &'static str)>>,
}

impl Memory {
    /// Stores `grant` under a new random code, and returns the code.
    pub fn insert_grant(&self, grant: Grant) -> String {
        self.grants.insert("", grant, CODE_TTL)
    }

    /// Removes and returns the grant of `code`: a code is consumed by its first
    /// redemption attempt, successful or not, which also stops a PKCE verifier from
    /// being guessed over many tries.
    pub fn take_grant(&self, code: &str) -> Option<Grant> {
        self.grants.take(code)
    }

    /// Stores `issued` for `ttl` seconds under a new access token starting with
    /// `prefix`, and returns the token.
    pub fn insert_token(&self, prefix: &str, issued: Issued, ttl: i64) -> String {
        self.tokens.insert(prefix, issued, ttl)
    }

    /// Records that `identity` authorized `client_id`; true the first time.
    pub fn first_authorization(&self, client_id: &str, identity: &'static Identity) -> bool {
        self.authorized
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((client_id.to_string(), identity.key))
    }

    /// What a live access token of `provider` stands for.
    pub fn token(&self, provider: Provider, token: &str) -> Option<Issued> {
        self.tokens.get(token).filter(|t| t.provider == provider)
    }
}
