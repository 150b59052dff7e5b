//! Server-rendered hosted pages (askama templates, no JavaScript needed) and the
//! browser session they share with `/oauth2/authorize`: sign-in, sign-up and its
//! confirmation, password reset, the new password an administrator may require, and
//! the second factor (a code, or an authenticator's setup) a pool may ask for.

mod branding;
pub mod csrf;
pub mod dev_outbox;
mod flow;
mod forgot_password;
pub mod i18n;
mod login;
mod mfa;
mod new_password;
pub mod pages;
mod signup;

use std::collections::HashMap;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use crate::pool::PasswordPolicy;
use crate::state::AppState;
use crate::users::Refusal;
use i18n::{Texts, fill};
use pages::Messages;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(login::routes())
        .merge(signup::routes())
        .merge(forgot_password::routes())
        .merge(new_password::routes())
        .merge(mfa::routes())
        .merge(branding::routes())
}

/// A posted form's fields.
type Fields = HashMap<String, String>;

/// A field's value, or empty.
fn field<'a>(form: &'a Fields, name: &str) -> &'a str {
    form.get(name).map(String::as_str).unwrap_or_default()
}

/// Who a step is for: the pending step's user, else the posted `username`.
fn pending_username(pending: Option<&crate::session::Pending>, form: &Fields) -> String {
    pending.map_or_else(
        || field(form, "username").trim().to_string(),
        |p| p.username.clone(),
    )
}

/// What a page says about a refusal, and with which status.
fn explain(t: &Texts, refusal: &Refusal) -> (StatusCode, String) {
    match refusal {
        Refusal::BadCredentials => (StatusCode::UNAUTHORIZED, t.bad_credentials.into()),
        Refusal::Throttled(wait) => (StatusCode::TOO_MANY_REQUESTS, fill(t.throttled, wait)),
        Refusal::MessageLimit(wait) => (
            StatusCode::TOO_MANY_REQUESTS,
            fill(t.too_many_messages, wait),
        ),
        Refusal::NotConfirmed => (StatusCode::UNAUTHORIZED, t.not_confirmed.into()),
        Refusal::Disabled => (StatusCode::UNAUTHORIZED, t.disabled.into()),
        Refusal::ResetRequired => (StatusCode::UNAUTHORIZED, t.reset_required.into()),
        Refusal::UsernameExists => (StatusCode::BAD_REQUEST, t.user_exists.into()),
        Refusal::InvalidPassword(why)
        | Refusal::InvalidParameter(why)
        | Refusal::MfaUnavailable(why) => (StatusCode::BAD_REQUEST, why.clone()),
        Refusal::PasswordReused => (StatusCode::BAD_REQUEST, t.password_reused.into()),
        Refusal::TemporaryPasswordExpired => (
            StatusCode::UNAUTHORIZED,
            t.temporary_password_expired.into(),
        ),
        Refusal::RecoveryByAdminOnly => (StatusCode::FORBIDDEN, t.recovery_by_admin_only.into()),
        Refusal::Attribute(e) => (StatusCode::BAD_REQUEST, e.to_string()),
        Refusal::CodeMismatch => (StatusCode::BAD_REQUEST, t.bad_code.into()),
        Refusal::ExpiredCode => (StatusCode::BAD_REQUEST, t.expired_code.into()),
        Refusal::CodeUsed => (StatusCode::BAD_REQUEST, t.code_used.into()),
        Refusal::TooManyAttempts => (StatusCode::BAD_REQUEST, t.too_many_attempts.into()),
        Refusal::MailFailed => (StatusCode::SERVICE_UNAVAILABLE, t.mail_failed.into()),
        Refusal::Internal(e) => (e.status(), e.public_message()),
    }
}

/// The field a refusal is about, which the page marks and focuses.
fn field_of(refusal: &Refusal) -> Option<&'static str> {
    match refusal {
        Refusal::BadCredentials | Refusal::InvalidPassword(_) | Refusal::PasswordReused => {
            Some("password")
        }
        Refusal::UsernameExists => Some("username"),
        Refusal::CodeMismatch
        | Refusal::ExpiredCode
        | Refusal::CodeUsed
        | Refusal::TooManyAttempts => Some("code"),
        _ => None,
    }
}

/// `msgs` with what a page says about `refusal`, and the page's status.
fn refused(t: &Texts, refusal: &Refusal, msgs: Messages) -> (StatusCode, Messages) {
    let (status, message) = explain(t, refusal);
    (status, msgs.with_error(field_of(refusal), message))
}

/// The pool's password rules, in the page's language, shown beside the fields.
fn rule_hints(t: &Texts, policy: &PasswordPolicy) -> Vec<String> {
    policy
        .rules()
        .into_iter()
        .map(|r| t.rule_hints.say(r))
        .collect()
}

/// Checks a chosen password and its confirmation before anything else is tried, so a
/// page lists every rule the password breaks and the mismatch at once (the flows check
/// the policy again, as the API does). Adds the errors to `msgs`.
fn check_new_password(
    t: &Texts,
    policy: &PasswordPolicy,
    form: &Fields,
    username: &str,
    msgs: &mut Messages,
) {
    let password = field(form, "password");
    for rule in policy.failures(password, username) {
        msgs.error(Some("password"), t.rule_failures.say(rule));
    }
    if password != field(form, "confirm_password") {
        msgs.error(Some("confirm_password"), t.passwords_differ.into());
    }
}

/// Adds `Retry-After` to a throttled page.
fn with_retry_after(mut res: Response, refusal: &Refusal) -> Response {
    if let Refusal::Throttled(wait) | Refusal::MessageLimit(wait) = refusal
        && let Ok(v) = HeaderValue::from_str(&wait.to_string())
    {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}
