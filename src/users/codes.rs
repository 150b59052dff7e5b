//! One-time codes for confirming a sign-up, resetting a password and verifying an
//! email address: six random digits, stored as a keyed digest with the user id (a
//! reader of the database cannot try the million codes offline), single-use, expiring,
//! and dead after a few attempts (then a new code must be requested). An attempt is
//! counted in the same statement that checks that one is left, so concurrent guesses on
//! any number of instances get no more than the limit.

use rand::Rng;

use crate::crypto::{Digests, Secret, ct_eq, random_token};
pub use crate::model::users::PendingCode;
use crate::store::{Store, StoreError};

/// Attempts a code allows: the fifth wrong one kills it.
pub const MAX_ATTEMPTS: i64 = 5;

/// What a code is for, and how long it lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Confirming a sign-up: 24 hours.
    SignUp,
    /// Resetting a password: 1 hour.
    Reset,
    /// Verifying a user's (changed) email address: 24 hours, as Cognito's.
    VerifyEmail,
    /// A sign-in's second factor by e-mail (`EMAIL_OTP`): 5 minutes.
    Mfa,
}

impl Purpose {
    /// The purpose as stored (`user_codes.purpose`).
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::SignUp => "signup",
            Purpose::Reset => "reset",
            Purpose::VerifyEmail => "verify_email",
            Purpose::Mfa => "mfa",
        }
    }

    /// Seconds a code for this purpose lives.
    pub fn lifetime(self) -> i64 {
        match self {
            Purpose::SignUp | Purpose::VerifyEmail => 24 * 3600,
            Purpose::Reset => 3600,
            Purpose::Mfa => 300,
        }
    }
}

/// Why a presented code was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeError {
    Mismatch,
    Expired,
    TooManyAttempts,
}

/// A freshly issued code, and for sign-ups a one-click link token.
pub struct Issued {
    pub code: String,
    pub link_token: Option<String>,
}

fn digest(digests: &Digests, user_id: &str, code: &str) -> String {
    digests.secret(Secret::UserCode, &format!("{user_id}:{code}"))
}

/// Shows the purpose only: a code's digest is not for logs.
impl std::fmt::Debug for PendingCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingCode")
            .field("purpose", &self.purpose)
            .finish_non_exhaustive()
    }
}

/// A new code for a user not stored yet: what to mail, and what to store.
pub fn prepare(
    digests: &Digests,
    user_id: &str,
    purpose: Purpose,
    now: i64,
) -> (Issued, PendingCode) {
    let code = format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000));
    let link_token = (purpose == Purpose::SignUp).then(|| random_token(32));
    let pending = PendingCode {
        purpose: purpose.as_str(),
        code_hash: digest(digests, user_id, &code),
        link_hash: link_token.as_deref().map(|t| link_digest(digests, t)),
        expires_at: now + purpose.lifetime(),
    };
    (Issued { code, link_token }, pending)
}

/// Issues a new code for `user_id`, to be sent to `destination`, replacing any
/// earlier one.
pub async fn issue(
    store: &Store,
    digests: &Digests,
    user_id: &str,
    purpose: Purpose,
    destination: &str,
    now: i64,
) -> Result<Issued, StoreError> {
    let code = format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000));
    let link_token = (purpose == Purpose::SignUp).then(|| random_token(32));
    let link_hash = link_token.as_deref().map(|t| link_digest(digests, t));
    store
        .replace_code(
            user_id,
            purpose.as_str(),
            &digest(digests, user_id, &code),
            link_hash.as_deref(),
            destination,
            now,
            now + purpose.lifetime(),
        )
        .await?;
    Ok(Issued { code, link_token })
}

/// Checks a presented code without consuming it: its digest, with which the caller
/// consumes it in the same transaction as the change the code authorises. Every
/// presentation counts as an attempt (a right one is then consumed).
pub async fn check(
    store: &Store,
    digests: &Digests,
    user_id: &str,
    purpose: Purpose,
    code: &str,
    now: i64,
) -> Result<Result<String, CodeError>, StoreError> {
    Ok(attempt(store, digests, user_id, purpose, code, now)
        .await?
        .unwrap_or(Err(CodeError::Mismatch)))
}

/// Checks and uses up a code, for a purpose that authorises nothing else to write
/// (the sign-in's second factor): a right code can be used only once, by one caller.
pub async fn take(
    store: &Store,
    digests: &Digests,
    user_id: &str,
    purpose: Purpose,
    code: &str,
    now: i64,
) -> Result<Result<(), CodeError>, StoreError> {
    Ok(
        match check(store, digests, user_id, purpose, code, now).await? {
            Ok(digest)
                if store
                    .delete_code(user_id, purpose.as_str(), &digest)
                    .await? =>
            {
                Ok(())
            }
            Ok(_) => Err(CodeError::Mismatch),
            Err(e) => Err(e),
        },
    )
}

