//! Signing keys per pool. The private key is generated with `rsa`, stored as PKCS#8
//! sealed with the master key, and parsed once into an aws-lc-rs key pair kept in
//! memory: re-parsing a PEM per token (as `jsonwebtoken::encode` does) costs 2.6×.
//! Every key of a pool is published in its JWKS; the newest signs.
//!
//! Rotation (`cognate pool rotate-keys`) adds a key, which signs from then on, and
//! deletes keys superseded longer ago than the longest token lifetime. Each instance
//! caches a pool's keys under the store's config epoch ([`Store::config_epoch`]), which
//! moves when any writer changes a key (at once on the instance that rotated, within
//! `--config-check-ms` elsewhere), and for at most `--key-cache-seconds` (60 by default)
//! in any case; it also reloads at once when a token names a kid it does not know. So
//! every instance signs with the new key within the check interval, and tokens of the
//! new key verify everywhere immediately.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use aws_lc_rs::signature::RsaKeyPair;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::DecodingKey;
use rsa::pkcs8::EncodePrivateKey;
use rsa::traits::PublicKeyParts;

use crate::crypto::{MasterKey, random_token};
use crate::store::{Store, StoredKey};

/// Whether `kid` could name a key cognate made (a short base64url id): only such a kid
/// is worth reloading the pool's keys for, so a crafted one costs no database work.
pub fn is_plausible_kid(kid: &str) -> bool {
    (1..=64).contains(&kid.len())
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The keys of one pool, ready to sign and verify.
pub struct PoolKeys {
    pub(super) kid: String,
    pub(super) pair: RsaKeyPair,
    /// The JWT header `{"kid":…,"alg":"RS256"}`, base64url, computed once.
    pub(super) header_b64: String,
    pub(super) verifiers: HashMap<String, DecodingKey>,
    /// The JWKS document, serialised once.
    pub jwks: Published,
    /// The discovery documents, each serialised at its first request, by issuer and
    /// endpoint base (a pool reached through a domain publishes endpoints there).
    discovery: RwLock<HashMap<String, Arc<Published>>>,
}

/// Endpoint bases a pool has at most (the path form, a prefix and a custom domain,
/// each under the issuers it had within one key load): beyond it the cache restarts.
const MAX_DISCOVERY_DOCUMENTS: usize = 16;

impl PoolKeys {
    /// The discovery document for `key` (its issuer and base), made by `make` the first
    /// time.
    pub fn discovery(&self, key: &str, make: impl FnOnce() -> String) -> Arc<Published> {
        if let Some(doc) = self.discovery.read().expect("discovery lock").get(key) {
            return doc.clone();
        }
        let doc = Arc::new(Published::new(make()));
        let mut docs = self.discovery.write().expect("discovery lock");
        if docs.len() >= MAX_DISCOVERY_DOCUMENTS {
            docs.clear();
        }
        docs.insert(key.to_string(), doc.clone());
        doc
    }
}

/// A public JSON document serialised once, with its entity tag (`ETag`), so requests
/// cost neither serialisation nor, with `If-None-Match`, the body.
pub struct Published {
    pub body: axum::body::Bytes,
    pub etag: axum::http::HeaderValue,
}

impl Published {
    pub fn new(body: String) -> Self {
        let digest = crate::crypto::sha256_hex(&body);
        let etag = axum::http::HeaderValue::from_str(&format!("\"{}\"", &digest[..32]))
            .expect("hex is a valid header value");
        Self {
            body: body.into(),
            etag,
        }
    }
}

/// A fresh pool key set built as a pool's is (for `cognate bench-bound`).
pub fn bench_keys() -> anyhow::Result<PoolKeys> {
    let master = MasterKey::from_base64(&MasterKey::generate_base64())?;
    let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)?;
    let der = private.to_pkcs8_der().context("encode PKCS#8")?;
    let kid = random_token(16);
    let stored = StoredKey {
        private_enc: master.seal(&kid, der.as_bytes()),
        jwk_n: URL_SAFE_NO_PAD.encode(private.n().to_bytes_be()),
        jwk_e: URL_SAFE_NO_PAD.encode(private.e().to_bytes_be()),
        kid,
        pool_id: "bench".into(),
        created_at: 0,
    };
    KeyRing::new(master).build(&[stored])
}

/// How long an instance keeps a pool's keys before reading them again, by default.
pub const DEFAULT_KEY_CACHE_SECONDS: u64 = 60;

