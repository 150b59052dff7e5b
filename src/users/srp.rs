//! Cognito's SRP sign-in, server side: `InitiateAuth` with `USER_SRP_AUTH` answers with a
//! `PASSWORD_VERIFIER` challenge ([`start`]) and `RespondToAuthChallenge` checks the
//! client's claim ([`verify`]).
//!
//! SRP-6a (RFC 5054) with SHA-256 over the 3072-bit group of RFC 3526 §5 (g = 2), in the
//! dialect of Amazon's clients (Amplify and amazon-cognito-identity-js
//! `AuthenticationHelper`, pycognito `aws_srp.py`):
//! - a number enters a hash as [`pad`]ded bytes (Java's `BigInteger.toByteArray()`);
//! - k = H(pad(N) | pad(g)), u = H(pad(A) | pad(B)), v = g^x with
//!   x = H(pad(salt) | H(poolName | userIdForSrp | ":" | password));
//! - key = HKDF-SHA256(salt = pad(u), ikm = pad(S), info = "Caldera Derived Key"), 16 bytes;
//! - PASSWORD_CLAIM_SIGNATURE = HMAC-SHA256(key, poolName | userIdForSrp | SECRET_BLOCK
//!   bytes | TIMESTAMP), where poolName is the pool id after its '_'.
//!
//! No state is kept between the two calls: SECRET_BLOCK carries b, B, A, the user, the pool
//! and an expiry, sealed with the master key, so any instance can finish the exchange.

use std::ops::RangeInclusive;
use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use num_bigint_dig::BigUint;
use sha2::{Digest, Sha256};

use crate::crypto::MasterKey;

/// How long a challenge may be answered, in seconds.
pub const CHALLENGE_TTL_SECS: i64 = 300;

/// Associated data of sealed secret blocks, so no other sealed value passes for one.
const SEAL_CONTEXT: &str = "srp";
const BLOCK_VERSION: u8 = 1;
/// N has 768 hex digits; a little zero padding is tolerated, anything longer is refused
/// before any arithmetic (a huge SRP_A would otherwise cost CPU per request).
const MAX_SRP_A_HEX: usize = 1024;
/// A real secret block is about 1.2 KB of base64.
const MAX_SECRET_BLOCK_B64: usize = 4096;
/// Bytes of the server's secret exponent b (RFC 5054 §2.5.3: at least 256 bits).
const B_BYTES: usize = 32;

/// The 3072-bit MODP prime of RFC 3526 §5, `initN` in `AuthenticationHelper`.
pub(crate) const N_HEX: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1",
    "29024E088A67CC74020BBEA63B139B22514A08798E3404DD",
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245",
    "E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D",
    "C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F",
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D",
    "670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9",
    "DE2BCBF6955817183995497CEA956AE515D2261898FA0510",
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64",
    "ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6B",
    "F12FFA06D98A0864D87602733EC86A64521F2B18177B200C",
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB31",
    "43DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
);

struct Group {
    n: BigUint,
    g: BigUint,
    k: BigUint,
}

/// The group constants, parsed once (they are constants, not configuration).
static GROUP: LazyLock<Group> = LazyLock::new(|| {
    let n = BigUint::parse_bytes(N_HEX.as_bytes(), 16).expect("N is hex");
    let g = BigUint::from(2u32);
    let k = hash_to_int(&[&pad(&n), &pad(&g)]);
    Group { n, g, k }
});

/// A user's stored SRP verifier: the salt and v = g^x mod N, both big-endian bytes. The
/// caller seals them with the master key: a leaked verifier allows an offline guess of
/// the password, as a password hash does.
#[derive(Clone, PartialEq, Eq)]
pub struct Verifier {
    /// 16 random bytes, read as a big-endian number.
    pub salt: Vec<u8>,
    /// v, big-endian.
    pub verifier: Vec<u8>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Verifier(<redacted>)")
    }
}

/// The challenge parameters of `InitiateAuth` `USER_SRP_AUTH` (the caller adds
/// `USERNAME` and `USER_ID_FOR_SRP`, which Cognito also returns).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// `SRP_B`: B in lower-case hex without padding.
    pub srp_b: String,
    /// `SALT`: the salt in lower-case hex without padding, as Cognito sends it.
    pub salt: String,
    /// `SECRET_BLOCK`: the sealed exchange state, standard base64.
    pub secret_block: String,
}

