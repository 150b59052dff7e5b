//! Each client's own stylesheet, served from cognate's origin so the pages' content
//! security policy (`style-src 'self'`) admits it. Versioned by the client's update
//! time in the page's link, so it can be cached.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::AppError;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/{pool_id}/branding/{file}", get(client_stylesheet))
}

async fn client_stylesheet(
    State(app): State<AppState>,
    Path((pool_id, file)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let client_id = file
        .strip_suffix(".css")
        .ok_or(AppError::NotFound("stylesheet"))?;
    if !crate::pool::is_pool_id(&pool_id) {
        return Err(AppError::NotFound("stylesheet"));
    }
    let client = app
        .store
        .client_by_id(&pool_id, client_id)
        .await?
        .ok_or(AppError::NotFound("stylesheet"))?;
    let mut res = client.branding.stylesheet().into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(res)
}