/// A token naming an unknown kid reloads the pool's keys at most this often, so junk
/// tokens cannot turn into one database query each.
const UNKNOWN_KID_RELOAD: Duration = Duration::from_secs(1);

/// A key superseded longer ago than this is deleted at the next rotation: the longest
/// ID/access token lifetime (one day), plus the key cache TTL in which other instances
/// may still sign with it.
pub const DEFAULT_RETIRE_AFTER_SECONDS: i64 = 86400 + DEFAULT_KEY_CACHE_SECONDS as i64;

struct Cached {
    keys: Arc<PoolKeys>,
    loaded: Instant,
    /// The store's config epoch the keys were read under.
    epoch: u64,
}

/// All pools' keys, loaded lazily from the store and cached for a bounded time.
pub struct KeyRing {
    master: Arc<MasterKey>,
    pools: RwLock<HashMap<String, Cached>>,
    ttl_seconds: AtomicU64,
}

/// The outcome of a rotation.
#[derive(Debug, serde::Serialize)]
pub struct Rotation {
    pub pool_id: String,
    /// The key that signs from now on.
    pub kid: String,
    /// Every key still published (and verifying), newest first.
    pub published: Vec<String>,
    /// Keys deleted because they were superseded long enough ago.
    pub retired: Vec<String>,
}

impl KeyRing {
    pub fn new(master: MasterKey) -> Self {
        Self {
            master: Arc::new(master),
            pools: RwLock::default(),
            ttl_seconds: AtomicU64::new(DEFAULT_KEY_CACHE_SECONDS),
        }
    }

    /// A ring with the same master key and an empty cache (for a transaction's
    /// services, whose keys must not outlive a rollback).
    pub fn with_empty_cache(&self) -> Self {
        Self {
            master: self.master.clone(),
            pools: RwLock::default(),
            ttl_seconds: AtomicU64::new(self.ttl_seconds.load(Ordering::Relaxed)),
        }
    }

    /// Sets how long a pool's keys are cached (`serve --key-cache-seconds`).
    pub fn set_cache_ttl(&self, seconds: u64) {
        self.ttl_seconds.store(seconds, Ordering::Relaxed);
    }

    fn ttl(&self) -> Duration {
        Duration::from_secs(self.ttl_seconds.load(Ordering::Relaxed))
    }

    /// The master key, for other secrets sealed at rest.
    pub fn master(&self) -> &MasterKey {
        &self.master
    }

    /// The keyed digests under which secrets are stored (session ids, codes, handles,
    /// refresh tokens).
    pub fn digests(&self) -> &crate::crypto::Digests {
        self.master.digests()
    }

