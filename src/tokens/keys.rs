//! Signing keys per pool. The private key is generated with `rsa`, stored as PKCS#8
//! sealed with the master key, and parsed once into an aws-lc-rs key pair kept in
//! memory: re-parsing a PEM per token (as `jsonwebtoken::encode` does) costs 2.6×.
//! Every key of a pool is published in its JWKS; the newest signs.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

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
    /// The serialised JWKS document.
    pub jwks: Arc<str>,
}

/// All pools' keys, loaded lazily from the store and cached.
pub struct KeyRing {
    master: MasterKey,
    pools: RwLock<HashMap<String, Arc<PoolKeys>>>,
}

impl KeyRing {
    pub fn new(master: MasterKey) -> Self {
        Self {
            master,
            pools: RwLock::default(),
        }
    }

    /// The master key, for other secrets sealed at rest.
    pub fn master(&self) -> &MasterKey {
        &self.master
    }

    /// Generates a new signing key for `pool_id` and stores it; it signs from the next
    /// load on, while older keys stay published for verification.
    pub async fn generate(&self, store: &Store, pool_id: &str, now: i64) -> anyhow::Result<()> {
        let private =
            tokio::task::spawn_blocking(|| rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048))
                .await?
                .context("generate RSA key")?;
        let der = private.to_pkcs8_der().context("encode PKCS#8")?;
        let kid = random_token(16);
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
        self.forget(pool_id);
        Ok(())
    }

    /// The keys of `pool_id`, from the cache or the store; `None` for a pool without
    /// keys, which is a pool that does not exist (keys are made with the pool).
    pub async fn pool(
        &self,
        store: &Store,
        pool_id: &str,
    ) -> anyhow::Result<Option<Arc<PoolKeys>>> {
        if let Some(keys) = self.pools.read().expect("key cache lock").get(pool_id) {
            return Ok(Some(keys.clone()));
        }
        let stored = store
            .signing_keys(pool_id)
            .await
            .context("load signing keys")?;
        if stored.is_empty() {
            return Ok(None);
        }
        let keys = Arc::new(self.build(&stored)?);
        self.pools
            .write()
            .expect("key cache lock")
            .insert(pool_id.to_string(), keys.clone());
        Ok(Some(keys))
    }

    /// Drops a pool's cached keys (after rotation, or when a token names an unknown kid
    /// that another instance may have created).
    pub fn forget(&self, pool_id: &str) {
        self.pools.write().expect("key cache lock").remove(pool_id);
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
            jwks: serde_json::json!({ "keys": jwks }).to_string().into(),
        })
    }
}
