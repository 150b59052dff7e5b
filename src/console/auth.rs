//! Console sign-in, sign-out and re-authentication, and the [`Operator`] every other
//! page takes. Only the console's own cookie (`__Host-cognate_console` over TLS,
//! `cognate_console` on plain http; `HttpOnly`, `SameSite=Strict`) authenticates: a
//! pool user's hosted-UI session, an `Authorization` header or a SigV4 signature mean
//! nothing here. A missing, unknown, idle or expired session is sent to the sign-in
//! page.

use axum::Router;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::pages::{Frame, render};
use super::{Answer, Checked, Failure, see_other};
use crate::client_addr::ClientAddr;
use crate::operators::{self, Outcome, Session};
use crate::state::AppState;

/// The cookie's name on plain http (development).
pub const COOKIE: &str = "cognate_console";
/// The cookie's name over TLS: `__Host-` pins it to this host, `Secure` and `Path=/`.
pub const SECURE_COOKIE: &str = "__Host-cognate_console";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/login", get(get_login).post(post_login))
        .route("/admin/logout", post(post_logout))
        .route("/admin/reauth", get(get_reauth).post(post_reauth))
}

fn cookie_name(app: &AppState) -> &'static str {
    match app.config.secure_cookies {
        true => SECURE_COOKIE,
        false => COOKIE,
    }
}

/// The console cookie's value, if the request carries one.
pub fn cookie_value(app: &AppState, headers: &HeaderMap) -> Option<String> {
    let name = cookie_name(app);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// A `Set-Cookie` header giving the console cookie `value` (empty: removing it).
fn set_cookie(app: &AppState, value: &str) -> HeaderValue {
    let secure = if app.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let expiry = if value.is_empty() { "; Max-Age=0" } else { "" };
    let cookie = format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Strict{secure}{expiry}",
        cookie_name(app)
    );
    HeaderValue::from_str(&cookie).expect("cookie values are base64url")
}

/// A signed-in console operator, with the session's CSRF token. Taking this is what
/// makes a page need a live console session.
#[derive(Debug, Clone)]
pub struct Operator {
    pub session: Session,
    pub csrf: String,
}

impl Operator {
    /// Holds back a destructive action unless the operator gave password and code
    /// within [`operators::REAUTH_WINDOW`]: `Some` answer then sends them to confirm,
    /// and back to `back` (a console path) afterwards.
    pub fn require_recent(&self, app: &AppState, back: &str) -> Option<Response> {
        if self.session.recently_authenticated(app.clock.now()) {
            return None;
        }
        let back = local_path(back).unwrap_or("/admin");
        let query = serde_urlencoded::to_string([("next", back)]).unwrap_or_default();
        Some(see_other(&format!("/admin/reauth?{query}")))
    }
}

impl FromRequestParts<AppState> for Operator {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Response> {
        let token = cookie_value(app, &parts.headers).unwrap_or_default();
        match operators::session(app, &token).await {
            Ok(Some(session)) => Ok(Operator {
                session,
                csrf: super::csrf::token(app, &token),
            }),
            Ok(None) => Err(see_other("/admin/login")),
            Err(e) => Err(Failure(e).into_response()),
        }
    }
}

/// `path` if it is a console path this server serves (never another host: a
/// `//host`, a backslash or a scheme would leave the console).
fn local_path(path: &str) -> Option<&str> {
    let ok = path.starts_with("/admin")
        && !path.starts_with("//")
        && !path.contains(['\\', '\r', '\n', '\t'])
        && !path.contains("://");
    ok.then_some(path)
}

#[derive(askama::Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    frame: Frame,
    name: String,
}

/// The sign-in page. A browser without a console cookie gets a random one first, so
/// the form's CSRF token is bound to it (sign-in never keeps that value: a new
/// session value is made on success).
async fn get_login(
    axum::extract::State(app): axum::extract::State<AppState>,
    headers: HeaderMap,
) -> Response {
    let (value, fresh) = match cookie_value(&app, &headers) {
        Some(v) => (v, false),
        None => (crate::crypto::random_token(32), true),
    };
    login_page(&app, &value, fresh, StatusCode::OK, String::new(), None)
}

