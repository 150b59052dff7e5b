//! The Login with Amazon stand-in: the `ap/oa` consent page, the `auth/o2/token`
//! exchange (RFC 6749 errors) and the `user/profile` endpoint.

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::memory::{Issued, TOKEN_TTL};
use super::token::{self, Refusal, no_store};
use super::{Inner, Provider, StandIn, consent};
use crate::crypto::random_token;
use crate::error::OAuthError;

const AMAZON: Provider = Provider::Amazon;

pub(super) fn routes() -> Router<StandIn> {
    Router::new()
        .merge(consent::routes(AMAZON, "/amazon/ap/oa"))
        .route("/amazon/auth/o2/token", post(post_token))
        .route("/amazon/user/profile", get(profile))
}

async fn post_token(State(s): State<StandIn>, headers: HeaderMap, body: String) -> Response {
    match exchange(&s, &headers, &body) {
        Ok(body) => no_store(body),
        Err(refusal) => OAuthError::from(refusal).into_response(),
    }
}

/// Redeems a code. The refresh token has Amazon's shape but cannot be redeemed: the
/// stand-in only speaks `authorization_code`.
fn exchange(s: &Inner, headers: &HeaderMap, body: &str) -> Result<Value, Refusal> {
    let params = token::params(None, body)?;
    token::require_code_grant(&params)?;
    let client_id = token::authenticate(headers, &params)?;
    let grant = token::redeem(&s.memory, AMAZON, &params, &client_id)?;
    let access_token = s
        .memory
        .insert_token("Atza|", Issued::from_grant(&grant), TOKEN_TTL);
    Ok(json!({
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": TOKEN_TTL,
        "refresh_token": format!("Atzr|{}", random_token(32)),
    }))
}

/// `GET user/profile` with a bearer token: `user_id`, `name`, and `email` when the
/// identity has one.
async fn profile(State(s): State<StandIn>, headers: HeaderMap) -> Response {
    let Some(issued) = token::bearer(&headers).and_then(|t| s.memory.token(AMAZON, t)) else {
        return OAuthError::invalid_token("the access token is missing, unknown or expired")
            .into_response();
    };
    let who = issued.identity;
    let mut out = Map::new();
    out.insert("user_id".into(), who.amazon_user_id.into());
    out.insert("name".into(), who.name.into());
    if let Some(email) = issued.email() {
        out.insert("email".into(), email.into());
    }
    no_store(Value::Object(out))
}
