//! Setting a password: the argon2id hash for password sign-ins and, in pools that
//! allow SRP (the default), the SRP verifier Cognito's `USER_SRP_AUTH` needs, sealed
//! with the master key. The trade-off: a verifier is a second, password-equivalent
//! secret at rest (sealed, never returned); a pool that does not need SRP clients can
//! turn it off (`pool update --allow-srp false`) and keep only the argon2 hash.

use crate::cognito_api::srp::{self, Verifier};
use crate::crypto::MasterKey;
use crate::error::AppError;
use crate::state::Inner;

use super::{User, UserStatus, password};

fn context(user_id: &str) -> String {
    format!("srp:{user_id}")
}

/// Seals a verifier as `salt length, salt, verifier`.
fn seal(master: &MasterKey, user_id: &str, v: &Verifier) -> Vec<u8> {
    let mut plain = vec![v.salt.len() as u8];
    plain.extend_from_slice(&v.salt);
    plain.extend_from_slice(&v.verifier);
    master.seal(&context(user_id), &plain)
}

/// A user's SRP verifier, if the pool keeps one for it.
pub async fn srp_verifier(app: &Inner, user: &User) -> Result<Option<Verifier>, AppError> {
    let Some(sealed) = app.store.srp_verifier(&user.user_id).await? else {
        return Ok(None);
    };
    let plain = app
        .keys
        .master()
        .open(&context(&user.user_id), &sealed)
        .map_err(|e| anyhow::anyhow!("unseal SRP verifier: {e}"))?;
    let (len, rest) = plain
        .split_first()
        .ok_or_else(|| anyhow::anyhow!("empty SRP verifier"))?;
    let (salt, verifier) = rest.split_at((*len as usize).min(rest.len()));
    Ok(Some(Verifier {
        salt: salt.to_vec(),
        verifier: verifier.to_vec(),
    }))
}

/// Sets `password` (already checked against the policy) and `status`.
pub async fn set_password(
    app: &Inner,
    user: &User,
    password: &str,
    status: UserStatus,
) -> Result<(), AppError> {
    let hash = password::hash(password).await?;
    app.store
        .update_password(&user.user_id, &hash, status, app.clock.now())
        .await?;
    store_srp_verifier(app, user, password).await
}

/// Stores (or clears) the SRP verifier for a password just set.
pub async fn store_srp_verifier(app: &Inner, user: &User, password: &str) -> Result<(), AppError> {
    let sealed = sealed_srp_verifier(app, user, password).await?;
    app.store
        .set_srp_verifier(&user.user_id, sealed.as_deref())
        .await?;
    Ok(())
}

/// The sealed SRP verifier to store with a new password; `None` where the pool keeps
/// none (SRP turned off).
pub async fn sealed_srp_verifier(
    app: &Inner,
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
    let (pool_id, username, password) = (
        user.pool_id.clone(),
        user.username.clone(),
        password.to_string(),
    );
    let v = tokio::task::spawn_blocking(move || srp::make_verifier(&pool_id, &username, &password))
        .await
        .map_err(|e| anyhow::anyhow!("SRP verifier: {e}"))?;
    Ok(Some(seal(app.keys.master(), &user.user_id, &v)))
}
