//! The Google stand-in, which is also the generic OpenID Connect provider: discovery
//! (OIDC Discovery §3), JWKS, the authorization endpoint, a token endpoint returning an
//! RS256 ID token (OIDC Core §3.1.3.3), and userinfo (OIDC Core §5.3).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::memory::{Grant, Issued, TOKEN_TTL};
use super::token::{self, Refusal, no_store};
use super::{Inner, Provider, StandIn, consent};
use crate::error::OAuthError;

const GOOGLE: Provider = Provider::Google;

pub(super) fn routes() -> Router<StandIn> {
    Router::new()
        .merge(consent::routes(GOOGLE, "/google/authorize"))
        .route("/google/.well-known/openid-configuration", get(discovery))
        .route("/google/jwks", get(jwks))
        .route("/google/token", post(post_token))
        .route("/google/userinfo", get(userinfo).post(userinfo))
}

/// The provider metadata; what `openidconnect`'s discovery requires, plus what a
/// client may branch on (auth methods, PKCE).
async fn discovery(State(s): State<StandIn>) -> Json<Value> {
    let url = |path: &str| s.url(GOOGLE, path);
    Json(json!({
        "issuer": url(""),
        "authorization_endpoint": url("/authorize"),
        "token_endpoint": url("/token"),
        "userinfo_endpoint": url("/userinfo"),
        "jwks_uri": url("/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": ["authorization_code"],
        "claims_supported": [
            "aud", "azp", "email", "email_verified", "exp", "family_name", "given_name",
            "iat", "iss", "name", "nonce", "sub"
        ],
    }))
}

async fn jwks(State(s): State<StandIn>) -> Json<Value> {
    Json(s.keys.jwks().clone())
}

async fn post_token(State(s): State<StandIn>, headers: HeaderMap, body: String) -> Response {
    match exchange(&s, &headers, &body) {
        Ok(body) => no_store(body),
        Err(refusal) => OAuthError::from(refusal).into_response(),
    }
}

/// Redeems a code for an access token and an ID token.
fn exchange(s: &Inner, headers: &HeaderMap, body: &str) -> Result<Value, Refusal> {
    let params = token::params(None, body)?;
    token::require_code_grant(&params)?;
    let client_id = token::authenticate(headers, &params)?;
    let grant = token::redeem(&s.memory, GOOGLE, &params, &client_id)?;
    let access_token = s
        .memory
        .insert_token("ya29.", Issued::from_grant(&grant), TOKEN_TTL);
    // Google sends an ID token for any of its sign-in scopes; the stand-in always does.
    let mut body = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": TOKEN_TTL,
        "id_token": id_token(s, &grant, &access_token),
    });
    if !grant.scope.is_empty() {
        body["scope"] = grant.scope.into();
    }
    Ok(body)
}

/// The signed ID token, with the grant's quirk applied.
fn id_token(s: &Inner, grant: &Grant, access_token: &str) -> String {
    // OIDC Core §3.1.3.6: the left half of SHA-256 of the access token.
    let at_hash = URL_SAFE_NO_PAD.encode(&Sha256::digest(access_token.as_bytes())[..16]);
    let mut claims = profile(&Issued::from_grant(grant));
    claims.insert("azp".into(), grant.client_id.as_str().into());
    claims.insert("at_hash".into(), at_hash.into());
    token::id_token(s, s.url(GOOGLE, ""), grant, claims)
}

/// The claims Google releases for the scopes granted: `sub` always, the email with
/// `email`, the names with `profile`.
fn profile(issued: &Issued) -> Map<String, Value> {
    let who = issued.identity;
    let mut claims = Map::new();
    claims.insert("sub".into(), who.google_sub.into());
    if issued.has_scope("email")
        && let Some(email) = issued.email()
    {
        claims.insert("email".into(), email.into());
        claims.insert("email_verified".into(), who.email_verified.into());
    }
    if issued.has_scope("profile") {
        claims.insert("name".into(), who.name.into());
        claims.insert("given_name".into(), who.given_name.into());
        claims.insert("family_name".into(), who.family_name.into());
    }
    claims
}

/// `GET`/`POST` userinfo with `Authorization: Bearer`.
async fn userinfo(State(s): State<StandIn>, headers: HeaderMap) -> Response {
    match token::bearer(&headers).and_then(|t| s.memory.token(GOOGLE, t)) {
        Some(issued) => no_store(Value::Object(profile(&issued))),
        None => OAuthError::invalid_token("the access token is missing, unknown or expired")
            .into_response(),
    }
}