/// Why an SRP exchange was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SrpError {
    /// SRP_A is not hex, is too long, or is 0, 1, N − 1 or at least N.
    #[error("SRP_A is invalid")]
    BadA,
    /// The secret block was not made by this server (or was altered).
    #[error("the secret block is invalid")]
    BadSecretBlock,
    /// The challenge is older than [`CHALLENGE_TTL_SECS`].
    #[error("the challenge has expired")]
    Expired,
    /// The secret block was issued for another user or pool.
    #[error("the secret block belongs to another user")]
    WrongUser,
    /// The signature does not match (wrong password), or the timestamp is malformed.
    #[error("incorrect username or password")]
    Mismatch,
}

/// Makes the verifier for a new password, with a fresh random 16-byte salt.
pub fn make_verifier(pool_id: &str, user_id_for_srp: &str, password: &str) -> Verifier {
    let mut salt = [0u8; 16];
    aws_lc_rs::rand::fill(&mut salt).expect("the OS random generator failed");
    verifier_with_salt(pool_id, user_id_for_srp, password, &salt)
}

fn verifier_with_salt(pool_id: &str, user: &str, password: &str, salt: &[u8]) -> Verifier {
    let x = compute_x(&BigUint::from_bytes_be(salt), pool_id, user, password);
    let v = GROUP.g.modpow(&x, &GROUP.n);
    Verifier {
        salt: salt.to_vec(),
        verifier: v.to_bytes_be(),
    }
}

/// Answers `USER_SRP_AUTH`: B = (k·v + g^b) mod N for a random b, and the secret block
/// that lets [`verify`] finish the exchange on any instance until `now` + 5 minutes.
/// `srp_a_hex` is the client's `SRP_A`.
pub fn start(
    master: &MasterKey,
    pool_id: &str,
    user_id_for_srp: &str,
    v: &Verifier,
    srp_a_hex: &str,
    now: i64,
) -> Result<Challenge, SrpError> {
    let a = parse_srp_a(srp_a_hex)?;
    let b = loop {
        let mut raw = [0u8; B_BYTES];
        aws_lc_rs::rand::fill(&mut raw).expect("the OS random generator failed");
        let b = BigUint::from_bytes_be(&raw);
        if b.bits() != 0 {
            break b;
        }
    };
    let big_b = compute_b(&b, &BigUint::from_bytes_be(&v.verifier));
    // Clients refuse B ≡ 0 and u = 0 (with u = 0, S would not depend on the password).
    // Both have probability about 2^-256; such an exchange simply fails.
    let block = SecretBlock {
        expires: now + CHALLENGE_TTL_SECS,
        b,
        big_b: big_b.clone(),
        a,
        pool_id: pool_id.to_owned(),
        user: user_id_for_srp.to_owned(),
    };
    let sealed = master.seal(SEAL_CONTEXT, &block.encode());
    Ok(Challenge {
        srp_b: big_b.to_str_radix(16),
        salt: BigUint::from_bytes_be(&v.salt).to_str_radix(16),
        secret_block: STANDARD.encode(sealed),
    })
}

/// Checks the `PASSWORD_VERIFIER` response: the secret block must be this server's, for
/// this pool and user, and unexpired; then S = (A·v^u)^b mod N gives the key, and the
/// claim's HMAC is compared in constant time.
#[expect(
    clippy::too_many_arguments,
    reason = "the challenge response's fields, kept as plain values for the caller"
)]
pub fn verify(
    master: &MasterKey,
    pool_id: &str,
    user_id_for_srp: &str,
    v: &Verifier,
    secret_block_b64: &str,
    timestamp: &str,
    claim_signature_b64: &str,
    now: i64,
) -> Result<(), SrpError> {
    if secret_block_b64.len() > MAX_SECRET_BLOCK_B64 {
        return Err(SrpError::BadSecretBlock);
    }
    let block_bytes = STANDARD
        .decode(secret_block_b64)
        .map_err(|_| SrpError::BadSecretBlock)?;
    let plain = master
        .open(SEAL_CONTEXT, &block_bytes)
        .map_err(|_| SrpError::BadSecretBlock)?;
    let block = SecretBlock::decode(&plain).ok_or(SrpError::BadSecretBlock)?;
    if block.pool_id != pool_id || block.user != user_id_for_srp {
        return Err(SrpError::WrongUser);
    }
    if now > block.expires {
        return Err(SrpError::Expired);
    }
    if !is_cognito_timestamp(timestamp) {
        return Err(SrpError::Mismatch);
    }
    let claim = STANDARD
        .decode(claim_signature_b64.trim())
        .map_err(|_| SrpError::Mismatch)?;
    let u = compute_u(&block.a, &block.big_b);
    if u.bits() == 0 {
        return Err(SrpError::Mismatch);
    }
    let s = server_premaster(&block, &BigUint::from_bytes_be(&v.verifier), &u);
    let key = session_key(&s, &u);
    claim_mac(&key, pool_id, user_id_for_srp, &block_bytes, timestamp)
        .verify_slice(&claim)
        .map_err(|_| SrpError::Mismatch)
}

