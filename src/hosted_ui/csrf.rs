//! CSRF tokens for every hosted form: a random token kept in the session (synchroniser
//! token pattern), sent as a hidden field and compared in constant time. Posts that a
//! browser says came from another origin are refused before any handler runs.

use axum::extract::{Request, State};
use axum::http::{Method, header};
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

/// Refuses a state-changing request whose `Origin` is not the public URL's (a second
/// layer under the token; browsers always send `Origin` on form posts). Requests
/// without `Origin` (non-browser clients) are left to the token check.
pub async fn same_origin(State(app): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::GET
        && req.method() != Method::HEAD
        && let Some(origin) = req.headers().get(header::ORIGIN)
    {
        let ours = url::Url::parse(&app.config.public_url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default();
        if origin.as_bytes() != ours.as_bytes() {
            return AppError::Forbidden(FOREIGN).into_response();
        }
    }
    next.run(req).await
}
