//! A page that posts fields as soon as it loads (OAuth 2.0 Form Post Response Mode):
//! how Apple's stand-in answers, and how `/oauth2/idpresponse` hands a cross-site
//! POST back to itself from its own origin (see `idp_response`).

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

/// Submits the page's form; allowed by its hash in the page's CSP.
const SCRIPT: &str = r#"document.getElementById("form-post").submit();"#;

#[derive(Template)]
#[template(path = "form_post.html")]
struct FormPost<'a> {
    heading: &'a str,
    action: Option<&'a str>,
    fields: &'a [(&'a str, &'a str)],
    script: &'static str,
}

/// The page posting `fields` to `action` (the page's own URL when `None`), at once, or
/// at a click without scripts. Its CSP allows that one inline script by its hash and
/// nothing else (the server-wide CSP allows no script at all); values are HTML-escaped.
pub fn page(heading: &str, action: Option<&str>, fields: &[(&str, &str)]) -> Response {
    let page = FormPost {
        heading,
        action,
        fields,
        script: SCRIPT,
    };
    let html = match page.render() {
        Ok(html) => html,
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
        }
    };
    let hash = STANDARD.encode(Sha256::digest(SCRIPT.as_bytes()));
    let csp = format!(
        "default-src 'none'; script-src 'sha256-{hash}'; style-src 'self'; base-uri 'none'; \
         frame-ancestors 'none'"
    );
    let mut res = Html(html).into_response();
    let headers = res.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    res
}
