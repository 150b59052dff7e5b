//! `/oauth2/revoke` (RFC 7009). Revoking a refresh token (or an access token) revokes
//! the whole sign-in it came from: its refresh tokens stop working and its access
//! tokens are refused at userInfo, through `origin_jti`. Unknown tokens answer 200. A
//! client whose `EnableTokenRevocation` is off is answered `invalid_request`, as
//! Cognito answers it.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use serde_json::Value;

use super::client_auth::authenticate;
use super::token::{parse_form, post_only, read_body};
use crate::crypto::Secret;
use crate::error::OAuthError;
use crate::events::{Event, Kind};
use crate::state::AppState;
use crate::tokens::verify;

pub fn routes() -> Router<AppState> {
    Router::new().route("/{pool_id}/oauth2/revoke", post(revoke).fallback(post_only))
}

async fn revoke(
    State(app): State<AppState>,
    Path(pool_id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(), OAuthError> {
    let body = read_body(body)?;
    let form = parse_form(&headers, &body)?;
    let client = authenticate(&app, &pool_id, &headers, &form).await?;
    let token = form
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
    // Cognito's answer for a client whose `EnableTokenRevocation` is off.
    if !client.enable_token_revocation {
        return Err(OAuthError::invalid_request(
            "token revocation is not enabled for this client",
        ));
    }
    let family = match app
        .store
        .family_of_refresh_token(&app.keys.digests().secret(Secret::RefreshToken, token))
        .await?
    {
        Some(f) => Some(f),
        // An access token (never an ID token: it is neither kind RFC 7009 revokes).
        None => match verify::jwt(&app, &pool_id, token).await? {
            Some(claims) if claims.get("token_use").and_then(Value::as_str) == Some("access") => {
                match claims.get("origin_jti").and_then(Value::as_str) {
                    Some(origin) => app.store.family(origin).await?,
                    None => None,
                }
            }
            _ => None,
        },
    };
    if let Some(f) = family {
        if f.client_id != client.client_id || f.pool_id != pool_id {
            return Err(OAuthError::unauthorized_client(
                "the token was not issued to this client",
            ));
        }
        app.store
            .revoke_family(&f.origin_jti, app.clock.now())
            .await?;
        app.record(
            Event::new(Kind::Revocation, &f.pool_id)
                .client(&f.client_id)
                .user_sub(&f.user_id),
        );
    }
    Ok(())
}
