//! CSRF tokens for every hosted form: a random token kept in the session (synchroniser
//! token pattern), sent as a hidden field and compared in constant time.

use tower_sessions::Session;

use crate::crypto::{ct_eq, random_token};
use crate::error::AppError;

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
        _ => Err(AppError::Forbidden(
            "This form has expired or did not come from this site. Go back, reload the page and try again.",
        )),
    }
}