/// A positive number as these clients hash it (`padHex`): the minimal big-endian bytes,
/// with a leading zero byte when the top bit is set, i.e. Java's two's-complement
/// `BigInteger.toByteArray()`. Left-padding to the size of N instead (as RFC 5054 does)
/// is the classic way to break interoperability.
fn pad(n: &BigUint) -> Vec<u8> {
    let mut bytes = n.to_bytes_be(); // zero gives [0]
    if bytes[0] & 0x80 != 0 {
        bytes.insert(0, 0);
    }
    bytes
}

fn hash_to_int(parts: &[&[u8]]) -> BigUint {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    BigUint::from_bytes_be(&hasher.finalize())
}

/// The pool's "name" in the SRP formulas, as the clients take it: `split('_')[1]`.
fn pool_name(pool_id: &str) -> &str {
    pool_id.split('_').nth(1).unwrap_or(pool_id)
}

fn compute_x(salt: &BigUint, pool_id: &str, user: &str, password: &str) -> BigUint {
    let identity = Sha256::new()
        .chain_update(pool_name(pool_id))
        .chain_update(user)
        .chain_update(":")
        .chain_update(password)
        .finalize();
    hash_to_int(&[&pad(salt), &identity])
}

fn compute_b(b: &BigUint, v: &BigUint) -> BigUint {
    let group = &*GROUP;
    (&group.k * v + group.g.modpow(b, &group.n)) % &group.n
}

fn compute_u(a: &BigUint, big_b: &BigUint) -> BigUint {
    hash_to_int(&[&pad(a), &pad(big_b)])
}

/// S = (A·v^u)^b mod N.
fn server_premaster(block: &SecretBlock, v: &BigUint, u: &BigUint) -> BigUint {
    let n = &GROUP.n;
    (&block.a * v.modpow(u, n) % n).modpow(&block.b, n)
}

fn session_key(s: &BigUint, u: &BigUint) -> [u8; 16] {
    let mut key = [0u8; 16];
    Hkdf::<Sha256>::new(Some(&pad(u)), &pad(s))
        .expand(b"Caldera Derived Key", &mut key)
        .expect("16 bytes is a valid HKDF-SHA256 length");
    key
}

fn claim_mac(
    key: &[u8],
    pool_id: &str,
    user: &str,
    secret_block: &[u8],
    timestamp: &str,
) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(pool_name(pool_id).as_bytes());
    mac.update(user.as_bytes());
    mac.update(secret_block);
    mac.update(timestamp.as_bytes());
    mac
}

/// SRP_A as hex (either case, no sign or separators); 0 < A < N, so also A mod N ≠ 0
/// (RFC 5054 §2.5.4). Honest clients send g^a mod N, which is always below N. A = 1 and
/// A = N − 1 are refused too: with them S = (A·v^u)^b is 1 or ±1, so it no longer depends
/// on the verifier and a client could finish the exchange without the password's
/// verifier entering the key (a probe reported both as accepted).
pub(crate) fn parse_srp_a(hex_a: &str) -> Result<BigUint, SrpError> {
    if hex_a.is_empty() || hex_a.len() > MAX_SRP_A_HEX {
        return Err(SrpError::BadA);
    }
    let even = if hex_a.len() % 2 == 1 {
        format!("0{hex_a}")
    } else {
        hex_a.to_owned()
    };
    let bytes = hex::decode(even).map_err(|_| SrpError::BadA)?;
    let a = BigUint::from_bytes_be(&bytes);
    let one = BigUint::from(1u32);
    if a.bits() == 0 || a >= GROUP.n || a == one || a == &GROUP.n - &one {
        return Err(SrpError::BadA);
    }
    Ok(a)
}

/// The state of one exchange, sealed into SECRET_BLOCK.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct SecretBlock {
    pub(crate) expires: i64,
    pub(crate) b: BigUint,
    pub(crate) big_b: BigUint,
    pub(crate) a: BigUint,
    pub(crate) pool_id: String,
    pub(crate) user: String,
}

