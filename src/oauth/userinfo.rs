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

use super::token::no_store;
use crate::error::OAuthError;
use crate::state::AppState;
use crate::tokens::split_scopes;
use crate::tokens::{claims, verify};

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
    let refused = || OAuthError::invalid_token("the access token is invalid, expired or revoked");
    let claims = match verify::access_token(&app, &pool_id, token.trim()).await {
        Ok(claims) => claims,
        Err(verify::Unverified::Refused) => return Err(refused()),
        Err(verify::Unverified::Internal(e)) => return Err(e.into()),
    };
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
    // What the token's client may read (`ReadAttributes`): a client deleted since has
    // none left to read with.
    let client_id = claims
        .get("client_id")
        .and_then(Value::as_str)
        .ok_or_else(refused)?;
    let client = app
        .store
        .client_by_id(&pool_id, client_id)
        .await?
        .ok_or_else(refused)?;
    let schema = app.store.schema(&pool_id).await?;
    let body = claims::userinfo(&user, &scopes, &client.read_attributes, &schema);
    // The user's claims: never cached (errors already say so, OAuthError).
    Ok(no_store(axum::Json(body).into_response()))
}
