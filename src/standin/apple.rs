//! The Sign in with Apple stand-in: `auth/authorize` (answering with
//! `response_mode=form_post`, and the `user` field on a client's first authorization
//! only), `auth/token`, which authenticates the client by its ES256 client secret JWT
//! signed with the team's key (Apple's "Generate and validate tokens"), and the JWKS at
//! `auth/keys` for the RS256 ID tokens it returns.
//!
//! Its one registered team key is [`APPLE_TEAM_KEY`], published here on purpose: it
//! authenticates to this stand-in and nothing else.

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::identities::Identity;
use super::memory::{Issued, TOKEN_TTL, has_scope};
use super::token::{self, Refusal, no_store};
use super::{Inner, Provider, StandIn, consent};
use crate::crypto::random_token;
use crate::error::OAuthError;
use crate::oauth::params::Params;

const APPLE: Provider = Provider::Apple;

/// The stand-in's Apple developer team.
pub const APPLE_TEAM_ID: &str = "STANDINTM1";
/// The id of the team's key.
pub const APPLE_KEY_ID: &str = "STANDINKEY";
/// The team's private key (PKCS#8 PEM, EC P-256), as Apple's `AuthKey_<kid>.p8`.
pub const APPLE_TEAM_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgnRkYvpBaZTg0RM8G
gwmWkxprrnYeDgrQMs9F6lL5PPihRANCAAT0kLSJjP6Oc3MdrKiW8w4ydSQvbqvN
+gNr3zju2dqRX/Nqe1nU/C9HhOx08LhmJ94rp6HFp6kq42xVcVthavLN
-----END PRIVATE KEY-----
";
/// Its public half, which client secrets are verified with.
const TEAM_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE9JC0iYz+jnNzHayolvMOMnUkL26r
zfoDa9847tnakV/zantZ1PwvR4TsdPC4ZifeK6ehxaepKuNsVXFbYWryzQ==
-----END PUBLIC KEY-----
";
/// Apple refuses client secrets valid for longer than six months.
const MAX_SECRET_LIFETIME: i64 = 15_777_000;

pub(super) fn routes() -> Router<StandIn> {
    Router::new()
        .merge(consent::routes(APPLE, "/apple/auth/authorize"))
        .route("/apple/auth/token", post(post_token))
        .route("/apple/auth/keys", get(keys))
}

async fn keys(State(s): State<StandIn>) -> Response {
    axum::Json(s.keys.jwks().clone()).into_response()
}

async fn post_token(State(s): State<StandIn>, body: String) -> Response {
    match exchange(&s, &body) {
        Ok(body) => no_store(body),
        Err(refusal) => OAuthError::from(refusal).into_response(),
    }
}

/// Redeems a code for the client its secret JWT authenticates.
fn exchange(s: &Inner, body: &str) -> Result<Value, Refusal> {
    let params = token::params(None, body)?;
    token::require_code_grant(&params)?;
    let client_id = authenticate(s, &params)?;
    let grant = token::redeem(&s.memory, APPLE, &params, &client_id)?;
    let access_token = s
        .memory
        .insert_token("a", Issued::from_grant(&grant), TOKEN_TTL);
    let issued = Issued::from_grant(&grant);
    let mut claims = Map::new();
    claims.insert("sub".into(), grant.identity.apple_sub.into());
    if issued.has_scope("email")
        && let Some(email) = issued.email()
    {
        claims.insert("email".into(), email.into());
        // Apple verifies every address it releases, and says so as a string.
        claims.insert("email_verified".into(), "true".into());
        claims.insert("is_private_email".into(), "false".into());
    }
    claims.insert("nonce_supported".into(), true.into());
    Ok(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": TOKEN_TTL,
        "refresh_token": format!("r{}", random_token(32)),
        "id_token": token::id_token(s, s.url(APPLE, ""), &grant, claims),
    }))
}

/// The client secret JWT's claims the stand-in reads.
#[derive(Deserialize)]
struct SecretClaims {
    iat: i64,
    exp: i64,
}

/// The client a token request's `client_secret` JWT proves: signed ES256 by the team's
/// key (`kid`), issued by the team, for this client (`sub`), to Apple (`aud`), live and
/// valid for six months at most. Anything else is Apple's `invalid_client`.
fn authenticate(s: &Inner, params: &Params) -> Result<String, Refusal> {
    let refuse = |why: &str| Refusal::Client(why.to_string());
    let client_id = params
        .get("client_id")
        .ok_or_else(|| refuse("client_id is required"))?;
    let secret = params
        .get("client_secret")
        .ok_or_else(|| refuse("client_secret is required"))?;
    let header =
        jsonwebtoken::decode_header(secret).map_err(|_| refuse("client_secret is not a JWT"))?;
    if header.alg != Algorithm::ES256 || header.kid.as_deref() != Some(APPLE_KEY_ID) {
        return Err(refuse(
            "the client secret must be ES256 with the team key's kid",
        ));
    }
    let key = DecodingKey::from_ec_pem(TEAM_PUBLIC_KEY.as_bytes())
        .map_err(|_| refuse("the stand-in's team key does not parse"))?;
    let mut validation = Validation::new(Algorithm::ES256);
    validation.leeway = 0;
    validation.set_issuer(&[APPLE_TEAM_ID]);
    validation.set_audience(&[s.url(APPLE, "")]);
    validation.sub = Some(client_id.to_string());
    validation.set_required_spec_claims(&["iss", "aud", "sub", "exp"]);
    let data = jsonwebtoken::decode::<SecretClaims>(secret, &key, &validation)
        .map_err(|_| refuse("the client secret is not valid for this client"))?;
    if data.claims.exp - data.claims.iat > MAX_SECRET_LIFETIME {
        return Err(refuse(
            "the client secret is valid for more than six months",
        ));
    }
    Ok(client_id.to_string())
}

/// Apple's `user` field for the scopes granted: the name with `name`, the address
/// with `email`; `None` when neither applies.
pub(super) fn user_field(scope: &str, who: &Identity) -> Option<String> {
    let mut user = Map::new();
    if has_scope(scope, "name") {
        user.insert(
            "name".into(),
            json!({ "firstName": who.given_name, "lastName": who.family_name }),
        );
    }
    if has_scope(scope, "email")
        && let Some(email) = who.email
    {
        user.insert("email".into(), email.into());
    }
    (!user.is_empty()).then(|| Value::Object(user).to_string())
}