impl SecretBlock {
    /// Version byte, expiry (i64 big-endian), then b, B, A, pool id and user id, each
    /// prefixed by its length (u32 big-endian).
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = vec![BLOCK_VERSION];
        out.extend_from_slice(&self.expires.to_be_bytes());
        for field in [
            &self.b.to_bytes_be()[..],
            &self.big_b.to_bytes_be(),
            &self.a.to_bytes_be(),
            self.pool_id.as_bytes(),
            self.user.as_bytes(),
        ] {
            let len = u32::try_from(field.len()).expect("secret block fields are small");
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(field);
        }
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> Option<Self> {
        let (&version, rest) = bytes.split_first()?;
        if version != BLOCK_VERSION {
            return None;
        }
        let (expires, mut rest) = rest.split_first_chunk::<8>()?;
        let b = BigUint::from_bytes_be(take(&mut rest)?);
        let big_b = BigUint::from_bytes_be(take(&mut rest)?);
        let a = BigUint::from_bytes_be(take(&mut rest)?);
        let pool_id = String::from_utf8(take(&mut rest)?.to_vec()).ok()?;
        let user = String::from_utf8(take(&mut rest)?.to_vec()).ok()?;
        rest.is_empty().then_some(Self {
            expires: i64::from_be_bytes(*expires),
            b,
            big_b,
            a,
            pool_id,
            user,
        })
    }
}

/// Splits one length-prefixed field off the front of `rest`.
fn take<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let (len, tail) = rest.split_first_chunk::<4>()?;
    let len = usize::try_from(u32::from_be_bytes(*len)).ok()?;
    let (field, tail) = tail.split_at_checked(len)?;
    *rest = tail;
    Some(field)
}

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Whether `ts` has the shape of Cognito's TIMESTAMP, Java's `EEE MMM d HH:mm:ss z yyyy`
/// in English and UTC: "Tue Sep 5 08:09:12 UTC 2023". Amplify and pycognito do not pad
/// the day; a padded day ("Sep 05") is accepted too, since the HMAC covers the string as
/// sent. The weekday must match the date. Its distance from our clock is not checked:
/// the secret block's expiry already bounds replays, and client clocks drift.
pub(crate) fn is_cognito_timestamp(ts: &str) -> bool {
    let parts: Vec<&str> = ts.split(' ').collect();
    let [weekday, month, day, clock, zone, year] = parts[..] else {
        return false;
    };
    let Some(month) = MONTHS.iter().position(|m| *m == month) else {
        return false;
    };
    let (Some(day), Some(year)) = (number(day, 1..=2), number(year, 4..=4)) else {
        return false;
    };
    let clock: Vec<Option<u32>> = clock.split(':').map(|p| number(p, 2..=2)).collect();
    let [Some(hour), Some(minute), Some(second)] = clock[..] else {
        return false;
    };
    let date = u8::try_from(month + 1)
        .ok()
        .and_then(|m| time::Month::try_from(m).ok())
        .and_then(|m| time::Date::from_calendar_date(year as i32, m, day as u8).ok());
    let Some(date) = date else {
        return false;
    };
    zone == "UTC"
        && hour < 24
        && minute < 60
        && second < 60
        && WEEKDAYS[usize::from(date.weekday().number_days_from_monday())] == weekday
}