/// Checks a code presented for the account named `name` (`PreventUserExistenceErrors`):
/// against the code of `user_id` (the user `name` found, if that user may use such a
/// code) when it has one, otherwise against the name's stand-in, which refuses it the
/// way a real code refuses a wrong one. So an unknown name, and a user that was sent no
/// code, answer exactly as an account with a live code would to the same wrong guesses.
#[expect(
    clippy::too_many_arguments,
    reason = "the store and digest handles, then the question"
)]
pub async fn check_for_name(
    store: &Store,
    digests: &Digests,
    pool_id: &str,
    name: &str,
    user_id: Option<&str>,
    purpose: Purpose,
    code: &str,
    now: i64,
) -> Result<Result<String, CodeError>, StoreError> {
    if let Some(user_id) = user_id
        && let Some(checked) = attempt(store, digests, user_id, purpose, code, now).await?
    {
        return Ok(checked);
    }
    Ok(Err(
        check_stand_in(store, pool_id, name, purpose, now).await?
    ))
}

/// Counts an attempt at the code of `user_id` and checks it: `None` if the user has no
/// such code. In Cognito's order: no attempt left, expired, then the digest compared
/// in constant time; the attempt that uses up the last one answers `TooManyAttempts`.
async fn attempt(
    store: &Store,
    digests: &Digests,
    user_id: &str,
    purpose: Purpose,
    code: &str,
    now: i64,
) -> Result<Option<Result<String, CodeError>>, StoreError> {
    let Some(row) = store
        .attempt_code(user_id, purpose.as_str(), MAX_ATTEMPTS)
        .await?
    else {
        // Nothing counted: no code, or one with no attempt left.
        return Ok(store
            .user_code(user_id, purpose.as_str())
            .await?
            .map(|_| Err(CodeError::TooManyAttempts)));
    };
    if row.expires_at <= now {
        return Ok(Some(Err(CodeError::Expired)));
    }
    let presented = digest(digests, user_id, code.trim());
    if !ct_eq(presented.as_bytes(), row.code_hash.as_bytes()) {
        return Ok(Some(Err(wrong(row.attempts))));
    }
    Ok(Some(Ok(presented)))
}

/// The refusal of a wrong code after `attempts` were counted.
fn wrong(attempts: i64) -> CodeError {
    if attempts >= MAX_ATTEMPTS {
        CodeError::TooManyAttempts
    } else {
        CodeError::Mismatch
    }
}

/// Where the stand-in code of `name` lives: a `throttles` row whose `failures` is one
/// more than its wrong attempts and whose `blocked_until` is its expiry.
fn stand_in_key(pool_id: &str, name: &str, purpose: Purpose) -> String {
    let name = crate::users::username_key(name).replace('\0', "\\0");
    format!("code:{}:{pool_id}:{name}", purpose.as_str())
}

/// (Re)starts the stand-in code of a name that was just sent no code (an unknown name,
/// or a user that may not have one), as sending a real code restarts that: no wrong
/// attempts yet, expiring after the purpose's lifetime.
pub async fn issue_stand_in(
    store: &Store,
    pool_id: &str,
    name: &str,
    purpose: Purpose,
    now: i64,
) -> Result<(), StoreError> {
    let key = stand_in_key(pool_id, name, purpose);
    store.clear_throttle(&key).await?;
    store.count_failure(&key, now, now).await?;
    store.block_until(&key, now + purpose.lifetime()).await
}

/// Refuses a code presented for a name's stand-in, counted and in the order of a
/// real code's [`attempt`]: no attempt left, expired, else a wrong code. A name that
/// never had a stand-in gets one now.
async fn check_stand_in(
    store: &Store,
    pool_id: &str,
    name: &str,
    purpose: Purpose,
    now: i64,
) -> Result<CodeError, StoreError> {
    let key = stand_in_key(pool_id, name, purpose);
    let counted = store
        .attempt_stand_in(&key, now, now + purpose.lifetime(), MAX_ATTEMPTS)
        .await?;
    Ok(match counted {
        None => CodeError::TooManyAttempts,
        Some((_, expires_at)) if expires_at <= now => CodeError::Expired,
        Some((attempts, _)) => wrong(attempts),
    })
}

/// The stored digest of a one-click sign-up link's token.
pub fn link_digest(digests: &Digests, token: &str) -> String {
    digests.secret(Secret::LinkToken, token)
}
