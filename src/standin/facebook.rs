//! The Facebook stand-in, in the Graph API's shape: the login dialog, the
//! `oauth/access_token` exchange (parameters in the query or the form, as Facebook
//! takes them) and `/me?fields=…`. Errors are Graph API `OAuthException`s.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::memory::Issued;
use super::token::{self, Refusal, no_store};
use super::{Inner, Provider, StandIn, consent};
use crate::oauth::params::Params;

const FACEBOOK: Provider = Provider::Facebook;

/// Facebook's long-lived user tokens last about 60 days; this is the figure it sends.
const TOKEN_TTL: i64 = 5_183_944;

/// Graph API error codes: a bad parameter, and a bad access token.
const BAD_PARAMETER: u16 = 100;
const BAD_TOKEN: u16 = 190;

pub(super) fn routes() -> Router<StandIn> {
    Router::new()
        .merge(consent::routes(FACEBOOK, "/facebook/dialog/oauth"))
        .route(
            "/facebook/oauth/access_token",
            get(access_token).post(access_token),
        )
        .route("/facebook/me", get(me))
}

/// `{"error":{"message":…,"type":"OAuthException","code":…}}` with 400, as the Graph
/// API answers both bad requests and bad tokens.
fn graph_error(code: u16, message: &str) -> Response {
    let body = json!({ "error": { "message": message, "type": "OAuthException", "code": code } });
    (StatusCode::BAD_REQUEST, no_store(body)).into_response()
}

async fn access_token(
    State(s): State<StandIn>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: String,
) -> Response {
    match exchange(&s, query.as_deref(), &headers, &body) {
        Ok(body) => no_store(body),
        Err(refusal) => graph_error(BAD_PARAMETER, refusal.message()),
    }
}

/// Redeems a code; Facebook sends no `grant_type` and issues no ID token here.
fn exchange(
    s: &Inner,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &str,
) -> Result<Value, Refusal> {
    let params = token::params(query, body)?;
    let client_id = token::authenticate(headers, &params)?;
    let grant = token::redeem(&s.memory, FACEBOOK, &params, &client_id)?;
    let access_token = s
        .memory
        .insert_token("EAA", Issued::from_grant(&grant), TOKEN_TTL);
    Ok(json!({
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": TOKEN_TTL,
    }))
}

/// `GET /me?fields=id,name,email` with `access_token=` or a bearer token: the fields
/// asked for that the identity has (`id` always, as the Graph API does). Fields the
/// stand-in does not know are left out rather than refused, so a client asking for
/// e.g. `picture` still works.
async fn me(State(s): State<StandIn>, RawQuery(query): RawQuery, headers: HeaderMap) -> Response {
    let params = match Params::parse(query.as_deref().unwrap_or_default()) {
        Ok(p) => p,
        Err(e) => return graph_error(BAD_PARAMETER, &e),
    };
    let token = params
        .get("access_token")
        .or_else(|| token::bearer(&headers));
    let Some(issued) = token.and_then(|t| s.memory.token(FACEBOOK, t)) else {
        return graph_error(BAD_TOKEN, "Invalid OAuth access token.");
    };
    let who = issued.identity;
    let mut out = Map::new();
    out.insert("id".into(), who.facebook_id.into());
    for field in params.get("fields").unwrap_or("id,name").split(',') {
        let value = match field.trim() {
            "name" => Some(who.name),
            "first_name" => Some(who.given_name),
            "last_name" => Some(who.family_name),
            "email" => issued.email(),
            _ => None,
        };
        if let Some(value) = value {
            out.insert(field.trim().into(), value.into());
        }
    }
    no_store(Value::Object(out))
}
