//! Small cryptographic building blocks used across the crate: random handles,
//! digests for stored secrets, constant-time comparison, sealing data at rest
//! with the master key (AES-256-GCM through aws-lc-rs), and keyed digests derived from
//! it (HMAC-SHA256) for values that must be stable but unguessable.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// `bytes` random bytes from the OS generator, base64url without padding.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    aws_lc_rs::rand::fill(&mut buf).expect("the OS random generator failed");
    URL_SAFE_NO_PAD.encode(buf)
}

/// Hex SHA-256, the form in which codes, refresh tokens and client secrets are stored:
/// they are high-entropy random values, so a fast digest is enough (no password hash).
pub fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// Compares two secrets without leaking where they differ.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// The key that seals private keys and client secrets in the database.
pub struct MasterKey {
    key: LessSafeKey,
    /// A second key derived from the same secret, for [`MasterKey::keyed_digest`]: the
    /// sealing key is never used for anything else.
    digest_key: [u8; 32],
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

/// Why a master key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the master key must be 32 bytes, base64-encoded")]
    BadMasterKey,
    #[error("sealed data could not be opened: wrong master key or corrupted data")]
    Unseal,
}

impl MasterKey {
    /// Parses a base64-encoded 32-byte key (surrounding whitespace ignored).
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        let raw = STANDARD
            .decode(text.trim())
            .map_err(|_| KeyError::BadMasterKey)?;
        let unbound = UnboundKey::new(&AES_256_GCM, &raw).map_err(|_| KeyError::BadMasterKey)?;
        let mut digest_key = [0u8; 32];
        hkdf::Hkdf::<Sha256>::new(None, &raw)
            .expand(b"cognate keyed digests", &mut digest_key)
            .expect("32 bytes is a valid HKDF-SHA256 length");
        Ok(Self {
            key: LessSafeKey::new(unbound),
            digest_key,
        })
    }

    /// A fresh random key, base64-encoded, for a new development setup.
    pub fn generate_base64() -> String {
        let mut raw = [0u8; 32];
        aws_lc_rs::rand::fill(&mut raw).expect("the OS random generator failed");
        STANDARD.encode(raw)
    }

    /// Seals `plain`; `context` (for example a key id) is bound as associated data so a
    /// sealed value cannot be moved to another row.
    pub fn seal(&self, context: &str, plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).expect("the OS random generator failed");
        let mut out = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut out,
            )
            .expect("AES-GCM sealing cannot fail for in-memory buffers");
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&out);
        sealed
    }

    /// HMAC-SHA256 of `parts` under a key derived from the master key, separated by
    /// `context`: the same input gives the same digest on every instance, and nobody
    /// without the master key can compute or predict it. Each part is length-prefixed,
    /// so `["ab", "c"]` and `["a", "bc"]` differ.
    pub fn keyed_digest(&self, context: &str, parts: &[&[u8]]) -> [u8; 32] {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.digest_key).expect("HMAC takes any key length");
        for part in std::iter::once(context.as_bytes()).chain(parts.iter().copied()) {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    /// Opens what [`MasterKey::seal`] produced with the same `context`.
    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>, KeyError> {
        if sealed.len() < NONCE_LEN {
            return Err(KeyError::Unseal);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| KeyError::Unseal)?;
        let mut buf = body.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut buf)
            .map_err(|_| KeyError::Unseal)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_data_opens_only_with_the_same_key_and_context() {
        let key = MasterKey::from_base64(&MasterKey::generate_base64()).unwrap();
        let sealed = key.seal("kid-1", b"secret");
        assert_eq!(key.open("kid-1", &sealed).unwrap(), b"secret");
        assert!(key.open("kid-2", &sealed).is_err());
        let other = MasterKey::from_base64(&MasterKey::generate_base64()).unwrap();
        assert!(other.open("kid-1", &sealed).is_err());
        assert!(key.open("kid-1", &sealed[..5]).is_err());
    }

    #[test]
    fn keyed_digests_are_stable_per_key_context_and_parts() {
        let text = MasterKey::generate_base64();
        let key = MasterKey::from_base64(&text).unwrap();
        let again = MasterKey::from_base64(&text).unwrap();
        let d = key.keyed_digest("srp", &[b"pool", b"alice"]);
        assert_eq!(d, again.keyed_digest("srp", &[b"pool", b"alice"]));
        assert_ne!(d, key.keyed_digest("srp", &[b"pool", b"alicf"]));
        assert_ne!(d, key.keyed_digest("srp", &[b"poo", b"lalice"]));
        assert_ne!(d, key.keyed_digest("other", &[b"pool", b"alice"]));
        let other = MasterKey::from_base64(&MasterKey::generate_base64()).unwrap();
        assert_ne!(d, other.keyed_digest("srp", &[b"pool", b"alice"]));
    }

    #[test]
    fn a_short_master_key_is_refused() {
        assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
        assert!(MasterKey::from_base64("not base64!").is_err());
    }
}
