//! Password hashing with argon2id at OWASP's parameters (m = 19 MiB, t = 2, p = 1).
//! Hashing runs on the blocking pool so sign-ins never stall the async workers, at most
//! one hash per core at a time: each holds 19 MiB and a core for ~17 ms, so more at once
//! would only add memory and take CPU from token and JWKS requests. Each slot hashes in
//! its own reused argon2 memory ([`super::hash_memory`]); argon2 hashes are computed and
//! written here with the argon2 crate's primitives, exactly as its `PasswordHasher` and
//! `PasswordVerifier` do, but in that memory instead of a fresh allocation each time.
//!
//! Passwords are hashed after Unicode NFKC (NIST SP 800-63B §3.1.1.2), so the same
//! password typed as NFC or NFD, or with compatibility forms, is one password. Nothing
//! else is folded: no case folding, no trimming, no truncation. (SRP verifiers use the
//! bytes the client sends, as Cognito's SDKs compute them.)
//!
//! Hashes imported from other systems ([`check_imported`]: argon2id/argon2i/argon2d,
//! scrypt and PBKDF2-SHA256/-SHA512 PHC strings, bcrypt `$2a$`/`$2b$`/`$2y$`, Django's
//! `pbkdf2_sha256$`/`pbkdf2_sha512$`/`argon2$` forms, stored as PHC strings) verify
//! too, against the password as typed (the other system hashed it without NFKC) and
//! its NFKC form; [`is_current`] tells the caller to replace such a hash with the
//! pool's argon2id once the password is proven.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use argon2::password_hash::{
    Output, ParamsString, PasswordHash, PasswordVerifier, Salt, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
use std::str::FromStr;
use tokio::sync::Semaphore;
use unicode_normalization::UnicodeNormalization;

use super::hash_memory::{self, Memory};

/// What is hashed for `password`.
fn normalized(password: &str) -> String {
    password.nfkc().collect()
}

/// The parameters below, as the benchmark reports them.
pub const PARAMS_DESCRIPTION: &str = "argon2id m=19456 KiB t=2 p=1";

fn pool_params() -> Params {
    Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters")
}

/// How many hashes run at once: one per core.
pub fn slot_count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The hashing slots.
fn slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| Semaphore::new(slot_count()))
}

/// Hashes waiting for a slot, for `/metrics`.
static WAITING: AtomicUsize = AtomicUsize::new(0);

/// The hashing queue now: (slots, slots in use, hashes waiting for one).
pub fn queue() -> (usize, usize, usize) {
    let total = slot_count();
    let in_use = total.saturating_sub(slots().available_permits());
    (total, in_use, WAITING.load(Ordering::Relaxed))
}

/// Counts a hash as waiting while it lives (a dropped request stops waiting too).
struct Waiting;

impl Waiting {
    fn start() -> Self {
        WAITING.fetch_add(1, Ordering::Relaxed);
        Self
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        WAITING.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Runs `work` (a hash) on the blocking pool once a slot is free, in the slot's memory.
async fn in_slot<T: Send + 'static>(
    work: impl FnOnce(&mut Memory) -> T + Send + 'static,
) -> anyhow::Result<T> {
    let waiting = Waiting::start();
    let _slot = slots().acquire().await?;
    drop(waiting);
    let mut memory = hash_memory::take();
    let (memory, out) = tokio::task::spawn_blocking(move || {
        let out = work(&mut memory);
        (memory, out)
    })
    .await?;
    hash_memory::give_back(memory);
    Ok(out)
}

/// Hashes `password` into a PHC string.
pub async fn hash(password: &str) -> anyhow::Result<String> {
    let password = normalized(password);
    in_slot(move |memory| hash_blocking(memory, &password)).await?
}

/// Hashes `password` (already normalized) in `memory`.
pub(crate) fn hash_blocking(memory: &mut Memory, password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    let (algorithm, version) = (Algorithm::Argon2id, Version::V0x13);
    let hash = argon2_hash(
        memory,
        (algorithm, version, pool_params()),
        password.as_bytes(),
        salt.as_salt(),
    )
    .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))?;
    Ok(hash.to_string())
}

