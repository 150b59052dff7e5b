//! `/oauth2/token` (RFC 6749 §4.1.3, §4.4, §6; RFC 7636 §4.6). Codes are consumed
//! atomically and a replay revokes what the first redemption issued; refresh tokens
//! rotate on every use unless the client turned rotation off, and a reused one revokes
//! its whole family (unless retried within the client's grace period). Claims are
//! rebuilt at each refresh, for the granted scopes or fewer. `client_credentials` gives a
//! confidential client one access token for custom scopes, never an ID or refresh token.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use super::client_auth::authenticate;
use super::params::Params;
use super::pkce;
use crate::clients::{AppClient, FLOW_CLIENT_CREDENTIALS};
use crate::crypto::{Secret, random_token};
use crate::error::OAuthError;
use crate::flows::refresh;
use crate::resource_servers;
use crate::state::{AppState, Inner};
use crate::store::RedeemedCode;
use crate::tokens::issue::{Session, TokenSet, issue, issue_for_client};
use crate::users::User;

pub fn routes() -> Router<AppState> {
    Router::new().route("/{pool_id}/oauth2/token", post(token).fallback(post_only))
}

/// Any method but POST at an endpoint that takes a form: a JSON error like every other
/// answer there (RFC 6749 §3.2 requires POST), with `Allow`.
pub async fn post_only() -> Response {
    let mut res = OAuthError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "invalid_request",
        "use POST with an application/x-www-form-urlencoded body",
    )
    .into_response();
    res.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    res
}

/// The request body, or a JSON error: 413 for one over the body limit.
pub fn read_body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, OAuthError> {
    body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => OAuthError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            "the request body is too large",
        ),
        _ => OAuthError::invalid_request("the request body could not be read"),
    })
}

async fn token(
    State(app): State<AppState>,
    Path(pool_id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, OAuthError> {
    let body = read_body(body)?;
    let form = parse_form(&headers, &body)?;
    let client = authenticate(&app, &pool_id, &headers, &form).await?;
    let tokens = match form.get("grant_type") {
        Some("authorization_code") => authorization_code(&app, &client, &form).await?,
        Some("refresh_token") => refresh_token(&app, &client, &form).await?,
        Some("client_credentials") => client_credentials(&app, &client, &form).await?,
        Some(other) => {
            return Err(OAuthError::unsupported_grant_type(format!(
                "grant_type {other} is not supported"
            )));
        }
        None => return Err(OAuthError::invalid_request("grant_type is missing")),
    };
    Ok(no_store(axum::Json(tokens).into_response()))
}

/// The body of a token or revocation request: a form, with no repeated parameter.
pub fn parse_form(headers: &HeaderMap, body: &[u8]) -> Result<Params, OAuthError> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| OAuthError::invalid_request("the body is not UTF-8"))?;
    Params::parse(text).map_err(OAuthError::invalid_request)
}

/// Marks a response carrying tokens or user data as never to be cached (RFC 6749 §5.1).
pub(crate) fn no_store(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    res
}

async fn authorization_code(
    app: &Inner,
    client: &AppClient,
    form: &Params,
) -> Result<TokenSet, OAuthError> {
    let code = form
        .get("code")
        .ok_or_else(|| OAuthError::invalid_request("code is missing"))?;
    let redirect_uri = form
        .get("redirect_uri")
        .ok_or_else(|| OAuthError::invalid_request("redirect_uri is missing"))?;
    let now = app.clock.now();
    let invalid =
        || OAuthError::invalid_grant("the authorization code is invalid, expired or already used");
    let code_hash = app.keys.digests().secret(Secret::AuthCode, code);
    let Some(redeemed) = app.store.unconsumed_code(&code_hash).await? else {
        // Unknown, or a replay: burning it revokes the first redemption's sign-in.
        app.store.consume_code(&code_hash, now).await?;
        return Err(invalid());
    };
    // A code presented with the wrong binding is burned: it has leaked (RFC 6819
    // §4.4.1.13), so its rightful client must not redeem it later either.
    match check_code(app, client, form, &redeemed, redirect_uri, now).await {
        Ok(user) => {
            let scopes = split_scopes(&redeemed.scopes);
            let mut tokens = issue(
                app,
                &Session {
                    client,
                    user: &user,
                    scopes: &scopes,
                    auth_time: redeemed.auth_time,
                    origin_jti: &redeemed.origin_jti,
                    nonce: redeemed.nonce.as_deref(),
                },
            )
            .await?;
            let refresh = random_token(48);
            let expires_at = redeemed.auth_time + client.refresh_token_validity;
            let refresh_hash = app.keys.digests().secret(Secret::RefreshToken, &refresh);
            let origin = &redeemed.origin_jti;
            if !app
                .store
                .redeem_code(&code_hash, origin, expires_at, &refresh_hash, now)
                .await?
            {
                // A concurrent redemption won: this one is a replay and revokes it.
                app.store.consume_code(&code_hash, now).await?;
                return Err(invalid());
            }
            tokens.refresh_token = Some(refresh);
            Ok(tokens)
        }
        Err(e) => {
            app.store.consume_code(&code_hash, now).await?;
            Err(e)
        }
    }
}

