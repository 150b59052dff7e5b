//! CSRF tokens for every hosted form: a random token kept in the session (synchroniser
//! token pattern), sent as a hidden field and compared in constant time. Posts that a
//! browser says came from another origin are refused before any handler runs.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use crate::crypto::{ct_eq, random_token};
use crate::error::AppError;
use crate::state::AppState;

const FOREIGN: &str =
    "This form has expired or did not come from this site. Go back, reload the page and try again.";

const KEY: &str = "csrf";

/// The session's token, created on first use.
pub async fn token(session: &Session) -> Result<String, AppError> {
    let existing: Option<String> = session
        .get(KEY)
        .await
        .map_err(|e| anyhow::anyhow!("session: {e}"))?;
    if let Some(token) = existing {
        return Ok(token);
    }
    let token = random_token(32);
    session
        .insert(KEY, &token)
        .await
        .map_err(|e| anyhow::anyhow!("session: {e}"))?;
    Ok(token)
}

/// Refuses a form whose token is missing or not this session's.
pub async fn verify(session: &Session, presented: &str) -> Result<(), AppError> {
    let expected: Option<String> = session
        .get(KEY)
        .await
        .map_err(|e| anyhow::anyhow!("session: {e}"))?;
    match expected {
        Some(expected)
            if !presented.is_empty() && ct_eq(expected.as_bytes(), presented.as_bytes()) =>
        {
            Ok(())
        }
        _ => Err(AppError::Forbidden(FOREIGN)),
    }
}

/// Refuses a state-changing request that the browser says came from another site (a
/// second layer under the token). The pages send `Referrer-Policy: no-referrer`, so
/// browsers post their own forms with `Origin: null`; for those, the fetch metadata
/// (`Sec-Fetch-Site`) tells. Requests with neither (non-browser clients) are left to the
/// token check.
pub async fn same_origin(State(app): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::GET
        && req.method() != Method::HEAD
        && from_elsewhere(&app.config.public_url, req.headers())
    {
        return AppError::Forbidden(FOREIGN).into_response();
    }
    next.run(req).await
}

fn from_elsewhere(public_url: &str, headers: &HeaderMap) -> bool {
    let site = headers.get("sec-fetch-site").map(|v| v.as_bytes());
    if matches!(site, Some(b"cross-site" | b"same-site")) {
        return true;
    }
    match headers.get(header::ORIGIN).map(|v| v.as_bytes()) {
        None | Some(b"null") => false,
        Some(origin) => {
            let ours = url::Url::parse(public_url)
                .map(|u| u.origin().ascii_serialization())
                .unwrap_or_default();
            origin != ours.as_bytes()
        }
    }
}
