//! Setting a password: the argon2id hash for password sign-ins and, in pools that
//! allow SRP (the default), the SRP verifier Cognito's `USER_SRP_AUTH` needs, sealed
//! with the master key. The trade-off: a verifier is a second, password-equivalent
//! secret at rest (sealed, never returned); a pool that does not need SRP clients can
//! turn it off (`pool update --allow-srp false`) and keep only the argon2 hash.
//!
//! The SRP identity (Cognito's `USER_ID_FOR_SRP`) is the username's lookup key
//! ([`srp_identity`]), a function of what the caller typed, so the challenge names a
//! user the same way whether or not the account exists (`PreventUserExistenceErrors`).
//! A name with no verifier (no such user, no password, SRP off) gets a stand-in
//! ([`stand_in_verifier`]) with a salt that is stable per name, as a real one is.

use super::srp::{self, Verifier};
use crate::crypto::MasterKey;
use crate::error::AppError;
use crate::pool::{PasswordPolicy, Pool};
use crate::services::Services;
use crate::store::PasswordChange;

use super::{User, UserStatus, password, username_key};

fn context(user_id: &str) -> String {
    format!("srp:{user_id}")
}

/// Set on the sealed length byte of verifiers made for [`srp_identity`]; verifiers
/// sealed before it existed were made for the username as stored.
const KEYED_IDENTITY: u8 = 0x80;

/// The identity SRP hashes for `username`: its lookup key (NFKC, lower case), so any
/// spelling that finds the user, and a name that finds none, are named alike.
pub fn srp_identity(username: &str) -> String {
    username_key(username)
}

/// Seals a verifier made for [`srp_identity`] as `flag | salt length, salt, verifier`.
fn seal(master: &MasterKey, user_id: &str, v: &Verifier) -> Vec<u8> {
    let mut plain = vec![KEYED_IDENTITY | v.salt.len() as u8];
    plain.extend_from_slice(&v.salt);
    plain.extend_from_slice(&v.verifier);
    master.seal(&context(user_id), &plain)
}

/// A verifier and the identity it was made for.
pub struct SrpCredential {
    pub verifier: Verifier,
    /// `USER_ID_FOR_SRP`: [`srp_identity`] of the username, or for a verifier sealed
    /// before that rule the username as stored (until the password is next set).
    pub identity: String,
}

/// A user's SRP verifier, if the pool keeps one for it.
pub async fn srp_verifier(app: &Services, user: &User) -> Result<Option<SrpCredential>, AppError> {
    let Some(sealed) = app.store.srp_verifier(&user.user_id).await? else {
        return Ok(None);
    };
    let plain = app
        .keys
        .master()
        .open(&context(&user.user_id), &sealed)
        .map_err(|e| anyhow::anyhow!("unseal SRP verifier: {e}"))?;
    let (first, rest) = plain
        .split_first()
        .ok_or_else(|| anyhow::anyhow!("empty SRP verifier"))?;
    let len = usize::from(first & !KEYED_IDENTITY);
    let (salt, verifier) = rest.split_at(len.min(rest.len()));
    let identity = if first & KEYED_IDENTITY != 0 {
        srp_identity(&user.username)
    } else {
        user.username.clone()
    };
    Ok(Some(SrpCredential {
        verifier: Verifier {
            salt: salt.to_vec(),
            verifier: verifier.to_vec(),
        },
        identity,
    }))
}

/// The verifier a name without one answers with: a 16-byte salt and a 384-byte value,
/// both derived from the master key, the pool and the identity. Stable per name like a
/// real verifier, unpredictable without the master key, and as cheap to get as a
/// stored one (no exponentiation), so neither the values nor the time tell.
pub fn stand_in_verifier(master: &MasterKey, pool_id: &str, identity: &str) -> Verifier {
    let seed = master.keyed_digest(
        "srp stand-in verifier",
        &[pool_id.as_bytes(), identity.as_bytes()],
    );
    let mut out = [0u8; 16 + 384];
    hkdf::Hkdf::<sha2::Sha256>::from_prk(&seed)
        .expect("a 32-byte PRK is valid")
        .expand(b"salt and verifier", &mut out)
        .expect("400 bytes is a valid HKDF-SHA256 length");
    let (salt, verifier) = out.split_at(16);
    Verifier {
        salt: salt.to_vec(),
        verifier: verifier.to_vec(),
    }
}

/// Sets `password` (already checked against the policy) and `status`, whatever the
/// user's credentials are now (an administrator): every sign-in, hosted session and
/// pending challenge begun with the old password ends.
pub async fn set_password(
    app: &Services,
    user: &User,
    password: &str,
    status: UserStatus,
) -> Result<(), AppError> {
    // Unconditional: nothing is written only when the user is gone (deleted meanwhile).
    match write_password(app, user, password, status, None, None).await? {
        Some(_) => Ok(()),
        None => Err(AppError::NotFound("user")),
    }
}

/// Replaces the password of a user who proved the current one at
/// `user.credential_version` (a pending challenge, or `ChangePassword`'s caller), only
/// if no other change came in between. The sign-in `keep_sign_in` survives; every other
/// one ends. The new credential version, or `None` (nothing changed) when the
/// credentials changed since they were proven.
pub async fn replace_password(
    app: &Services,
    user: &User,
    password: &str,
    status: UserStatus,
    keep_sign_in: Option<&str>,
) -> Result<Option<i64>, AppError> {
    let expected = Some(user.credential_version);
    write_password(app, user, password, status, expected, keep_sign_in).await
}

