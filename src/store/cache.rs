//! What the hot paths read on every request and operators rarely change, kept in
//! memory: app clients (with their sealed secrets) and pools (with their settings).
//! The signing keys (`KeyRing`) and the domains (`Hosts`) keep caches of their own,
//! tied to [`Store::config_epoch`].
//!
//! Correct on several instances: the database holds one number, `config_version`,
//! that triggers raise in the transaction of every change to `user_pools`,
//! `app_clients`, `signing_keys` and `user_pool_domains`, whoever writes (a server, the
//! CLI, `cognate apply`, a hand-written statement). Each instance reads it at most once
//! per check interval (`serve --config-check-ms`, 1 s by default), on the first read
//! that finds the last check too old, and drops everything when it moved. A change
//! committed anywhere is therefore seen by every read that starts one interval after
//! the commit. A store method that writes these tables also drops this instance's
//! caches at once (a transaction's, when it commits), so the instance that made a
//! change reads it back straight away.
//!
//! Every drop raises the local epoch; a value read from the database goes into a cache
//! only if the epoch did not move during the read, so a read that raced a change never
//! leaves the old value behind.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use super::{Db, Store, StoreError, on_db};
use crate::model::clients::AppClient;
use crate::model::pool::Pool;

/// How often an instance reads `config_version` by default: the longest a change made
/// elsewhere stays unseen here.
pub const DEFAULT_CONFIG_CHECK: Duration = Duration::from_millis(1000);

/// Entries a cache holds at most; beyond it, it starts again (unknown ids are not
/// cached, so only real clients and pools fill it).
const MAX_ENTRIES: usize = 10_000;

/// One cache: values by id, shared without copying.
struct Entries<V>(RwLock<HashMap<String, Arc<V>>>);

impl<V> Default for Entries<V> {
    fn default() -> Self {
        Self(RwLock::default())
    }
}

impl<V> Entries<V> {
    fn get(&self, key: &str) -> Option<Arc<V>> {
        self.0.read().expect("cache lock").get(key).cloned()
    }

    fn clear(&self) {
        self.0.write().expect("cache lock").clear();
    }
}

/// The caches of one process, shared by every clone of its [`Store`].
pub(super) struct Caches {
    clients: Entries<AppClient>,
    secrets: Entries<Vec<u8>>,
    pools: Entries<Pool>,
    /// Raised by every drop (see the module comment).
    epoch: AtomicU64,
    /// The `config_version` last read; -1 before the first check.
    seen: AtomicI64,
    /// When the last check started, in nanoseconds since `start`; `u64::MAX` makes the
    /// next read check.
    checked_at: AtomicU64,
    start: Instant,
    /// Milliseconds between checks (`serve --config-check-ms`).
    interval_ms: AtomicU64,
    /// One check at a time: the reads that find it due wait for it rather than serve
    /// what it may be about to drop.
    checking: tokio::sync::Mutex<()>,
    /// When the last check failed (as `checked_at`); 0 if none has.
    failed_at: AtomicU64,
}

impl std::fmt::Debug for Caches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Caches")
    }
}

impl Default for Caches {
    fn default() -> Self {
        Self {
            clients: Entries::default(),
            secrets: Entries::default(),
            pools: Entries::default(),
            epoch: AtomicU64::new(0),
            seen: AtomicI64::new(-1),
            checked_at: AtomicU64::new(u64::MAX),
            start: Instant::now(),
            interval_ms: AtomicU64::new(DEFAULT_CONFIG_CHECK.as_millis() as u64),
            checking: tokio::sync::Mutex::new(()),
            failed_at: AtomicU64::new(0),
        }
    }
}

impl Caches {
    /// Drops every cached value.
    pub(super) fn drop_all(&self) {
        // The epoch first: a read that began before it will not insert after the clear.
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.clients.clear();
        self.secrets.clear();
        self.pools.clear();
    }

    fn now(&self) -> u64 {
        // Never 0, which `failed_at` keeps for "none".
        self.start.elapsed().as_nanos() as u64 + 1
    }

    fn is_due(&self) -> bool {
        let at = self.checked_at.load(Ordering::Acquire);
        let interval = self.interval_ms.load(Ordering::Relaxed) * 1_000_000;
        at == u64::MAX || self.now().saturating_sub(at) >= interval
    }

