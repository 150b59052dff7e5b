//! OpenID Provider metadata (OIDC Discovery §3) and the JWKS (RFC 7517), per pool.
//! Discovery publishes every endpoint, so a client needs nothing but the issuer. The
//! issuer is the pool's (see `hosts`: its domain, when it has one); the endpoints are
//! where this request reached the pool's routes, so they are reachable the way the
//! document was. Both are served from memory, serialised once per key load, with an
//! `ETag`.

use axum::Router;
use axum::extract::{Path, State};
use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::error::OAuthError;
use crate::host_routing::Via;
use crate::keys::{PoolKeys, Published};
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
    headers: HeaderMap,
) -> Result<Response, OAuthError> {
    let keys = pool_keys(&app, &pool_id).await?;
    Ok(published(&headers, &keys.jwks))
}

async fn openid_configuration(
    State(app): State<AppState>,
    Path(pool_id): Path<String>,
    via: Via,
    headers: HeaderMap,
) -> Result<Response, OAuthError> {
    let keys = pool_keys(&app, &pool_id).await?;
    let issuer = app.issuer(&pool_id).await?;
    let base = via.base(&app, &pool_id).pool;
    let doc = keys.discovery(&format!("{issuer} {base}"), || document(&issuer, &base));
    Ok(published(&headers, &doc))
}

/// The pool's keys, from the in-memory cache: a pool has keys exactly when it exists
/// (they are made with it and dropped from the cache when it is deleted).
async fn pool_keys(app: &AppState, pool_id: &str) -> Result<Arc<PoolKeys>, OAuthError> {
    if !crate::pool::is_pool_id(pool_id) {
        return Err(OAuthError::not_found());
    }
    app.keys
        .pool(&app.store, pool_id)
        .await?
        .ok_or_else(OAuthError::not_found)
}

/// The OpenID Provider metadata of the pool whose issuer is `issuer`, with its
/// endpoints under `base`.
fn document(issuer: &str, base: &str) -> String {
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{base}/oauth2/authorize"),
        "token_endpoint": format!("{base}/oauth2/token"),
        "userinfo_endpoint": format!("{base}/oauth2/userInfo"),
        "revocation_endpoint": format!("{base}/oauth2/revoke"),
        "end_session_endpoint": format!("{base}/logout"),
        "jwks_uri": format!("{base}/.well-known/jwks.json"),
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
    })
    .to_string()
}

/// `doc` with its `ETag`, or `304 Not Modified` when the client already has it
/// (RFC 9110 §13.1.2: `If-None-Match` is a list of tags, or `*`).
fn published(request: &HeaderMap, doc: &Published) -> Response {
    let fresh = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t.as_bytes() == doc.etag.as_bytes());
    let mut res = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        doc.body.clone().into_response()
    };
    let h = res.headers_mut();
    if !fresh {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE));
    h.insert(header::ETAG, doc.etag.clone());
    res
}
