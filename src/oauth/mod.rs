//! The OAuth 2.0 / OpenID Connect endpoints of each pool, under `<public_url>/<pool_id>`
//! (and at the root of the pool's domain, which `host_routing` maps onto these routes).

pub mod authorize;
pub(crate) mod client_auth;
mod discovery;
pub mod form_post;
mod idp_response;
pub(crate) mod idp_start;
mod logout;
pub mod params;
mod revoke;
pub mod token;
pub mod userinfo;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::state::AppState;

/// Endpoints a browser visits; they use the hosted-UI session.
pub fn browser_routes() -> Router<AppState> {
    Router::new()
        .merge(authorize::routes())
        .merge(logout::routes())
        .merge(idp_response::routes())
}

/// Endpoints called by apps; no session.
pub fn api_routes() -> Router<AppState> {
    Router::new()
        .merge(userinfo::routes())
        .merge(discovery::routes())
}

/// The endpoints that take client credentials (rate-limited together).
pub fn token_routes() -> Router<AppState> {
    Router::new().merge(token::routes()).merge(revoke::routes())
}

/// A `302 Found` to `location`, which callers build only from registered URLs.
pub fn found(location: &str) -> Response {
    match HeaderValue::try_from(location) {
        Ok(value) => {
            let mut res = StatusCode::FOUND.into_response();
            res.headers_mut().insert(header::LOCATION, value);
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(_) => {
            AppError::Invalid("The redirect target is not a valid URL.".into()).into_response()
        }
    }
}
