//! Password hashing with argon2id at OWASP's parameters (m = 19 MiB, t = 2, p = 1).
//! Hashing runs on the blocking pool so sign-ins never stall the async workers, at most
//! one hash per core at a time: each holds 19 MiB and a core for ~17 ms, so more at once
//! would only add memory and take CPU from token and JWKS requests.
//!
//! Passwords are hashed after Unicode NFKC (NIST SP 800-63B §3.1.1.2), so the same
//! password typed as NFC or NFD, or with compatibility forms, is one password. Nothing
//! else is folded: no case folding, no trimming, no truncation. (SRP verifiers use the
//! bytes the client sends, as Cognito's SDKs compute them.)

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;
use unicode_normalization::UnicodeNormalization;

/// What is hashed for `password`.
fn normalized(password: &str) -> String {
    password.nfkc().collect()
}

/// The parameters below, as the benchmark reports them.
pub const PARAMS_DESCRIPTION: &str = "argon2id m=19456 KiB t=2 p=1";

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The hashing slots: one per core.
fn slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS
        .get_or_init(|| Semaphore::new(std::thread::available_parallelism().map_or(1, |n| n.get())))
}

/// Runs `work` (a hash) on the blocking pool once a slot is free.
async fn in_slot<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    let _slot = slots().acquire().await?;
    Ok(tokio::task::spawn_blocking(work).await?)
}

/// Hashes `password` into a PHC string.
pub async fn hash(password: &str) -> anyhow::Result<String> {
    let password = normalized(password);
    in_slot(move || hash_blocking(&password)).await?
}

pub(crate) fn hash_blocking(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    let hash = argon2()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))?;
    Ok(hash.to_string())
}

/// Verifies `password` against `stored`. With no stored hash (unknown user, or a user
/// without a password) a dummy hash is verified instead, so the response time does not
/// reveal whether the account exists.
pub async fn verify(stored: Option<&str>, password: &str) -> bool {
    let stored = stored.map(str::to_owned);
    let password = normalized(password);
    in_slot(move || {
        let dummy = dummy_hash();
        let (phc, real) = match &stored {
            Some(s) => (s.as_str(), true),
            None => (dummy, false),
        };
        let ok = PasswordHash::new(phc)
            .map(|parsed| {
                argon2()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false);
        ok && real
    })
    .await
    .unwrap_or(false)
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_blocking("dummy password for unknown users").expect("argon2 works"))
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn a_hash_verifies_only_its_own_password() {
        let h = super::hash("Right-pass-1").await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(super::verify(Some(&h), "Right-pass-1").await);
        assert!(!super::verify(Some(&h), "wrong").await);
        assert!(!super::verify(None, "dummy password for unknown users").await);
    }

    #[tokio::test]
    async fn nfc_and_nfd_are_one_password_but_case_is_not_folded() {
        let h = super::hash("Jos\u{e9}-pass-1").await.unwrap();
        assert!(super::verify(Some(&h), "Jose\u{301}-pass-1").await);
        assert!(!super::verify(Some(&h), "JOS\u{c9}-PASS-1").await);
    }
}
