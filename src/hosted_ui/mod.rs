//! Server-rendered hosted pages (askama templates, no JavaScript needed) and the
//! browser session they share with `/oauth2/authorize`.

pub mod csrf;
mod login;
pub mod pages;
pub mod session;

use axum::Router;

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().merge(login::routes())
}
