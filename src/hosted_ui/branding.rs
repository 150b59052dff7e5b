//! Each client's own stylesheet and the pool's logo, served from cognate's origin so
//! the pages' content security policy (`style-src 'self'`, `img-src 'self'`) admits
//! them. The stylesheet is the Cognito UI customization in force for the client (its
//! own, else the pool's `ALL`, see [`crate::pool::ui`]) followed by cognate's own
//! branding of the client. Both are versioned in the pages' links, so they can be
//! cached.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::AppError;
use crate::pool::ui;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/{pool_id}/branding/{file}", get(client_stylesheet))
        .route("/{pool_id}/ui-image/{client_id}", get(ui_image))
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
    let mut css = String::new();
    if let Some(custom) = ui::effective(&app, &pool_id, client_id)
        .await?
        .and_then(|u| u.css)
    {
        css.push_str(&custom);
        css.push('\n');
    }
    css.push_str(&client.branding.stylesheet());
    let mut res = css.into_response();
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

/// A UI customization's logo (`ALL` or a client's), as the PNG or JPEG it was checked
/// to be when set; `nosniff` (on every response) keeps browsers to that type.
async fn ui_image(
    State(app): State<AppState>,
    Path((pool_id, client_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    if !crate::pool::is_pool_id(&pool_id) {
        return Err(AppError::NotFound("image"));
    }
    let (bytes, media_type) = app
        .store
        .ui_image(&pool_id, &client_id)
        .await?
        .ok_or(AppError::NotFound("image"))?;
    let media_type = match media_type.as_str() {
        "image/png" => "image/png",
        "image/jpeg" => "image/jpeg",
        _ => return Err(AppError::NotFound("image")),
    };
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(res)
}
