//! Verifying the pool's own JWTs: an access token (signature, issuer, expiry,
//! `token_use`, and that its sign-in family is neither revoked nor overtaken by a change
//! of the user's credentials), and any of the pool's JWTs by signature alone.

use serde_json::Value;

use crate::error::AppError;
use crate::services::Services;

/// Why a token was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum Unverified {
    /// Malformed, forged, expired, another pool's, or its sign-in is over.
    #[error("the token is invalid, expired or revoked")]
    Refused,
    #[error(transparent)]
    Internal(#[from] AppError),
}

impl From<crate::store::StoreError> for Unverified {
    fn from(e: crate::store::StoreError) -> Self {
        Unverified::Internal(e.into())
    }
}

/// Verifies an access token of `pool_id` and that its sign-in was not revoked, nor
/// overtaken by a change of the user's credentials; its claims.
pub async fn access_token(app: &Services, pool_id: &str, token: &str) -> Result<Value, Unverified> {
    let claims = jwt(app, pool_id, token).await?.ok_or(Unverified::Refused)?;
    if claims.get("token_use").and_then(Value::as_str) != Some("access") {
        return Err(Unverified::Refused);
    }
    let origin = claims
        .get("origin_jti")
        .and_then(Value::as_str)
        .ok_or(Unverified::Refused)?;
    match app.store.family(origin).await? {
        Some(f) if !f.is_revoked() && f.pool_id == pool_id => Ok(claims),
        _ => Err(Unverified::Refused),
    }
}

/// A JWT's claims, read without any verification: only to find which pool to verify
/// it against.
pub fn peek_claims(token: &str) -> Option<Value> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Verifies a JWT signed by `pool_id`; its claims, or `None` for one that is not. A
/// `kid` this instance has not loaded may come from a key another instance just
/// created, so the keys are reloaded once before refusing.
pub async fn jwt(app: &Services, pool_id: &str, token: &str) -> Result<Option<Value>, AppError> {
    if !crate::pool::is_pool_id(pool_id) {
        return Ok(None);
    }
    let issuers = app.accepted_issuers(pool_id).await?;
    let now = app.clock.now();
    let Some(kid) = jsonwebtoken::decode_header(token).ok().and_then(|h| h.kid) else {
        return Ok(None);
    };
    let Some(keys) = app.keys.pool_for_kid(&app.store, pool_id, &kid).await? else {
        return Ok(None);
    };
    Ok(keys.verify(token, &issuers, now))
}
