//! Small cryptographic building blocks used across the crate: random handles,
//! digests for stored secrets, constant-time comparison, sealing data at rest
//! with the master key (AES-256-GCM through aws-lc-rs), and keyed digests derived from
//! it (HMAC-SHA256) for values that must be stable but unguessable, among them the
//! digests under which session ids, codes, handles and refresh tokens are stored.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// `bytes` random bytes from the OS generator, base64url without padding.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    aws_lc_rs::rand::fill(&mut buf).expect("the OS random generator failed");
    URL_SAFE_NO_PAD.encode(buf)
}

/// Hex SHA-256, the form in which client secrets are stored (high-entropy random values,
/// so a fast digest is enough, no password hash), and the inner step of
/// [`Digests::secret`].
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
    /// Keyed digests under a second key derived from the same secret: the sealing key is
    /// never used for anything else.
    digests: Digests,
}

/// A secret the database keeps only as a keyed digest, each kind in its own domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Secret {
    /// A hosted-UI session id (the cookie's value).
    SessionId,
    /// An authorization code (`/oauth2/token`).
    AuthCode,
    /// A refresh token.
    RefreshToken,
    /// A confirmation or reset code, given as `<user_id>:<code>`.
    UserCode,
    /// A one-click sign-up confirmation link's token.
    LinkToken,
    /// The handle of a sign-in pending at an identity provider (its `state`).
    FederationHandle,
}

impl Secret {
    fn context(self) -> &'static str {
        match self {
            Secret::SessionId => "at-rest:session-id",
            Secret::AuthCode => "at-rest:auth-code",
            Secret::RefreshToken => "at-rest:refresh-token",
            Secret::UserCode => "at-rest:user-code",
            Secret::LinkToken => "at-rest:link-token",
            Secret::FederationHandle => "at-rest:federation-handle",
        }
    }
}

/// HMAC-SHA256 under a key derived from the master key. Cheap to clone, so the session
/// store and the domain functions can hold one without the rest of the key ring.
#[derive(Clone)]
pub struct Digests {
    key: [u8; 32],
}

impl std::fmt::Debug for Digests {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Digests(<redacted>)")
    }
}

impl Digests {
    /// HMAC-SHA256 of `parts`, separated by `context`: the same input gives the same
    /// digest on every instance, and nobody without the master key can compute or
    /// predict it. Each part is length-prefixed, so `["ab", "c"]` and `["a", "bc"]` differ.
    pub fn keyed_digest(&self, context: &str, parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        for part in std::iter::once(context.as_bytes()).chain(parts.iter().copied()) {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    /// The digest under which a secret of `kind` is stored: a reader of the database
    /// (a backup, a replica) can neither present it as the secret nor test guesses
    /// against it offline, which matters for six-digit codes. It is the keyed digest of
    /// the secret's SHA-256, so rows stored as plain SHA-256 digests before can be
    /// converted without the secret ([`Digests::upgrade`]).
    pub fn secret_bytes(&self, kind: Secret, value: &str) -> [u8; 32] {
        self.upgrade_bytes(kind, &sha256_hex(value))
    }

    /// [`Digests::secret_bytes`] in hex, the form stored in text columns.
    pub fn secret(&self, kind: Secret, value: &str) -> String {
        hex::encode(self.secret_bytes(kind, value))
    }

    /// Converts a digest stored as hex SHA-256 into [`Digests::secret`]'s form.
    pub fn upgrade(&self, kind: Secret, sha256_hex: &str) -> String {
        hex::encode(self.upgrade_bytes(kind, sha256_hex))
    }

    fn upgrade_bytes(&self, kind: Secret, sha256_hex: &str) -> [u8; 32] {
        self.keyed_digest(kind.context(), &[sha256_hex.as_bytes()])
    }
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
            digests: Digests { key: digest_key },
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

    /// See [`Digests::keyed_digest`].
    pub fn keyed_digest(&self, context: &str, parts: &[&[u8]]) -> [u8; 32] {
        self.digests.keyed_digest(context, parts)
    }

    /// The keyed digests derived from this key.
    pub fn digests(&self) -> &Digests {
        &self.digests
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

/// Random letters and digits (lower-case only, or mixed), the alphabet of generated ids.
pub fn random_alnum(len: usize, lower_only: bool) -> String {
    const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    const MIXED: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let set = if lower_only { LOWER } else { MIXED };
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| set[rng.gen_range(0..set.len())] as char)
        .collect()
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
    fn a_stored_secret_digest_is_keyed_per_kind_and_upgrades_a_plain_one() {
        let text = MasterKey::generate_base64();
        let digests = MasterKey::from_base64(&text).unwrap().digests().clone();
        let d = digests.secret(Secret::RefreshToken, "token");
        assert_eq!(d.len(), 64);
        assert_ne!(d, sha256_hex("token"));
        assert_ne!(d, digests.secret(Secret::AuthCode, "token"));
        assert_eq!(
            d,
            digests.upgrade(Secret::RefreshToken, &sha256_hex("token"))
        );
        let other = MasterKey::from_base64(&MasterKey::generate_base64()).unwrap();
        assert_ne!(d, other.digests().secret(Secret::RefreshToken, "token"));
        assert_eq!(format!("{digests:?}"), "Digests(<redacted>)");
    }

    #[test]
    fn a_short_master_key_is_refused() {
        assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
        assert!(MasterKey::from_base64("not base64!").is_err());
    }
}