/// `text` as a decimal number when it is only ASCII digits, with a length in `len`.
fn number(text: &str, len: RangeInclusive<usize>) -> Option<u32> {
    if !len.contains(&text.len()) || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};
    use std::time::Instant;

    use proptest::prelude::*;

    const POOL: &str = "us-east-1_AbC123xYz";
    const USER: &str = "alice";
    const PASSWORD: &str = "Correct horse 1!";
    const NOW: i64 = 1_693_901_352; // Tue Sep  5 08:09:12 UTC 2023

    fn master() -> MasterKey {
        MasterKey::from_base64(&MasterKey::generate_base64()).unwrap()
    }

    fn int(hex: &str) -> BigUint {
        BigUint::parse_bytes(hex.as_bytes(), 16).unwrap()
    }

    /// `padHex` exactly as AuthenticationHelper writes it, on hex strings: an independent
    /// check of [`pad`], which the server side uses.
    fn pad_hex(n: &BigUint) -> String {
        let hex = n.to_str_radix(16);
        if hex.len() % 2 == 1 {
            format!("0{hex}")
        } else if "89abcdef".contains(&hex[..1]) {
            format!("00{hex}")
        } else {
            hex
        }
    }

    /// `hexHash`: SHA-256 of the bytes a hex string spells, as a 64-digit hex string.
    fn hex_hash(hex_str: &str) -> String {
        hex::encode(Sha256::digest(hex::decode(hex_str).unwrap()))
    }

    /// A client that mirrors AuthenticationHelper (Amplify) step by step, in its own
    /// string-based arithmetic.
    struct TestClient {
        pool_id: String,
        a: BigUint,
        big_a: BigUint,
    }

    impl TestClient {
        fn new(pool_id: &str) -> Self {
            let mut raw = [0u8; 128];
            aws_lc_rs::rand::fill(&mut raw).unwrap();
            let n = &GROUP.n;
            let a = BigUint::from_bytes_be(&raw) % n;
            let big_a = GROUP.g.modpow(&a, n);
            Self {
                pool_id: pool_id.to_owned(),
                a,
                big_a,
            }
        }

        fn srp_a(&self) -> String {
            self.big_a.to_str_radix(16)
        }

        /// PASSWORD_CLAIM_SIGNATURE for a challenge, as `getSignatureString` builds it.
        fn claim(&self, user: &str, password: &str, ch: &Challenge, timestamp: &str) -> String {
            let n = &GROUP.n;
            let g = &GROUP.g;
            let k = int(&hex_hash(&format!("{}{}", pad_hex(n), pad_hex(g))));
            let big_b = int(&ch.srp_b);
            let u = int(&hex_hash(&(pad_hex(&self.big_a) + &pad_hex(&big_b))));
            let pool_name = self.pool_id.split('_').nth(1).unwrap();
            let identity = hex::encode(Sha256::digest(format!("{pool_name}{user}:{password}")));
            let x = int(&hex_hash(&(pad_hex(&int(&ch.salt)) + &identity)));
            // S = (B - k·g^x)^(a + u·x) mod N, kept non-negative.
            let kgx = &k * g.modpow(&x, n) % n;
            let base = (&big_b + n - kgx) % n;
            let s = base.modpow(&(&self.a + &u * &x), n);
            let mut key = [0u8; 16];
            Hkdf::<Sha256>::new(
                Some(&hex::decode(pad_hex(&u)).unwrap()),
                &hex::decode(pad_hex(&s)).unwrap(),
            )
            .expand(b"Caldera Derived Key", &mut key)
            .unwrap();
            let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
            mac.update(pool_name.as_bytes());
            mac.update(user.as_bytes());
            mac.update(&STANDARD.decode(&ch.secret_block).unwrap());
            mac.update(timestamp.as_bytes());
            STANDARD.encode(mac.finalize().into_bytes())
        }
    }

    /// `getNowString`: "Tue Sep 5 08:09:12 UTC 2023", the day not padded.
    fn now_string(epoch: i64) -> String {
        let t = time::OffsetDateTime::from_unix_timestamp(epoch).unwrap();
        format!(
            "{} {} {} {:02}:{:02}:{:02} UTC {}",
            WEEKDAYS[usize::from(t.weekday().number_days_from_monday())],
            MONTHS[usize::from(u8::from(t.month())) - 1],
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.year()
        )
    }

    struct Exchange {
        master: MasterKey,
        verifier: Verifier,
        challenge: Challenge,
        timestamp: String,
        claim: String,
    }

    impl Exchange {
        /// A full exchange for `POOL`/`USER`, the client typing `password`.
        fn run(password: &str) -> Self {
            let master = master();
            let verifier = make_verifier(POOL, USER, PASSWORD);
            let client = TestClient::new(POOL);
            let challenge = start(&master, POOL, USER, &verifier, &client.srp_a(), NOW).unwrap();
            let timestamp = now_string(NOW);
            let claim = client.claim(USER, password, &challenge, &timestamp);
            Self {
                master,
                verifier,
                challenge,
                timestamp,
                claim,
            }
        }

        fn verify_as(&self, pool: &str, user: &str, now: i64) -> Result<(), SrpError> {
            verify(
                &self.master,
                pool,
                user,
                &self.verifier,
                &self.challenge.secret_block,
                &self.timestamp,
                &self.claim,
                now,
            )
        }
    }

    #[test]
    fn the_right_password_verifies() {
        let started = Instant::now();
        let ex = Exchange::run(PASSWORD);
        assert_eq!(ex.verify_as(POOL, USER, NOW + 10), Ok(()));
        println!(
            "make_verifier + start + client + verify: {:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_wrong_password_is_a_mismatch() {
        let ex = Exchange::run("Correct horse 2!");
        assert_eq!(ex.verify_as(POOL, USER, NOW), Err(SrpError::Mismatch));
    }

    #[test]
    fn a_block_for_another_user_or_pool_is_refused() {
        let ex = Exchange::run(PASSWORD);
        assert_eq!(ex.verify_as(POOL, "bob", NOW), Err(SrpError::WrongUser));
        assert_eq!(
            ex.verify_as("us-east-1_Other0000", USER, NOW),
            Err(SrpError::WrongUser)
        );
    }

    #[test]
    fn a_block_expires_after_five_minutes() {
        let ex = Exchange::run(PASSWORD);
        assert_eq!(ex.verify_as(POOL, USER, NOW + 300), Ok(()));
        assert_eq!(ex.verify_as(POOL, USER, NOW + 301), Err(SrpError::Expired));
    }

    #[test]
    fn a_tampered_or_foreign_secret_block_is_refused() {
        let mut ex = Exchange::run(PASSWORD);
        let mut raw = STANDARD.decode(&ex.challenge.secret_block).unwrap();
        raw[40] ^= 1;
        let tampered = STANDARD.encode(&raw);
        ex.challenge.secret_block = tampered;
        assert_eq!(ex.verify_as(POOL, USER, NOW), Err(SrpError::BadSecretBlock));
        ex.challenge.secret_block = "not base64!".into();
        assert_eq!(ex.verify_as(POOL, USER, NOW), Err(SrpError::BadSecretBlock));
        // Sealed by the same key, but for another purpose.
        ex.challenge.secret_block = STANDARD.encode(ex.master.seal("kid-1", b"{}"));
        assert_eq!(ex.verify_as(POOL, USER, NOW), Err(SrpError::BadSecretBlock));
    }

    #[test]
    fn a_block_from_another_master_key_is_refused() {
        let mut ex = Exchange::run(PASSWORD);
        ex.master = master();
        assert_eq!(ex.verify_as(POOL, USER, NOW), Err(SrpError::BadSecretBlock));
    }

    #[test]
    fn a_timestamp_other_than_the_signed_one_is_a_mismatch() {
        let mut ex = Exchange::run(PASSWORD);
        ex.timestamp = now_string(NOW + 1);
        assert_eq!(ex.verify_as(POOL, USER, NOW), Err(SrpError::Mismatch));
    }

    #[test]
    fn a_padded_day_is_accepted_when_it_is_what_was_signed() {
        let master = master();
        let verifier = make_verifier(POOL, USER, PASSWORD);
        let client = TestClient::new(POOL);
        let ch = start(&master, POOL, USER, &verifier, &client.srp_a(), NOW).unwrap();
        let ts = "Tue Sep 05 08:09:12 UTC 2023";
        let claim = client.claim(USER, PASSWORD, &ch, ts);
        let ok = verify(
            &master,
            POOL,
            USER,
            &verifier,
            &ch.secret_block,
            ts,
            &claim,
            NOW,
        );
        assert_eq!(ok, Ok(()));
    }

    #[test]
    fn a_garbled_signature_is_a_mismatch() {
        let mut ex = Exchange::run(PASSWORD);
        ex.claim = "!!".into();
        assert_eq!(ex.verify_as(POOL, USER, NOW), Err(SrpError::Mismatch));
        ex.claim = STANDARD.encode([0u8; 32]);
        assert_eq!(ex.verify_as(POOL, USER, NOW), Err(SrpError::Mismatch));
        ex.claim = String::new();
        assert_eq!(ex.verify_as(POOL, USER, NOW), Err(SrpError::Mismatch));
    }

    #[test]
    fn timestamps_follow_cognitos_format() {
        assert_eq!(now_string(NOW), "Tue Sep 5 08:09:12 UTC 2023");
        for ok in [
            "Tue Sep 5 08:09:12 UTC 2023",
            "Tue Sep 05 08:09:12 UTC 2023",
            "Sat Dec 30 23:59:59 UTC 2023",
        ] {
            assert!(is_cognito_timestamp(ok), "{ok}");
        }
        for bad in [
            "",
            "Wed Sep 5 08:09:12 UTC 2023",  // wrong weekday
            "Tue Sep  5 08:09:12 UTC 2023", // asctime's space padding
            "Tue Sep 5 8:09:12 UTC 2023",
            "Tue Sep 5 08:09:12 GMT 2023",
            "Tue Sep 5 24:09:12 UTC 2023",
            "Tue Sep 31 08:09:12 UTC 2023",
            "Tue Sep 5 08:09:12 UTC 2023 ",
            "tue sep 5 08:09:12 UTC 2023",
            "Tue Sep +5 08:09:12 UTC 2023",
        ] {
            assert!(!is_cognito_timestamp(bad), "{bad:?}");
        }
    }

    // Matrix: PR-12
    #[test]
    fn srp_a_must_be_hex_between_one_and_n_minus_one_exclusive() {
        let m = master();
        let v = make_verifier(POOL, USER, PASSWORD);
        let n = GROUP.n.to_str_radix(16);
        let n_plus_1 = (&GROUP.n + BigUint::from(1u32)).to_str_radix(16);
        let n_minus_1 = (&GROUP.n - BigUint::from(1u32)).to_str_radix(16);
        let two_n_minus_1 = (&GROUP.n * 2u32 - 1u32).to_str_radix(16);
        for bad in [
            "",
            "0",
            "000000",
            "1",
            "0001",
            n_minus_1.as_str(),
            two_n_minus_1.as_str(),
            n.as_str(),
            n_plus_1.as_str(),
            "+1f",
            "1_f",
            "0x1f",
            "zz",
            &"f".repeat(2000),
        ] {
            let got = start(&m, POOL, USER, &v, bad, NOW);
            assert_eq!(got.err(), Some(SrpError::BadA), "{bad:.20}");
        }
        // Upper case and zero padding are fine; A need not be large.
        assert!(start(&m, POOL, USER, &v, "00ABCDEF", NOW).is_ok());
        assert!(start(&m, POOL, USER, &v, "2", NOW).is_ok());
        let n_minus_2 = (&GROUP.n - BigUint::from(2u32)).to_str_radix(16);
        assert!(start(&m, POOL, USER, &v, &n_minus_2, NOW).is_ok());
    }

    #[test]
    fn pad_is_the_two_s_complement_byte_form() {
        // The examples in Amplify's getPaddedHex.
        assert_eq!(hex::encode(pad(&BigUint::from(20u32))), "14");
        assert_eq!(hex::encode(pad(&BigUint::from(236u32))), "00ec");
        assert_eq!(hex::encode(pad(&BigUint::from(200u32))), "00c8");
        assert_eq!(hex::encode(pad(&BigUint::from(0xabcu32))), "0abc");
        assert_eq!(hex::encode(pad(&BigUint::from(0u32))), "00");
        assert_eq!(pad(&GROUP.n).len(), 385);
    }

    /// From `tests/srp_client.py vector`: pycognito's own helpers computed k, B for a
    /// fixed b and salt, and the key its client derives for a fixed a. Pins every step of
    /// the server's arithmetic (k, x, v, B, u, S, HKDF) without running Python.
    #[test]
    fn the_server_key_matches_pycognitos_vector() {
        let expected_k = "538282c4354742d7cbbde2359fcf67f9f5b3a6b08791e5011b43b8a5b66d9ee6";
        assert_eq!(GROUP.k.to_str_radix(16), expected_k);

        let salt = hex::decode("8ce8291892390f6b53a245933faf6164").unwrap();
        let v = verifier_with_salt(POOL, USER, PASSWORD, &salt);
        let a = int(&"a1".repeat(64));
        let b = int(&"5e".repeat(32));
        let big_a = GROUP.g.modpow(&a, &GROUP.n);
        let big_b = compute_b(&b, &BigUint::from_bytes_be(&v.verifier));
        assert_eq!(
            hex::encode(Sha256::digest(big_b.to_str_radix(16))),
            // SHA-256 of the vector's srp_b text ("a4cecfdbc341e30d...71ea730616d1a5e0")
            "dcebe1f968ea56d57cb6e80a3d673deaa822289c91dac77d6eda8d27088b98b9"
        );
        let block = SecretBlock {
            expires: 0,
            b,
            big_b: big_b.clone(),
            a: big_a.clone(),
            pool_id: POOL.into(),
            user: USER.into(),
        };
        let u = compute_u(&big_a, &big_b);
        let s = server_premaster(&block, &BigUint::from_bytes_be(&v.verifier), &u);
        assert_eq!(
            hex::encode(session_key(&s, &u)),
            "3f5ed1e4b852bcab5f059eedf69d9b9a"
        );
    }

    #[test]
    fn the_secret_block_round_trips() {
        let block = SecretBlock {
            expires: -5,
            b: BigUint::from(7u32),
            big_b: GROUP.n.clone(),
            a: BigUint::from(0u32),
            pool_id: POOL.into(),
            user: "ünïcode".into(),
        };
        let back = SecretBlock::decode(&block.encode()).unwrap();
        assert_eq!(back.expires, -5);
        assert_eq!(back.b, block.b);
        assert_eq!(back.big_b, block.big_b);
        assert_eq!(back.user, "ünïcode");
        let mut long = block.encode();
        long.push(0);
        assert!(SecretBlock::decode(&long).is_none());
        let encoded = block.encode();
        assert!(SecretBlock::decode(&encoded[..encoded.len() - 1]).is_none());
    }

    #[test]
    fn the_verifier_debug_output_is_redacted() {
        let v = make_verifier(POOL, USER, PASSWORD);
        assert_eq!(format!("{v:?}"), "Verifier(<redacted>)");
    }

    proptest! {
        #[test]
        fn arbitrary_srp_a_never_panics(a in ".{0,1100}|[0-9a-fA-F]{0,1100}") {
            let m = master();
            let v = Verifier { salt: vec![1; 16], verifier: vec![2; 384] };
            let _ = start(&m, POOL, USER, &v, &a, NOW);
        }

        #[test]
        fn arbitrary_responses_never_panic(
            block in "[A-Za-z0-9+/=]{0,2000}",
            ts in ".{0,40}",
            claim in ".{0,60}",
        ) {
            let m = master();
            let v = Verifier { salt: vec![1; 16], verifier: vec![2; 384] };
            prop_assert!(verify(&m, POOL, USER, &v, &block, &ts, &claim, NOW).is_err());
        }

        #[test]
        fn pad_matches_the_clients_pad_hex(bytes in proptest::collection::vec(any::<u8>(), 0..48)) {
            let n = BigUint::from_bytes_be(&bytes);
            prop_assert_eq!(hex::encode(pad(&n)), pad_hex(&n));
        }
    }

    /// The real client library: pycognito's AWSSRP, offline (tests/srp_client.py).
    fn pycognito_sign_in(
        python: &str,
        verifier: &Verifier,
        password: &str,
    ) -> Result<(), SrpError> {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/srp_client.py");
        let mut child = Command::new(python)
            .args([script, POOL, USER, password])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("run tests/srp_client.py");
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let first: serde_json::Value = serde_json::from_str(&line).expect("SRP_A line");
        let srp_a = first["SRP_A"].as_str().unwrap();

        let master = master();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let started = Instant::now();
        let ch = start(&master, POOL, USER, verifier, srp_a, now).unwrap();
        let start_time = started.elapsed();
        let challenge = serde_json::json!({
            "SALT": ch.salt,
            "SRP_B": ch.srp_b,
            "SECRET_BLOCK": ch.secret_block,
            "USER_ID_FOR_SRP": USER,
            "USERNAME": USER,
        });
        writeln!(stdin, "{challenge}").unwrap();
        drop(stdin);
        line.clear();
        stdout.read_line(&mut line).unwrap();
        assert!(child.wait().unwrap().success());
        let answer: serde_json::Value = serde_json::from_str(&line).expect("claim line");
        let timestamp = answer["TIMESTAMP"].as_str().unwrap();
        let claim = answer["PASSWORD_CLAIM_SIGNATURE"].as_str().unwrap();
        assert!(is_cognito_timestamp(timestamp), "{timestamp}");
        let started = Instant::now();
        let verdict = verify(
            &master,
            POOL,
            USER,
            verifier,
            &ch.secret_block,
            timestamp,
            claim,
            now,
        );
        println!(
            "pycognito ({timestamp}): start {start_time:?}, verify {:?}",
            started.elapsed()
        );
        verdict
    }

    #[test]
    fn pycognito_signs_in_with_the_right_password_only() {
        let Some(python) = std::env::var("COGNATE_TEST_PYTHON")
            .ok()
            .filter(|p| !p.is_empty())
        else {
            println!("SKIPPED: set COGNATE_TEST_PYTHON (./test.sh does)");
            return;
        };
        let has_pycognito = Command::new(&python)
            .args(["-c", "import pycognito"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !has_pycognito {
            println!("SKIPPED: pycognito is not installed for {python}");
            return;
        }
        // Several rounds: each draws new a and b, so both padding cases (top bit set or
        // not) come up for A, B, u and S; the salts cover them too, and a salt whose
        // leading zero byte SALT's hex drops.
        let mut salts = vec![[0x8c; 16], [0x3c; 16], [0; 16]];
        salts[2][1] = 0x12;
        for salt in salts {
            let verifier = verifier_with_salt(POOL, USER, PASSWORD, &salt);
            assert_eq!(pycognito_sign_in(&python, &verifier, PASSWORD), Ok(()));
        }
        for _ in 0..6 {
            let verifier = make_verifier(POOL, USER, PASSWORD);
            assert_eq!(pycognito_sign_in(&python, &verifier, PASSWORD), Ok(()));
        }
        let verifier = make_verifier(POOL, USER, PASSWORD);
        assert_eq!(
            pycognito_sign_in(&python, &verifier, "Correct horse 2!"),
            Err(SrpError::Mismatch)
        );
    }
}
