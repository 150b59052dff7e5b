//! `GET /` (and `HEAD /`): a small page naming the server and its version, so the first
//! URL a curious user opens is not an error. In development (`serve --dev`) it links
//! each pool's discovery document (and the outbox); otherwise it shows nothing about
//! the pools. `POST /` stays the Cognito JSON API.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

use crate::error::AppError;
use crate::hosted_ui::pages::{Chrome, render};
use crate::state::AppState;

/// The server's home page.
#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage<'a> {
    pub chrome: Chrome<'a>,
    pub version: &'static str,
    /// Development mode: the pools are listed.
    pub dev: bool,
    /// The development outbox page is served.
    pub outbox: bool,
    pub pools: Vec<PoolLink>,
}

/// A pool as the development home page links it.
pub struct PoolLink {
    pub name: String,
    pub pool_id: String,
    pub discovery: String,
}

/// The page's route (GET answers HEAD too).
pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(get_home))
}

async fn get_home(State(app): State<AppState>) -> Result<Response, AppError> {
    let dev = app.config.dev;
    let mut pools = Vec::new();
    if dev {
        for pool in app.store.pools().await? {
            // The path form: it answers whatever the pool's issuer or domain.
            let discovery = format!(
                "{}/.well-known/openid-configuration",
                app.hosts.path_base(&pool.pool_id)
            );
            pools.push(PoolLink {
                name: pool.name,
                pool_id: pool.pool_id,
                discovery,
            });
        }
    }
    let page = HomePage {
        chrome: Chrome {
            base: String::new(),
            lang: "en",
            title: "cognate".to_string(),
            client_name: "cognate",
            logo_url: None,
            client_css: None,
        },
        version: env!("CARGO_PKG_VERSION"),
        dev,
        outbox: dev && app.mail.is_outbox(),
        pools,
    };
    Ok(render(StatusCode::OK, &page))
}
