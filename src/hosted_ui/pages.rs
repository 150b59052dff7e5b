//! One askama struct per page; every page extends `base.html`. Rendering failures go
//! through the error path, never to the browser.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// The sign-in form.
#[derive(Template)]
#[template(path = "hosted_ui/login.html")]
pub struct LoginPage<'a> {
    pub base: &'a str,
    pub client_name: &'a str,
    pub action: &'a str,
    pub csrf_token: &'a str,
    pub username: &'a str,
    pub error: Option<&'a str>,
}

/// An error that stops a browser flow.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub base: &'a str,
    pub status: u16,
    pub reason: &'a str,
    pub message: &'a str,
}

/// Renders `page` with `status`; pages are never cached (they carry CSRF tokens).
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => {
            let mut res = (status, Html(html)).into_response();
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// The HTML error page. Asset links are relative to the site root.
pub fn error_page(status: StatusCode, message: &str) -> Response {
    render(
        status,
        &ErrorPage {
            base: "",
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("Error"),
            message,
        },
    )
}

/// The stylesheet, embedded in the binary.
pub async fn stylesheet() -> Response {
    let mut res = include_str!("../../static/cognate.css").into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    res
}