/// Checks an unconsumed code against the request: client, expiry, redirect URI, PKCE,
/// and that its user may still sign in; the user.
async fn check_code(
    app: &Inner,
    client: &AppClient,
    form: &Params,
    redeemed: &RedeemedCode,
    redirect_uri: &str,
    now: i64,
) -> Result<User, OAuthError> {
    let invalid =
        || OAuthError::invalid_grant("the authorization code is invalid, expired or already used");
    if redeemed.client_id != client.client_id
        || redeemed.pool_id != client.pool_id
        || redeemed.expires_at <= now
    {
        return Err(invalid());
    }
    if redeemed.redirect_uri != redirect_uri {
        return Err(OAuthError::invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    // The callback may have been removed since the code was issued (on any instance).
    if !crate::clients::redirect::is_registered(&client.callback_urls, redirect_uri) {
        return Err(OAuthError::invalid_grant(
            "redirect_uri is no longer registered for the client",
        ));
    }
    match (&redeemed.code_challenge, form.get("code_verifier")) {
        (Some(challenge), Some(verifier)) if pkce::verify(challenge, verifier) => {}
        (None, None) => {}
        (Some(_), None) => return Err(OAuthError::invalid_grant("code_verifier is missing")),
        (None, Some(_)) => {
            // RFC 9700 §2.1.1: a verifier without a challenge is a downgrade attempt.
            return Err(OAuthError::invalid_grant(
                "no code_challenge was sent for this code",
            ));
        }
        (Some(_), Some(_)) => return Err(OAuthError::invalid_grant("PKCE verification failed")),
    }
    live_user(app, client, &redeemed.user_id).await
}

async fn refresh_token(
    app: &Inner,
    client: &AppClient,
    form: &Params,
) -> Result<TokenSet, OAuthError> {
    let presented = form
        .get("refresh_token")
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is missing"))?;
    let found = refresh::find(app, client, presented)
        .await
        .map_err(refresh_error)?;
    // A scope beyond the grant is refused before the token is used.
    let scopes = narrowed_scopes(found.granted_scopes(), form.get("scope"))?;
    refresh::redeem(app, client, found, &scopes)
        .await
        .map_err(refresh_error)
}

fn refresh_error(refusal: refresh::RefreshRefusal) -> OAuthError {
    match refusal {
        refresh::RefreshRefusal::Internal(e) => e.into(),
        other => OAuthError::invalid_grant(other.to_string()),
    }
}

/// RFC 6749 §4.4: a confidential client enabled for `client_credentials` gets an
/// access token for the custom scopes it asks for (or all it is allowed), as itself.
async fn client_credentials(
    app: &Inner,
    client: &AppClient,
    form: &Params,
) -> Result<TokenSet, OAuthError> {
    if client.is_public() || !client.allows_flow(FLOW_CLIENT_CREDENTIALS) {
        return Err(OAuthError::unauthorized_client(
            "the client is not allowed the client_credentials grant",
        ));
    }
    // Scopes whose resource server was deleted or changed no longer count.
    let defined = resource_servers::pool_scopes(app, &client.pool_id).await?;
    let allowed: Vec<&String> = client
        .allowed_scopes
        .iter()
        .filter(|s| defined.contains(s))
        .collect();
    let scopes: Vec<String> = match form.get("scope") {
        None => allowed.into_iter().cloned().collect(),
        Some(requested) => {
            let requested = split_scopes(requested);
            if let Some(bad) = requested.iter().find(|s| !allowed.contains(s)) {
                return Err(OAuthError::invalid_scope(format!(
                    "scope {bad} is not allowed for client_credentials"
                )));
            }
            requested
        }
    };
    if scopes.is_empty() {
        return Err(OAuthError::invalid_scope(
            "the client has no custom scope to grant",
        ));
    }
    Ok(issue_for_client(app, client, &scopes).await?)
}

/// The scopes of a refresh: those granted, or a subset the client asks for (RFC 6749
/// §6). The subset applies to the tokens issued now; the sign-in keeps its grant.
fn narrowed_scopes(granted: &str, requested: Option<&str>) -> Result<Vec<String>, OAuthError> {
    let granted = split_scopes(granted);
    let Some(requested) = requested else {
        return Ok(granted);
    };
    let requested = split_scopes(requested);
    if let Some(extra) = requested.iter().find(|s| !granted.contains(s)) {
        return Err(OAuthError::invalid_scope(format!(
            "scope {extra} was not granted to this refresh token"
        )));
    }
    Ok(granted
        .into_iter()
        .filter(|s| requested.contains(s))
        .collect())
}

/// The user a grant was for, if it still exists and may sign in.
async fn live_user(app: &Inner, client: &AppClient, user_id: &str) -> Result<User, OAuthError> {
    app.store
        .user_by_id(&client.pool_id, user_id)
        .await?
        .filter(User::can_sign_in)
        .ok_or_else(|| OAuthError::invalid_grant("the user no longer exists or is disabled"))
}

pub fn split_scopes(scopes: &str) -> Vec<String> {
    scopes
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}
