//! `/oauth2/token` (RFC 6749 §4.1.3, §4.4, §6; RFC 7636 §4.6): the request's form in,
//! RFC 6749's JSON out. The grants themselves are shared operations: `flows::code`,
//! `flows::refresh` and `flows::client_credentials`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use super::client_auth::authenticate;
use super::params::Params;
use crate::clients::AppClient;
use crate::error::OAuthError;
use crate::flows::client_credentials::{self, GrantRefusal};
use crate::flows::{code, refresh};
use crate::state::{AppState, Inner};
use crate::tokens::issue::{Endpoint, TokenSet};

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
    let presented = code::Presented {
        code: form
            .get("code")
            .ok_or_else(|| OAuthError::invalid_request("code is missing"))?,
        redirect_uri: form
            .get("redirect_uri")
            .ok_or_else(|| OAuthError::invalid_request("redirect_uri is missing"))?,
        code_verifier: form.get("code_verifier"),
    };
    code::redeem(app, client, &presented)
        .await
        .map_err(|refusal| match refusal {
            code::CodeRefusal::Internal(e) => e.into(),
            other => OAuthError::invalid_grant(other.to_string()),
        })
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
    let scopes = found.scopes(form.get("scope")).map_err(|extra| {
        OAuthError::invalid_scope(format!(
            "scope {extra} was not granted to this refresh token"
        ))
    })?;
    refresh::redeem(app, client, found, &scopes, Endpoint::Token, None)
        .await
        .map_err(refresh_error)
}

fn refresh_error(refusal: refresh::RefreshRefusal) -> OAuthError {
    match refusal {
        refresh::RefreshRefusal::Internal(e) => e.into(),
        other => OAuthError::invalid_grant(other.to_string()),
    }
}

async fn client_credentials(
    app: &Inner,
    client: &AppClient,
    form: &Params,
) -> Result<TokenSet, OAuthError> {
    client_credentials::grant(app, client, form.get("scope"))
        .await
        .map_err(|refusal| match refusal {
            GrantRefusal::NotAllowed => OAuthError::unauthorized_client(refusal.to_string()),
            GrantRefusal::Scope(why) => OAuthError::invalid_scope(why),
            GrantRefusal::Internal(e) => e.into(),
        })
}