/// `password` hashed with `how` in `memory`: the PHC hash the argon2 crate's
/// `PasswordHasher::hash_password` makes, byte for byte. A hash with more memory than the
/// pool's (an imported one) gets memory of its own for this call only.
fn argon2_hash<'a>(
    memory: &mut Memory,
    (algorithm, version, params): (Algorithm, Version, Params),
    password: &[u8],
    salt: Salt<'a>,
) -> argon2::password_hash::Result<PasswordHash<'a>> {
    let mut salt_bytes = [0; Salt::MAX_LENGTH];
    let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
    let mut output = [0; Output::MAX_LENGTH];
    let output = output
        .get_mut(..params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN))
        .ok_or(argon2::password_hash::Error::OutputSize {
            provided: std::cmp::Ordering::Greater,
            expected: Output::MAX_LENGTH,
        })?;
    let count = params.block_count();
    let mut larger = Memory::default();
    let blocks = if count <= pool_params().block_count() {
        memory.blocks(count)
    } else {
        larger.blocks(count)
    };
    Argon2::new(algorithm, version, params.clone())
        .hash_password_into_with_memory(password, salt_bytes, output, blocks)?;
    Ok(PasswordHash {
        algorithm: algorithm.ident(),
        version: Some(version.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt),
        hash: Some(Output::new(output)?),
    })
}

/// Whether `password` hashes to the argon2 hash `parsed`, computed in `memory`: what the
/// argon2 crate's `PasswordVerifier` does (its parameters, salt and output length from
/// the hash; the outputs compared in constant time).
fn argon2_verifies(memory: &mut Memory, parsed: &PasswordHash<'_>, password: &[u8]) -> bool {
    let (Some(salt), Some(expected)) = (parsed.salt, &parsed.hash) else {
        return false;
    };
    let computed = (|| -> argon2::password_hash::Result<_> {
        let algorithm = Algorithm::try_from(parsed.algorithm)?;
        let version = match parsed.version {
            Some(v) => Version::try_from(v)?,
            None => Version::default(),
        };
        let params = Params::try_from(parsed)?;
        argon2_hash(memory, (algorithm, version, params), password, salt)
    })();
    // `Output`'s equality is constant-time.
    computed.is_ok_and(|computed| computed.hash.as_ref() == Some(expected))
}

/// Verifies `password` against `stored`. With no stored hash (unknown user, or a user
/// without a password) a dummy hash is verified instead, so the response time does not
/// reveal whether the account exists.
pub async fn verify(stored: Option<&str>, password: &str) -> bool {
    let stored = stored.map(str::to_owned);
    let raw = password.to_owned();
    let password = normalized(password);
    in_slot(move |memory| {
        let dummy = dummy_hash(memory);
        let (phc, real) = match &stored {
            Some(s) => (s.as_str(), true),
            None => (dummy, false),
        };
        let ok = if is_current(phc) {
            verifies(memory, phc, &password)
        } else {
            verifies(memory, phc, &raw) || (raw != password && verifies(memory, phc, &password))
        };
        ok && real
    })
    .await
    .unwrap_or(false)
}

/// Whether `phc` is the pool's own hash: argon2id at the parameters above. Any other
/// (imported) hash is replaced at the next proof of the password.
pub fn is_current(phc: &str) -> bool {
    phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
}

/// The most an imported hash may cost to verify: parameters beyond these would let
/// one stored hash take a core (or gigabytes) for seconds at every sign-in attempt.
const MAX_ARGON2_KIB: u32 = 256 * 1024;
const MAX_ARGON2_PASSES: u32 = 10;
const MAX_SCRYPT_LOG_N: u8 = 20;
const MAX_PBKDF2_ROUNDS: u32 = 2_000_000;
const MAX_BCRYPT_COST: u32 = 15;

/// Checks a password hash exported by another system before it is stored: a format
/// cognate verifies, with parameters it can afford to verify. Returns the hash as it
/// is stored (Django's forms as the PHC strings they are), or the reason it is refused.
pub fn check_imported(hash: &str) -> Result<String, String> {
    let phc = from_django(hash)?;
    check_phc(&phc)?;
    Ok(phc)
}

