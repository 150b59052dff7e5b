//! CSRF tokens for every hosted form: a random token kept in the session (synchroniser
//! token pattern), sent as a hidden field and compared in constant time. Posts that a
//! browser says came from another origin are refused before any handler runs.

use std::collections::HashMap;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use crate::crypto::{ct_eq, random_token};
use crate::error::AppError;
use crate::host_routing::ThroughDomain;
use crate::state::AppState;

const FOREIGN: &str =
    "This form has expired or did not come from this site. Go back, reload the page and try again.";

/// The session key of the tokens, one per pool. (The single token that the key `csrf`
/// held before was shared by every pool, so it is simply no longer read.)
use crate::session::CSRF_KEY as KEY;

type Tokens = HashMap<String, String>;

async fn tokens(session: &Session) -> Result<Tokens, AppError> {
    let tokens: Option<Tokens> = session
        .get(KEY)
        .await
        .map_err(|e| anyhow::anyhow!("session: {e}"))?;
    Ok(tokens.unwrap_or_default())
}

/// The session's token for `pool_id`'s forms, created on first use. Each pool has its
/// own, so a form of one pool never accepts a token another pool's page showed.
pub async fn token(session: &Session, pool_id: &str) -> Result<String, AppError> {
    let mut all = tokens(session).await?;
    if let Some(token) = all.get(pool_id) {
        return Ok(token.clone());
    }
    let token = random_token(32);
    all.insert(pool_id.to_string(), token.clone());
    session
        .insert(KEY, &all)
        .await
        .map_err(|e| anyhow::anyhow!("session: {e}"))?;
    Ok(token)
}

/// Refuses a form whose token is missing or not this session's token for `pool_id`.
pub async fn verify(session: &Session, pool_id: &str, presented: &str) -> Result<(), AppError> {
    match tokens(session).await?.get(pool_id) {
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
        && from_elsewhere(&own_origin(&app, &req), req.headers())
    {
        return AppError::Forbidden(FOREIGN).into_response();
    }
    next.run(req).await
}

/// The origin this request's pages are served from: the public URL's, or the origin of
/// the pool's domain it came through.
fn own_origin(app: &AppState, req: &Request) -> String {
    match req.extensions().get::<ThroughDomain>() {
        Some(d) => d.origin.clone(),
        None => url::Url::parse(&app.config.public_url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default(),
    }
}

/// Whether the browser says the request came from another site than `ours` (fetch
/// metadata, then `Origin`); requests with neither are left to the CSRF token. The
/// console's forms use the same rule.
pub(crate) fn from_elsewhere(ours: &str, headers: &HeaderMap) -> bool {
    let site = headers.get("sec-fetch-site").map(|v| v.as_bytes());
    if matches!(site, Some(b"cross-site" | b"same-site")) {
        return true;
    }
    match headers.get(header::ORIGIN).map(|v| v.as_bytes()) {
        None | Some(b"null") => false,
        Some(origin) => origin != ours.as_bytes(),
    }
}
