//! The admin console at `/admin` (issue 20): server-rendered pages (askama, no script)
//! for console operators — their own accounts ([`crate::operators`]), never pool users
//! or API keys. Every page but sign-in takes an [`auth::Operator`]; every form carries
//! the session's CSRF token ([`csrf`]); every change goes through the same domain
//! functions the Cognito API and the CLI use and is recorded as an admin event under
//! the operator's name. The console's responses carry a strict CSP of their own (no
//! script at all) and `Cache-Control: no-store`.

pub mod activity;
pub mod auth;
pub mod chart;
pub mod clients;
pub mod csrf;
pub mod dashboard;
pub mod directory;
pub mod export;
pub mod logs;
pub mod messages;
pub mod pages;
pub mod paths;
pub mod pools;
pub mod providers;
pub mod triggers;
pub mod users;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::error::AppError;
use crate::events::{Actor, Event, Reason};
use crate::state::AppState;

pub use auth::Operator;
pub use csrf::Checked;

/// The console's policy: its own stylesheet and inline images (QR codes) only; forms
/// post to the console only; never framed; no script of any kind.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
                       form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Every console route, to be merged at the router's root.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(home))
        .route("/admin/", get(home))
        .route("/admin/static/console.css", get(stylesheet))
        .merge(auth::routes())
        .merge(pools::routes())
        .merge(clients::routes())
        .merge(messages::routes())
        .merge(triggers::routes())
        .merge(directory::routes())
        .merge(export::routes())
        .merge(providers::routes())
        .merge(dashboard::routes())
        .merge(users::routes())
        .merge(logs::routes())
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
}

/// The console's start page: the pools.
async fn home(_operator: Operator) -> Redirect {
    Redirect::to("/admin/pools")
}

/// The console's stylesheet, embedded in the binary.
async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/console.css"),
    )
        .into_response()
}

/// A console request that failed: an error page in the console's style, with a
/// status from the error; internal details are logged, never shown.
#[derive(Debug)]
pub struct Failure(pub AppError);

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        Failure(e)
    }
}

impl From<crate::store::StoreError> for Failure {
    fn from(e: crate::store::StoreError) -> Self {
        Failure(e.into())
    }
}

impl From<askama::Error> for Failure {
    fn from(e: askama::Error) -> Self {
        Failure(AppError::Internal(anyhow::anyhow!(
            "render a console page: {e}"
        )))
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let message = self.0.public_message();
        let mut res = pages::error_page(status, &message);
        crate::error::retry_after(&mut res);
        res
    }
}

/// What console handlers answer.
pub type Answer = Result<Response, Failure>;

/// A 303 to `path` (after a form: the browser GETs the result).
pub fn see_other(path: &str) -> Response {
    Redirect::to(path).into_response()
}

/// Records an admin change by the operator: `action` on `target` in `pool_id`, failed
/// when `ok` is false.
pub fn record(
    app: &AppState,
    operator: &Operator,
    action: &'static str,
    pool_id: Option<&str>,
    target: Option<&str>,
    ok: bool,
) {
    let mut event = Event::admin(
        Actor::Console(operator.session.name.clone()),
        action,
        pool_id,
        target,
    );
    if !ok {
        event = event.failed(Reason::Refused);
    }
    app.record(event);
}

/// A plain status page for refusals before any template (e.g. a bad form body).
pub fn refusal(status: StatusCode, message: &str) -> Response {
    pages::error_page(status, message)
}
