//! Forgot password: ask for a code by email, then set a new password with it. Both
//! steps answer the same whether or not the account exists.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use tower_sessions::Session;

use super::flow::{Flow, FlowForm, PageError, Step};
use super::pages::{ForgotPasswordPage, Messages, NewPasswordPage, render};
use super::{check_new_password, field, refused, rule_hints};
use crate::flows::recovery;
use crate::session::{self, Pending, Reset};
use crate::state::{AppState, Inner};
use crate::users::Refusal;
use crate::users::codes::Purpose;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/{pool_id}/forgotPassword",
            get(get_forgot).post(post_forgot),
        )
        .route(
            "/{pool_id}/confirmForgotPassword",
            get(get_reset).post(post_reset),
        )
}

fn forgot_page(app: &Inner, flow: &Flow, msgs: Messages, status: StatusCode) -> Response {
    let t = flow.t;
    render(
        status,
        &ForgotPasswordPage {
            chrome: flow.chrome(app, t.reset_password),
            t,
            action: flow.url(app, "forgotPassword"),
            csrf_token: &flow.csrf,
            username_label: if flow.pool.settings.email_is_username() {
                t.email
            } else {
                t.username
            },
            msgs,
            login_url: flow.url(app, "login"),
        },
    )
}

async fn get_forgot(State(app): State<AppState>, flow: Flow) -> Response {
    forgot_page(&app, &flow, Messages::new("username"), StatusCode::OK)
}

async fn post_forgot(
    State(app): State<AppState>,
    session: Session,
    FlowForm { flow, form }: FlowForm,
) -> Result<Response, PageError> {
    let username = field(&form, "username").trim().to_string();
    let client_id = &flow.req.client.client_id;
    match recovery::forgot_password(&app, &flow.req.pool_id, client_id, &username, None).await {
        // Only an existing account reaches its message cap: the page answers as if a
        // code went out, so the cap does not reveal the account.
        Ok(()) | Err(Refusal::MessageLimit(_)) => {}
        Err(refusal) => {
            let (status, msgs) = refused(flow.t, &refusal, Messages::new("username"));
            return Ok(forgot_page(&app, &flow, msgs, status));
        }
    }
    let pending = Pending {
        pool_id: flow.req.pool_id.clone(),
        username,
        user_id: None,
        until: app.clock.now() + Purpose::Reset.lifetime(),
    };
    session::put_step::<Reset>(&session, &pending).await?;
    Ok(flow.go(&app, "confirmForgotPassword"))
}

fn reset_page(
    app: &Inner,
    flow: &Flow,
    pending: Option<&Pending>,
    msgs: Messages,
    status: StatusCode,
) -> Response {
    let t = flow.t;
    render(
        status,
        &NewPasswordPage {
            chrome: flow.chrome(app, t.reset_password),
            t,
            heading: t.reset_password,
            intro: t.reset_code_sent,
            action: flow.url(app, "confirmForgotPassword"),
            csrf_token: &flow.csrf,
            with_code: true,
            ask_username: pending.is_none(),
            username: pending.map(|p| p.username.as_str()).unwrap_or_default(),
            password_label: t.new_password,
            rules: rule_hints(t, &flow.pool.settings.password_policy),
            msgs,
            login_url: flow.url(app, "login"),
        },
    )
}

/// The reset page's first field: the username, when the session does not know it.
fn reset_messages(pending: Option<&Pending>) -> Messages {
    Messages::new(if pending.is_some() {
        "code"
    } else {
        "username"
    })
}

async fn get_reset(
    State(app): State<AppState>,
    flow: Flow,
    Step(pending): Step<Reset>,
) -> Response {
    let msgs = reset_messages(pending.as_ref());
    reset_page(&app, &flow, pending.as_ref(), msgs, StatusCode::OK)
}

async fn post_reset(
    State(app): State<AppState>,
    session: Session,
    Step(pending): Step<Reset>,
    FlowForm { flow, form }: FlowForm,
) -> Result<Response, PageError> {
    let username = super::pending_username(pending.as_ref(), &form);
    let mut msgs = reset_messages(pending.as_ref());
    let policy = &flow.pool.settings.password_policy;
    check_new_password(flow.t, policy, &form, &username, &mut msgs);
    if msgs.has_errors() {
        return Ok(reset_page(
            &app,
            &flow,
            pending.as_ref(),
            msgs,
            StatusCode::BAD_REQUEST,
        ));
    }
    let password = field(&form, "password");
    match recovery::confirm_forgot_password(
        &app,
        &flow.pool,
        Some(&flow.req.client.client_id),
        &username,
        field(&form, "code"),
        password,
        None,
    )
    .await
    {
        Ok(_) => {
            session::remove_step::<Reset>(&session).await?;
            session::set_notice(&session, flow.t.password_changed).await?;
            Ok(flow.go(&app, "login"))
        }
        Err(refusal) => {
            let (status, msgs) = refused(flow.t, &refusal, reset_messages(pending.as_ref()));
            Ok(reset_page(&app, &flow, pending.as_ref(), msgs, status))
        }
    }
}