/// How many replaced passwords to keep for `policy`'s `PasswordHistorySize`: the size
/// counts the current password, which is the user's own hash.
pub fn history_keep(policy: &PasswordPolicy) -> i64 {
    i64::from(policy.password_history_size.saturating_sub(1))
}

/// Whether `password` repeats one of the user's last `PasswordHistorySize` passwords
/// of `pool` (the current one first, then the replaced ones kept). Each is an argon2
/// verification, so callers ask only once the user has proven who they are (a
/// challenge, the current password, a reset code): the answer tells of past passwords.
pub async fn is_reused(
    app: &Services,
    pool: &Pool,
    user: &User,
    password: &str,
) -> Result<bool, AppError> {
    let policy = &pool.settings.password_policy;
    if policy.password_history_size == 0 {
        return Ok(false);
    }
    if user.password_hash.is_some()
        && password::verify(user.password_hash.as_deref(), password).await
    {
        return Ok(true);
    }
    for old in app
        .store
        .password_history(&user.user_id, history_keep(policy))
        .await?
    {
        if password::verify(Some(&old), password).await {
            return Ok(true);
        }
    }
    Ok(false)
}

/// One place writes passwords: the argon2 hash and the SRP verifier together, in the
/// statement that bumps the credential version (and keeps the replaced hash for the
/// pool's password history).
async fn write_password(
    app: &Services,
    user: &User,
    password: &str,
    status: UserStatus,
    expected_version: Option<i64>,
    keep_sign_in: Option<&str>,
) -> Result<Option<i64>, AppError> {
    let hash = password::hash(password).await?;
    let srp = sealed_srp_verifier(app, user, password).await?;
    let pool = app
        .store
        .pool_by_id(&user.pool_id)
        .await?
        .ok_or(AppError::NotFound("user pool"))?;
    let change = PasswordChange {
        history_keep: history_keep(&pool.settings.password_policy),
        user_id: &user.user_id,
        password_hash: &hash,
        srp_verifier: srp.as_deref(),
        status,
        expected_version,
        keep_sign_in,
    };
    Ok(app.store.update_password(&change, app.clock.now()).await?)
}

/// Replaces an imported password hash (bcrypt, scrypt, PBKDF2, other argon2
/// parameters) with the pool's argon2id once `password` was proven against it, and
/// stores the SRP verifier it could not give. A change of the password meanwhile wins.
pub async fn upgrade_hash(app: &Services, user: &User, password: &str) -> Result<(), AppError> {
    let Some(old) = user
        .password_hash
        .as_deref()
        .filter(|h| !super::password::is_current(h))
    else {
        return Ok(());
    };
    let new = super::password::hash(password).await?;
    let srp = sealed_srp_verifier(app, user, password).await?;
    if app
        .store
        .upgrade_password_hash(&user.user_id, old, &new, srp.as_deref())
        .await?
    {
        tracing::info!(pool_id = %user.pool_id, user_id = %user.user_id, "imported password hash replaced with argon2id");
    }
    Ok(())
}

/// Stores (or clears) the SRP verifier for a password just set.
pub async fn store_srp_verifier(
    app: &Services,
    user: &User,
    password: &str,
) -> Result<(), AppError> {
    let sealed = sealed_srp_verifier(app, user, password).await?;
    app.store
        .set_srp_verifier(&user.user_id, sealed.as_deref())
        .await?;
    Ok(())
}

/// The sealed SRP verifier to store with a new password; `None` where the pool keeps
/// none (SRP turned off).
pub async fn sealed_srp_verifier(
    app: &Services,
    user: &User,
    password: &str,
) -> Result<Option<Vec<u8>>, AppError> {
    let pool = app
        .store
        .pool_by_id(&user.pool_id)
        .await?
        .ok_or(AppError::NotFound("user pool"))?;
    if !pool.settings.allow_srp {
        return Ok(None);
    }
    let (pool_id, identity, password) = (
        user.pool_id.clone(),
        srp_identity(&user.username),
        password.to_string(),
    );
    let v = tokio::task::spawn_blocking(move || srp::make_verifier(&pool_id, &identity, &password))
        .await
        .map_err(|e| anyhow::anyhow!("SRP verifier: {e}"))?;
    Ok(Some(seal(app.keys.master(), &user.user_id, &v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stand_in_verifier_is_stable_per_pool_and_name_and_shaped_like_a_real_one() {
        let master = MasterKey::from_base64(&MasterKey::generate_base64()).unwrap();
        let v = stand_in_verifier(&master, "us-east-1_Pool", "alice");
        assert_eq!(v, stand_in_verifier(&master, "us-east-1_Pool", "alice"));
        assert_ne!(v, stand_in_verifier(&master, "us-east-1_Pool", "alicf"));
        assert_ne!(v, stand_in_verifier(&master, "us-east-1_Other", "alice"));
        let other = MasterKey::from_base64(&MasterKey::generate_base64()).unwrap();
        assert_ne!(v, stand_in_verifier(&other, "us-east-1_Pool", "alice"));
        let real = srp::make_verifier("us-east-1_Pool", "alice", "Correct-horse-9");
        assert_eq!(v.salt.len(), real.salt.len());
        assert_eq!(v.verifier.len(), 384);
    }

    #[test]
    fn the_srp_identity_is_the_lookup_key() {
        assert_eq!(srp_identity("Alice"), "alice");
        assert_eq!(srp_identity("ＡＬＩＣＥ"), "alice");
        assert_eq!(srp_identity(&srp_identity("Ǆemal")), srp_identity("Ǆemal"));
    }
}
