//! OpenID Provider metadata (OIDC Discovery §3) and the JWKS (RFC 7517), per pool.
//! Discovery publishes every endpoint, so a client needs nothing but the issuer.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::error::OAuthError;
use crate::state::AppState;

/// Clients may cache both documents for an hour; key rotation keeps old keys published
/// longer than that.
const CACHE: &str = "public, max-age=3600";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/{pool_id}/.well-known/openid-configuration",
            get(openid_configuration),
        )
        .route("/{pool_id}/.well-known/jwks.json", get(jwks))
}

async fn jwks(
    State(app): State<AppState>,
    Path(pool_id): Path<String>,
) -> Result<Response, OAuthError> {
    if !crate::pool::is_pool_id(&pool_id) {
        return Err(OAuthError::not_found());
    }
    let keys = app
        .keys
        .pool(&app.store, &pool_id)
        .await?
        .ok_or_else(OAuthError::not_found)?;
    Ok(cached("application/json", keys.jwks.to_string()))
}

async fn openid_configuration(
    State(app): State<AppState>,
    Path(pool_id): Path<String>,
) -> Result<Response, OAuthError> {
    if !crate::pool::is_pool_id(&pool_id) || app.store.pool_by_id(&pool_id).await?.is_none() {
        return Err(OAuthError::not_found());
    }
    let issuer = app.issuer(&pool_id);
    let doc = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth2/authorize"),
        "token_endpoint": format!("{issuer}/oauth2/token"),
        "userinfo_endpoint": format!("{issuer}/oauth2/userInfo"),
        "revocation_endpoint": format!("{issuer}/oauth2/revoke"),
        "end_session_endpoint": format!("{issuer}/logout"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "phone", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "cognito:username",
            "cognito:groups", "email", "email_verified", "phone_number", "phone_number_verified",
            "name", "given_name", "family_name", "preferred_username"
        ],
    });
    Ok(cached("application/json", doc.to_string()))
}

fn cached(content_type: &'static str, body: String) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE));
    res
}