/// Django's own hash forms (`pbkdf2_sha256$<rounds>$<salt>$<base64>`, the same for
/// `pbkdf2_sha512`, and `argon2$argon2id$…`) as the PHC strings the `pbkdf2` and
/// `argon2` crates verify; any other hash as it is.
fn from_django(hash: &str) -> Result<String, String> {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
    if let Some(phc) = hash.strip_prefix("argon2$argon2") {
        return Ok(format!("$argon2{phc}"));
    }
    let Some((algorithm, rest)) = hash.split_once('$') else {
        return Ok(hash.to_string());
    };
    let phc_algorithm = match algorithm {
        "pbkdf2_sha256" => "pbkdf2-sha256",
        "pbkdf2_sha512" => "pbkdf2-sha512",
        _ => return Ok(hash.to_string()),
    };
    let bad = || format!("not a Django {algorithm} hash (<rounds>$<salt>$<base64>)");
    let mut parts = rest.split('$');
    let (Some(rounds), Some(salt), Some(derived), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let rounds: u32 = rounds.parse().map_err(|_| bad())?;
    let derived = STANDARD.decode(derived).map_err(|_| bad())?;
    // Django salts with the salt's characters; PHC strings carry the salt's bytes in B64.
    Ok(format!(
        "${phc_algorithm}$i={rounds},l={}${}${}",
        derived.len(),
        STANDARD_NO_PAD.encode(salt.as_bytes()),
        STANDARD_NO_PAD.encode(derived)
    ))
}

fn check_phc(phc: &str) -> Result<(), String> {
    if let Some(rest) = ["$2a$", "$2b$", "$2y$"]
        .iter()
        .find_map(|p| phc.strip_prefix(p))
    {
        let cost: u32 = rest
            .get(..2)
            .and_then(|c| c.parse().ok())
            .ok_or("a bcrypt hash must have a two-digit cost")?;
        if phc.len() != 60 || !(4..=MAX_BCRYPT_COST).contains(&cost) {
            return Err(format!(
                "a bcrypt hash has 60 characters and a cost from 4 to {MAX_BCRYPT_COST}"
            ));
        }
        return bcrypt::HashParts::from_str(phc)
            .map(|_| ())
            .map_err(|e| format!("not a bcrypt hash: {e}"));
    }
    let parsed = PasswordHash::new(phc).map_err(|e| format!("not a PHC string: {e}"))?;
    let param = |name: &str| parsed.params.get_decimal(name);
    let within = match parsed.algorithm.as_str() {
        "argon2id" | "argon2i" | "argon2d" => {
            Params::try_from(&parsed).map_err(|e| format!("argon2 parameters: {e}"))?;
            param("m").is_some_and(|m| m <= MAX_ARGON2_KIB)
                && param("t").is_some_and(|t| t <= MAX_ARGON2_PASSES)
        }
        "scrypt" => {
            let p = scrypt::Params::try_from(&parsed).map_err(|e| format!("scrypt: {e}"))?;
            p.log_n() <= MAX_SCRYPT_LOG_N
        }
        "pbkdf2-sha256" | "pbkdf2-sha512" => {
            param("i").is_some_and(|i| (1..=MAX_PBKDF2_ROUNDS).contains(&i))
        }
        other => return Err(format!("{other} hashes are not supported")),
    };
    if parsed.hash.is_none() || !within {
        return Err(format!(
            "the {} hash has no output or costs too much to verify",
            parsed.algorithm
        ));
    }
    Ok(())
}

/// Whether `password` is the one `phc` (any format [`check_imported`] takes) hashes.
fn verifies(memory: &mut Memory, phc: &str, password: &str) -> bool {
    if phc.starts_with("$2") {
        return bcrypt::verify(password, phc).unwrap_or(false);
    }
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let password = password.as_bytes();
    match parsed.algorithm.as_str() {
        "argon2id" | "argon2i" | "argon2d" => argon2_verifies(memory, &parsed, password),
        "scrypt" => scrypt::Scrypt.verify_password(password, &parsed).is_ok(),
        "pbkdf2-sha256" | "pbkdf2-sha512" => {
            pbkdf2::Pbkdf2.verify_password(password, &parsed).is_ok()
        }
        _ => false,
    }
}

fn dummy_hash(memory: &mut Memory) -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_blocking(memory, "dummy password for unknown users").expect("argon2 works")
    })
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHash, SaltString};

    #[tokio::test]
    async fn a_hash_verifies_only_its_own_password() {
        let h = super::hash("Right-pass-1").await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(super::verify(Some(&h), "Right-pass-1").await);
        assert!(!super::verify(Some(&h), "wrong").await);
        assert!(!super::verify(None, "dummy password for unknown users").await);
    }

    /// One hash of `password` in every imported format, made by the formats' own crates.
    fn foreign_hashes(password: &str) -> Vec<String> {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let argon2i = argon2::Argon2::new(
            argon2::Algorithm::Argon2i,
            argon2::Version::V0x13,
            argon2::Params::new(1024, 1, 1, None).unwrap(),
        );
        let pbkdf2 = |alg: pbkdf2::Algorithm, rounds| {
            pbkdf2::Pbkdf2
                .hash_password_customized(
                    password.as_bytes(),
                    Some(alg.ident()),
                    None,
                    pbkdf2::Params {
                        rounds,
                        output_length: 32,
                    },
                    &salt,
                )
                .unwrap()
                .to_string()
        };
        let mut bcrypt_2a = bcrypt::hash_with_result(password, 4).unwrap();
        vec![
            bcrypt::hash(password, 4).unwrap(),
            bcrypt_2a.format_for_version(bcrypt::Version::TwoA),
            {
                bcrypt_2a = bcrypt::hash_with_result(password, 5).unwrap();
                bcrypt_2a.format_for_version(bcrypt::Version::TwoY)
            },
            argon2i
                .hash_password(password.as_bytes(), &salt)
                .unwrap()
                .to_string(),
            scrypt::Scrypt
                .hash_password_customized(
                    password.as_bytes(),
                    None,
                    None,
                    scrypt::Params::new(10, 8, 1, 32).unwrap(),
                    &salt,
                )
                .unwrap()
                .to_string(),
            pbkdf2(pbkdf2::Algorithm::Pbkdf2Sha256, 1000),
            pbkdf2(pbkdf2::Algorithm::Pbkdf2Sha512, 1000),
        ]
    }

    #[tokio::test]
    async fn djangos_forms_are_stored_as_phc_strings_and_verify() {
        // Django's make_password("Legacy-pass-1", "seasalt", …) with 1,000 rounds
        // (computed with Python's hashlib.pbkdf2_hmac, which Django calls).
        let django = [
            "pbkdf2_sha256$1000$seasalt$gKe2tIeqJ9Hh07/Csf4UQfVuAOmN4L5wQELZ0Qv7gIM=",
            "pbkdf2_sha512$1000$seasalt$jBb/0FOu4Nb70o/S8MB+5Vpmy8mZl+7YAMahEfCCZ3KmL6E4LP61BIKhSNuTzvOeJ0hYo3cyIx8cmq97puDBgQ==",
        ];
        let own = super::hash("Legacy-pass-1").await.unwrap();
        let django_argon2 = format!("argon2{own}");
        for hash in django.iter().copied().chain([django_argon2.as_str()]) {
            let stored = super::check_imported(hash).unwrap();
            assert!(
                stored.starts_with("$pbkdf2-sha") || stored == own,
                "{stored}"
            );
            assert!(
                super::verify(Some(&stored), "Legacy-pass-1").await,
                "{hash}"
            );
            assert!(
                !super::verify(Some(&stored), "Legacy-pass-2").await,
                "{hash}"
            );
        }
        assert!(super::check_imported("pbkdf2_sha256$many$salt$AAAA").is_err());
        assert!(super::check_imported("pbkdf2_sha256$1000$salt").is_err());
    }

    #[tokio::test]
    async fn imported_hashes_verify_their_password_only_and_are_not_current() {
        for phc in foreign_hashes("Legacy-pass-1") {
            assert_eq!(super::check_imported(&phc).as_ref(), Ok(&phc), "{phc}");
            assert!(super::verify(Some(&phc), "Legacy-pass-1").await, "{phc}");
            assert!(!super::verify(Some(&phc), "Legacy-pass-2").await, "{phc}");
            assert!(!super::is_current(&phc), "{phc}");
        }
        let own = super::hash("Legacy-pass-1").await.unwrap();
        assert!(super::is_current(&own));
        assert_eq!(super::check_imported(&own), Ok(own.clone()));
    }

    #[test]
    fn imported_hashes_too_costly_or_unknown_are_refused() {
        for bad in [
            "",
            "plain-text-password",
            "$1$md5crypt$abcdefghijklmnopqrstuv",
            "$md5$v=1$c2FsdA$aGFzaA",
            // bcrypt cost 31, scrypt N = 2^30, argon2 4 GiB, pbkdf2 10^8 rounds
            "$2b$31$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
            "$scrypt$ln=30,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA",
            "$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA",
            "$pbkdf2-sha256$i=100000000,l=32$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ",
        ] {
            assert!(super::check_imported(bad).is_err(), "{bad}");
        }
    }

    /// The argon2 crate's own hashes at parameters below, at and above the pool's memory.
    fn crate_argon2_hashes(password: &str) -> Vec<String> {
        use argon2::password_hash::PasswordHasher;
        use argon2::{Algorithm, Argon2, Params, Version};
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        [
            (Algorithm::Argon2id, Version::V0x13, 19 * 1024, 2, 1),
            (Algorithm::Argon2id, Version::V0x13, 4096, 3, 2),
            (Algorithm::Argon2i, Version::V0x13, 1024, 1, 1),
            (Algorithm::Argon2d, Version::V0x10, 2048, 2, 4),
            (Algorithm::Argon2id, Version::V0x13, 24 * 1024, 1, 1),
        ]
        .into_iter()
        .map(|(algorithm, version, m, t, p)| {
            let params = Params::new(m, t, p, None).unwrap();
            Argon2::new(algorithm, version, params)
                .hash_password(password.as_bytes(), &salt)
                .unwrap()
                .to_string()
        })
        .collect()
    }

    #[test]
    fn hashes_in_reused_memory_are_the_crates_byte_for_byte() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        use argon2::{Algorithm, Argon2, Version};
        let mut memory = super::Memory::default();
        let salt = SaltString::from_b64("c2FsdHNhbHRzYWx0c2FsdA").unwrap();
        for password in ["Correct-horse-9", "another one", ""] {
            let crates = Argon2::new(Algorithm::Argon2id, Version::V0x13, super::pool_params())
                .hash_password(password.as_bytes(), &salt)
                .unwrap()
                .to_string();
            let how = (Algorithm::Argon2id, Version::V0x13, super::pool_params());
            let ours = super::argon2_hash(&mut memory, how, password.as_bytes(), salt.as_salt())
                .unwrap()
                .to_string();
            assert_eq!(ours, crates);
        }
        // A fresh salt, as `hash` makes them: the crate's verifier takes it.
        let ours = super::hash_blocking(&mut memory, "Correct-horse-9").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"Correct-horse-9", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"wrong", &parsed)
                .is_err()
        );
    }

    #[test]
    fn the_crates_hashes_verify_in_reused_memory() {
        // One memory for all, dirty from each hash before: smaller sets reuse its
        // prefix, the larger one gets memory of its own.
        let mut memory = super::Memory::default();
        for phc in crate_argon2_hashes("Legacy-pass-1") {
            assert!(super::verifies(&mut memory, &phc, "Legacy-pass-1"), "{phc}");
            assert!(
                !super::verifies(&mut memory, &phc, "Legacy-pass-2"),
                "{phc}"
            );
        }
        // The reference implementation's answers (the argon2 crate's tests/kat.rs) for
        // "password" and "somesalt", the 64 MiB one beyond the pool's memory.
        for known in [
            "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
            "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc",
            "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
            "$argon2i$v=16$m=256,t=2,p=2$c29tZXNhbHQ$tsEVYKap1h6scGt5ovl9aLRGOqOth+AMB+KwHpDFZPs",
        ] {
            assert!(super::verifies(&mut memory, known, "password"), "{known}");
            assert!(!super::verifies(&mut memory, known, "passwore"), "{known}");
        }
    }

    #[tokio::test]
    async fn nfc_and_nfd_are_one_password_but_case_is_not_folded() {
        let h = super::hash("Jos\u{e9}-pass-1").await.unwrap();
        assert!(super::verify(Some(&h), "Jose\u{301}-pass-1").await);
        assert!(!super::verify(Some(&h), "JOS\u{c9}-PASS-1").await);
    }
}