    /// Reads `config_version` if the last check is older than the interval, and drops
    /// everything if it moved; returns the epoch to read under.
    async fn fresh(&self, db: &Db) -> Result<u64, StoreError> {
        if self.is_due() {
            let waited_from = self.now();
            let _one = self.checking.lock().await;
            // While the database is unreachable, the reads that queued behind a failed
            // check fail at once (503) rather than each wait out its own timeout.
            if self.failed_at.load(Ordering::Acquire) > waited_from {
                return Err(StoreError::Db(sqlx::Error::PoolTimedOut));
            }
            if self.is_due() {
                // The time before the read: what committed before it, the read sees.
                let started = self.now();
                const SQL: &str = "select version from config_version where id = 1";
                let read = on_db!(db => |p| sqlx::query_scalar(SQL).fetch_one(p).await);
                let version: i64 = read.inspect_err(|_| {
                    self.failed_at.store(self.now(), Ordering::Release);
                })?;
                if self.seen.swap(version, Ordering::SeqCst) != version {
                    self.drop_all();
                }
                self.checked_at.store(started, Ordering::Release);
            }
        }
        Ok(self.epoch.load(Ordering::SeqCst))
    }

    /// Keeps `value` under `key` if nothing was dropped since `epoch`.
    fn keep<V>(&self, entries: &Entries<V>, epoch: u64, key: &str, value: Arc<V>) {
        let mut map = entries.0.write().expect("cache lock");
        // Checked under the map's lock, which `drop_all` takes after raising the epoch.
        if self.epoch.load(Ordering::SeqCst) != epoch {
            return;
        }
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key.to_string(), value);
    }
}

impl Store {
    /// Sets how often this instance reads `config_version` (`serve --config-check-ms`);
    /// zero checks before every cached read.
    pub fn set_config_check(&self, interval: Duration) {
        self.caches
            .interval_ms
            .store(interval.as_millis() as u64, Ordering::Relaxed);
    }

    /// The number that changes whenever this instance's cached view of pools, clients,
    /// signing keys and domains must be read again (checking `config_version` first if
    /// the check is due): a cache elsewhere keeps what it read under one epoch for as
    /// long as the epoch stays the same.
    pub async fn config_epoch(&self) -> Result<u64, StoreError> {
        self.caches.fresh(&self.db).await
    }

    /// Drops this instance's caches after a change to pools, clients, keys or domains;
    /// in a transaction's store, at its commit.
    pub(super) fn config_changed(&self) {
        if self.tx.is_none() {
            self.caches.drop_all();
        }
    }

    /// `load`'s value for `key`, from the cache `which` when the caches are fresh.
    /// Statements of a transaction neither read nor fill caches: they may see changes
    /// that are not committed yet.
    async fn cached<V>(
        &self,
        which: fn(&Caches) -> &Entries<V>,
        key: &str,
        load: impl Future<Output = Result<Option<V>, StoreError>>,
    ) -> Result<Option<Arc<V>>, StoreError> {
        if self.tx.is_some() {
            return Ok(load.await?.map(Arc::new));
        }
        let epoch = self.config_epoch().await?;
        let entries = which(&self.caches);
        if let Some(hit) = entries.get(key) {
            return Ok(Some(hit));
        }
        let found = load.await?.map(Arc::new);
        if let Some(value) = &found {
            self.caches.keep(entries, epoch, key, value.clone());
        }
        Ok(found)
    }

    /// A client by id, shared (see [`Store::client_anywhere`]).
    pub async fn client_cached(
        &self,
        client_id: &str,
    ) -> Result<Option<Arc<AppClient>>, StoreError> {
        self.cached(|c| &c.clients, client_id, self.client_row(client_id))
            .await
    }

    /// A client's sealed secret, shared (see [`Store::client_secret_sealed`]).
    pub async fn client_secret_cached(
        &self,
        client_id: &str,
    ) -> Result<Option<Arc<Vec<u8>>>, StoreError> {
        self.cached(|c| &c.secrets, client_id, self.client_secret_row(client_id))
            .await
    }

    /// A pool, shared (see [`Store::pool_by_id`]).
    pub async fn pool_cached(&self, pool_id: &str) -> Result<Option<Arc<Pool>>, StoreError> {
        self.cached(|c| &c.pools, pool_id, self.pool_row(pool_id))
            .await
    }
}
