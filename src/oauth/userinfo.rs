//! `/oauth2/userInfo` (OIDC Core §5.3): a Bearer access token of this pool, not
//! expired, not revoked (its sign-in family is checked through `origin_jti`, and must
//! still be at the user's credential version), for a user who still exists and may sign
//! in.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;

use super::token::{no_store, split_scopes};
use crate::error::OAuthError;
use crate::state::{AppState, Inner};
use crate::tokens::claims;

pub fn routes() -> Router<AppState> {
    Router::new().route("/{pool_id}/oauth2/userInfo", get(userinfo).post(userinfo))
}

async fn userinfo(
    State(app): State<AppState>,
    Path(pool_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, OAuthError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| OAuthError::invalid_token("a Bearer access token is required"))?;
    let claims = verify_access_token(&app, &pool_id, token.trim()).await?;
    let refused = || OAuthError::invalid_token("the access token is invalid, expired or revoked");
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .ok_or_else(refused)?;
    let user = app
        .store
        .user_by_id(&pool_id, sub)
        .await?
        .filter(|u| u.can_sign_in())
        .ok_or_else(refused)?;
    let scopes = split_scopes(
        claims
            .get("scope")
            .and_then(Value::as_str)
            .unwrap_or_default(),
    );
    // The user's claims: never cached (errors already say so, OAuthError).
    Ok(no_store(
        axum::Json(claims::userinfo(&user, &scopes)).into_response(),
    ))
}

/// Verifies an access token of `pool_id` and that its sign-in was not revoked, nor
/// overtaken by a change of the user's credentials.
pub async fn verify_access_token(
    app: &Inner,
    pool_id: &str,
    token: &str,
) -> Result<Value, OAuthError> {
    let refused = || OAuthError::invalid_token("the access token is invalid, expired or revoked");
    let claims = verify_jwt(app, pool_id, token).await?.ok_or_else(refused)?;
    if claims.get("token_use").and_then(Value::as_str) != Some("access") {
        return Err(refused());
    }
    let origin = claims
        .get("origin_jti")
        .and_then(Value::as_str)
        .ok_or_else(refused)?;
    match app.store.family(origin).await? {
        Some(f) if !f.is_revoked() && f.pool_id == pool_id => Ok(claims),
        _ => Err(refused()),
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

/// Verifies a JWT signed by `pool_id`. A `kid` this instance has not loaded may come from
/// a key another instance just created, so the keys are reloaded once before refusing.
pub async fn verify_jwt(
    app: &Inner,
    pool_id: &str,
    token: &str,
) -> Result<Option<Value>, OAuthError> {
    if !crate::pool::is_pool_id(pool_id) {
        return Ok(None);
    }
    let issuer = app.issuer(pool_id);
    let now = app.clock.now();
    // A kid this instance does not know yet may come from a rotation elsewhere.
    let Some(kid) = jsonwebtoken::decode_header(token).ok().and_then(|h| h.kid) else {
        return Ok(None);
    };
    let Some(keys) = app.keys.pool_for_kid(&app.store, pool_id, &kid).await? else {
        return Ok(None);
    };
    Ok(keys.verify(token, &issuer, now))
}