    /// Generates a new signing key for `pool_id` and stores it; it signs from the next
    /// load on, while older keys stay published for verification.
    pub async fn generate(&self, store: &Store, pool_id: &str, now: i64) -> anyhow::Result<String> {
        let private =
            tokio::task::spawn_blocking(|| rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048))
                .await?
                .context("generate RSA key")?;
        let der = private.to_pkcs8_der().context("encode PKCS#8")?;
        let kid = random_token(16);
        // The newest key signs: a rotation within the second of the last key must
        // still sort after it.
        let newest = store
            .signing_keys(pool_id)
            .await?
            .first()
            .map(|k| k.created_at);
        let now = newest.map_or(now, |t| now.max(t + 1));
        let key = StoredKey {
            private_enc: self.master.seal(&kid, der.as_bytes()),
            jwk_n: URL_SAFE_NO_PAD.encode(private.n().to_bytes_be()),
            jwk_e: URL_SAFE_NO_PAD.encode(private.e().to_bytes_be()),
            kid,
            pool_id: pool_id.to_string(),
            created_at: now,
        };
        store
            .insert_signing_key(&key)
            .await
            .context("store signing key")?;
        Ok(key.kid)
    }

    /// Rotates a pool's signing key: a new key signs from now on (on other instances
    /// within the config check interval), older keys stay published, and keys superseded more than
    /// `retire_after` seconds ago are deleted. `None` for an unknown pool.
    pub async fn rotate(
        &self,
        store: &Store,
        pool_id: &str,
        now: i64,
        retire_after: i64,
    ) -> anyhow::Result<Option<Rotation>> {
        // Until their cache expires, other instances sign with the key they hold: one
        // deleted sooner would sign tokens that no instance can verify any more.
        let ttl = self.ttl_seconds.load(std::sync::atomic::Ordering::Relaxed);
        if retire_after < i64::try_from(ttl).unwrap_or(i64::MAX) {
            anyhow::bail!(
                "--retire-after {retire_after} is shorter than the key cache ({ttl} s, \
                 --key-cache-seconds): instances could still sign with a key retired that soon"
            );
        }
        if store.signing_keys(pool_id).await?.is_empty() {
            return Ok(None);
        }
        let kid = self.generate(store, pool_id, now).await?;
        let retired = store
            .retire_signing_keys(pool_id, now - retire_after)
            .await?;
        let published = store
            .signing_keys(pool_id)
            .await?
            .into_iter()
            .map(|k| k.kid)
            .collect();
        tracing::info!(pool_id = %pool_id, kid = %kid, retired = retired.len(), "signing key rotated");
        Ok(Some(Rotation {
            pool_id: pool_id.to_string(),
            kid,
            published,
            retired,
        }))
    }

    /// The keys of `pool_id`, from the cache or the store; `None` for a pool without
    /// keys, which is a pool that does not exist (keys are made with the pool).
    pub async fn pool(
        &self,
        store: &Store,
        pool_id: &str,
    ) -> anyhow::Result<Option<Arc<PoolKeys>>> {
        let epoch = store
            .config_epoch()
            .await
            .context("check the signing keys' version")?;
        if let Some(c) = self.pools.read().expect("key cache lock").get(pool_id)
            && c.epoch == epoch
            && c.loaded.elapsed() < self.ttl()
        {
            return Ok(Some(c.keys.clone()));
        }
        self.load(store, pool_id, epoch).await
    }

    /// The keys of `pool_id` for verifying a token signed with `kid`: reloaded from the
    /// store when the cached set lacks that kid (another instance rotated), at most
    /// once a second.
    pub async fn pool_for_kid(
        &self,
        store: &Store,
        pool_id: &str,
        kid: &str,
    ) -> anyhow::Result<Option<Arc<PoolKeys>>> {
        let Some(keys) = self.pool(store, pool_id).await? else {
            return Ok(None);
        };
        let stale = self
            .pools
            .read()
            .expect("key cache lock")
            .get(pool_id)
            .is_none_or(|c| c.loaded.elapsed() >= UNKNOWN_KID_RELOAD);
        if keys.verifiers.contains_key(kid) || !stale || !is_plausible_kid(kid) {
            return Ok(Some(keys));
        }
        let epoch = store.config_epoch().await?;
        self.load(store, pool_id, epoch).await
    }

    /// Reads a pool's keys and keeps them under `epoch`, read before them: a change
    /// that raced the read moved the epoch, and the next use reads again.
    async fn load(
        &self,
        store: &Store,
        pool_id: &str,
        epoch: u64,
    ) -> anyhow::Result<Option<Arc<PoolKeys>>> {
        let stored = store
            .signing_keys(pool_id)
            .await
            .context("load signing keys")?;
        if stored.is_empty() {
            return Ok(None);
        }
        let keys = Arc::new(self.build(&stored)?);
        self.pools.write().expect("key cache lock").insert(
            pool_id.to_string(),
            Cached {
                keys: keys.clone(),
                loaded: Instant::now(),
                epoch,
            },
        );
        Ok(Some(keys))
    }

    fn build(&self, stored: &[StoredKey]) -> anyhow::Result<PoolKeys> {
        let newest = stored.first().context("pool has no signing key")?;
        let der = self
            .master
            .open(&newest.kid, &newest.private_enc)
            .context("unseal signing key (is this the right master key?)")?;
        let pair =
            RsaKeyPair::from_pkcs8(&der).map_err(|e| anyhow::anyhow!("parse signing key: {e}"))?;
        let header = serde_json::json!({ "kid": newest.kid, "alg": "RS256" });
        let mut verifiers = HashMap::new();
        let mut jwks = Vec::new();
        for k in stored {
            verifiers.insert(
                k.kid.clone(),
                DecodingKey::from_rsa_components(&k.jwk_n, &k.jwk_e).context("JWK components")?,
            );
            jwks.push(serde_json::json!({
                "alg": "RS256", "e": k.jwk_e, "kid": k.kid, "kty": "RSA", "n": k.jwk_n, "use": "sig"
            }));
        }
        Ok(PoolKeys {
            kid: newest.kid.clone(),
            pair,
            header_b64: URL_SAFE_NO_PAD.encode(header.to_string()),
            verifiers,
            jwks: Published::new(serde_json::json!({ "keys": jwks }).to_string()),
            discovery: RwLock::default(),
        })
    }
}