fn login_page(
    app: &AppState,
    cookie: &str,
    set: bool,
    status: StatusCode,
    name: String,
    error: Option<String>,
) -> Response {
    let frame = Frame::bare("Sign in", super::csrf::token(app, cookie)).error(error);
    let mut res = render(status, &LoginPage { frame, name });
    if set {
        res.headers_mut()
            .insert(header::SET_COOKIE, set_cookie(app, cookie));
    }
    res
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
}

const WRONG: &str = "The name, password or code is wrong.";

async fn post_login(
    axum::extract::State(app): axum::extract::State<AppState>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    Checked(form): Checked<LoginForm>,
) -> Answer {
    let cookie = cookie_value(&app, &headers).unwrap_or_default();
    let name = form.name.trim().to_string();
    Ok(
        match operators::sign_in(&app, &name, &form.password, &form.code, address).await? {
            Outcome::Accepted(token) => {
                tracing::info!("console operator signed in");
                let mut res = see_other("/admin");
                res.headers_mut()
                    .insert(header::SET_COOKIE, set_cookie(&app, &token));
                res
            }
            Outcome::Refused => login_page(
                &app,
                &cookie,
                false,
                StatusCode::UNAUTHORIZED,
                name,
                Some(WRONG.into()),
            ),
            Outcome::Throttled(wait) => throttled(&app, &cookie, name, wait),
        },
    )
}

fn throttled(app: &AppState, cookie: &str, name: String, wait: i64) -> Response {
    let message = format!("Too many failed attempts. Try again in {wait} seconds.");
    let mut res = login_page(
        app,
        cookie,
        false,
        StatusCode::TOO_MANY_REQUESTS,
        name,
        Some(message),
    );
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(wait));
    res
}

#[derive(Deserialize)]
struct NoFields {}

async fn post_logout(
    axum::extract::State(app): axum::extract::State<AppState>,
    operator: Operator,
    Checked(NoFields {}): Checked<NoFields>,
) -> Answer {
    operators::sign_out(&app, &operator.session).await?;
    let mut res = see_other("/admin/login");
    res.headers_mut()
        .insert(header::SET_COOKIE, set_cookie(&app, ""));
    Ok(res)
}

#[derive(askama::Template)]
#[template(path = "console/reauth.html")]
struct ReauthPage {
    frame: Frame,
    next: String,
}

#[derive(Deserialize)]
struct Next {
    #[serde(default)]
    next: String,
}

fn reauth_page(
    operator: &Operator,
    next: &str,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let frame = Frame::new(operator, "", "Confirm it is you").error(error);
    let next = local_path(next).unwrap_or("/admin").to_string();
    render(status, &ReauthPage { frame, next })
}

async fn get_reauth(operator: Operator, Query(q): Query<Next>) -> Response {
    reauth_page(&operator, &q.next, StatusCode::OK, None)
}

#[derive(Deserialize)]
struct ReauthForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: String,
}

async fn post_reauth(
    axum::extract::State(app): axum::extract::State<AppState>,
    ClientAddr(address): ClientAddr,
    operator: Operator,
    Checked(form): Checked<ReauthForm>,
) -> Answer {
    Ok(
        match operators::reauthenticate(
            &app,
            &operator.session,
            &form.password,
            &form.code,
            address,
        )
        .await?
        {
            Outcome::Accepted(_) => see_other(local_path(&form.next).unwrap_or("/admin")),
            Outcome::Refused => reauth_page(
                &operator,
                &form.next,
                StatusCode::UNAUTHORIZED,
                Some("The password or code is wrong.".into()),
            ),
            Outcome::Throttled(wait) => {
                let mut res = reauth_page(
                    &operator,
                    &form.next,
                    StatusCode::TOO_MANY_REQUESTS,
                    Some(format!(
                        "Too many failed attempts. Try again in {wait} seconds."
                    )),
                );
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(wait));
                res
            }
        },
    )
}
