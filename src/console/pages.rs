//! The console's frame and shared pages: one askama struct per page, each extending
//! `console/base.html` through [`Frame`]. Rendering failures are logged, never sent.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::Operator;

/// The console's sections, in the navigation's order: (key, link, label).
pub const NAV: &[(&str, &str, &str)] = &[("pools", "/admin/pools", "Pools")];

/// What every console page shows around its content: the title, the signed-in
/// operator (with the sign-out form and its CSRF token), the navigation and a notice.
pub struct Frame {
    pub title: String,
    /// The operator's name; `None` on the sign-in and error pages (no navigation).
    pub operator: Option<String>,
    /// The session's CSRF token, for every form on the page.
    pub csrf: String,
    /// The navigation key of the page's section.
    pub section: &'static str,
    /// What just happened (after a change), shown as a status message.
    pub notice: Option<String>,
    /// What went wrong, shown as an alert.
    pub error: Option<String>,
}

impl Frame {
    /// The frame of a signed-in page.
    pub fn new(operator: &Operator, section: &'static str, title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            operator: Some(operator.session.name.clone()),
            csrf: operator.csrf.clone(),
            section,
            notice: None,
            error: None,
        }
    }

    /// The frame of a page without a session (sign-in, errors).
    pub fn bare(title: impl Into<String>, csrf: String) -> Self {
        Self {
            title: title.into(),
            operator: None,
            csrf,
            section: "",
            notice: None,
            error: None,
        }
    }

    pub fn notice(mut self, notice: Option<String>) -> Self {
        self.notice = notice;
        self
    }

    pub fn error(mut self, error: Option<String>) -> Self {
        self.error = error;
        self
    }

    pub fn nav(&self) -> &'static [(&'static str, &'static str, &'static str)] {
        NAV
    }
}

/// Renders `page` with `status`.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => {
            let mut res = (status, Html(html)).into_response();
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => {
            tracing::error!(error = %e, "console template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// Renders `page` with 200.
pub fn ok(page: &impl Template) -> Response {
    render(StatusCode::OK, page)
}

#[derive(Template)]
#[template(path = "console/error.html")]
pub struct ErrorPage<'a> {
    pub frame: Frame,
    pub message: &'a str,
}

/// The console's error page.
pub fn error_page(status: StatusCode, message: &str) -> Response {
    let reason = status.canonical_reason().unwrap_or("Error");
    render(
        status,
        &ErrorPage {
            frame: Frame::bare(reason, String::new()),
            message,
        },
    )
}

/// Epoch seconds as an RFC 3339 time (UTC), for tables.
pub fn time(epoch: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(epoch)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| epoch.to_string())
}
