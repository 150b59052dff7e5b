//! One askama struct per page; every page extends `base.html` through [`Chrome`].
//! Rendering failures go through the error path, never to the browser.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::i18n::{EN, Texts};
use crate::error::AppError;

/// The frame shared by every page: language, title, the client's name, logo and
/// stylesheet.
pub struct Chrome<'a> {
    /// Where the server's shared files (`/static/…`) are for this page: the public URL,
    /// or the origin of the domain it is served at; empty for links from the site root.
    pub base: String,
    pub lang: &'a str,
    pub title: String,
    /// The name the person knows the app by: its display name where set, else its name.
    pub client_name: &'a str,
    pub logo_url: Option<String>,
    pub client_css: Option<String>,
}

/// What a page tells the person, in one style on every page: a notice (what happened,
/// `role="status"`) and the errors (what to fix, `role="alert"`), both at once when
/// both apply; and which field takes the focus: the first one to fix, else the page's
/// first field. The focus is the `autofocus` attribute, so it needs no script.
pub struct Messages {
    pub notice: Option<String>,
    pub errors: Vec<String>,
    /// The ids of the fields to fix, in the form's order.
    invalid: Vec<String>,
    /// The id of the page's first field.
    first: String,
}

impl Messages {
    /// Nothing to say; the field `first` takes the focus.
    pub fn new(first: &str) -> Self {
        Self {
            notice: None,
            errors: Vec::new(),
            invalid: Vec::new(),
            first: first.to_string(),
        }
    }

    /// These messages with `notice` shown above any error.
    pub fn with_notice(mut self, notice: Option<String>) -> Self {
        self.notice = notice;
        self
    }

    /// Adds an error about the field `field` (`None`: about the whole form).
    pub fn error(&mut self, field: Option<&str>, message: String) {
        if let Some(field) = field
            && !self.is_invalid(field)
        {
            self.invalid.push(field.to_string());
        }
        self.errors.push(message);
    }

    /// These messages with one error about `field`.
    pub fn with_error(mut self, field: Option<&str>, message: String) -> Self {
        self.error(field, message);
        self
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Whether the field `id` takes the focus.
    pub fn autofocus(&self, id: &str) -> bool {
        self.invalid.first().unwrap_or(&self.first) == id
    }

    /// Whether the field `id` is one to fix.
    pub fn is_invalid(&self, id: &str) -> bool {
        self.invalid.iter().any(|f| f == id)
    }
}

/// A labelled input of a form.
pub struct Field {
    pub name: String,
    pub label: String,
    pub input_type: &'static str,
    pub value: String,
    pub required: bool,
    pub autocomplete: &'static str,
}

/// The sign-in form.
#[derive(Template)]
#[template(path = "hosted_ui/login.html")]
pub struct LoginPage<'a> {
    pub chrome: Chrome<'a>,
    pub t: &'static Texts,
    pub action: String,
    pub csrf_token: &'a str,
    pub username: &'a str,
    pub username_label: &'a str,
    pub msgs: Messages,
    pub signup_url: Option<String>,
    pub forgot_url: String,
    /// Shown when the client offers the pool's own users (`COGNITO`).
    pub show_password_form: bool,
    /// One "Continue with …" button per identity provider the client offers.
    pub providers: Vec<ProviderButton>,
}

/// A social sign-in button: a link straight to the provider.
pub struct ProviderButton {
    pub label: String,
    pub url: String,
}

/// The sign-up form.
#[derive(Template)]
#[template(path = "hosted_ui/signup.html")]
pub struct SignUpPage<'a> {
    pub chrome: Chrome<'a>,
    pub t: &'static Texts,
    pub action: String,
    pub csrf_token: &'a str,
    pub fields: Vec<Field>,
    pub password_label: &'a str,
    pub rules: Vec<String>,
    pub msgs: Messages,
    pub login_url: String,
}

/// Entering the code that confirms a sign-up.
#[derive(Template)]
#[template(path = "hosted_ui/confirm.html")]
pub struct ConfirmPage<'a> {
    pub chrome: Chrome<'a>,
    pub t: &'static Texts,
    pub action: String,
    pub resend_action: String,
    pub csrf_token: &'a str,
    /// Shown when the session does not know who is confirming.
    pub ask_username: bool,
    pub username: &'a str,
    pub msgs: Messages,
    pub login_url: String,
}

/// Asking for a password reset code.
#[derive(Template)]
#[template(path = "hosted_ui/forgot_password.html")]
pub struct ForgotPasswordPage<'a> {
    pub chrome: Chrome<'a>,
    pub t: &'static Texts,
    pub action: String,
    pub csrf_token: &'a str,
    pub username_label: &'a str,
    pub msgs: Messages,
    pub login_url: String,
}

/// Setting a new password: with a reset code, or when an administrator requires it.
#[derive(Template)]
#[template(path = "hosted_ui/new_password.html")]
pub struct NewPasswordPage<'a> {
    pub chrome: Chrome<'a>,
    pub t: &'static Texts,
    pub heading: &'a str,
    pub intro: &'a str,
    pub action: String,
    pub csrf_token: &'a str,
    /// Reset with a code (forgot password) rather than a required change.
    pub with_code: bool,
    pub ask_username: bool,
    pub username: &'a str,
    pub password_label: &'a str,
    pub rules: Vec<String>,
    pub msgs: Messages,
    pub login_url: String,
}

/// A sign-in's second step: the code from the user's authenticator or e-mail.
#[derive(Template)]
#[template(path = "hosted_ui/mfa.html")]
pub struct MfaPage<'a> {
    pub chrome: Chrome<'a>,
    pub t: &'static Texts,
    /// Where the code comes from (the app, or the masked address it was sent to).
    pub intro: String,
    pub action: String,
    pub csrf_token: &'a str,
    pub msgs: Messages,
    pub login_url: String,
}

/// Setting up the authenticator app a pool requires: its key as a QR code and as text.
#[derive(Template)]
#[template(path = "hosted_ui/mfa_setup.html")]
pub struct MfaSetupPage<'a> {
    pub chrome: Chrome<'a>,
    pub t: &'static Texts,
    pub action: String,
    pub csrf_token: &'a str,
    /// The `otpauth://` URI as an inline SVG QR code, drawn on the server.
    pub qr_svg: Option<String>,
    /// The same URI as a link, for an authenticator on the device showing the page.
    pub otpauth_uri: Option<String>,
    /// The key in base32, grouped for reading.
    pub secret: String,
    pub msgs: Messages,
    pub login_url: String,
}

/// An error that stops a browser flow.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub chrome: Chrome<'a>,
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
    let reason = status.canonical_reason().unwrap_or("Error");
    render(
        status,
        &ErrorPage {
            chrome: Chrome {
                base: String::new(),
                lang: EN.lang,
                title: reason.to_string(),
                client_name: "",
                logo_url: None,
                client_css: None,
            },
            status: status.as_u16(),
            reason,
            message,
        },
    )
}

/// Browsers get an HTML page for an application error.
impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = self.public_message();
        let mut res = error_page(status, &message);
        crate::error::retry_after(&mut res);
        res
    }
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
