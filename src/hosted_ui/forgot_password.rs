//! Forgot password: ask for a code by email, then set a new password with it. Both
//! steps answer the same whether or not the account exists.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use tower_sessions::Session;

use super::flow::Flow;
use super::open_flow;
use super::pages::{ForgotPasswordPage, NewPasswordPage, render};
use super::session::{self, Pending, RESET};
use super::{Fields, explain, field};
use crate::state::{AppState, Inner};
use crate::users::codes::Purpose;
use crate::users::lifecycle::{self, Refusal};

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

fn forgot_page(app: &Inner, flow: &Flow, error: Option<String>, status: StatusCode) -> Response {
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
            error,
            login_url: flow.url(app, "login"),
        },
    )
}

async fn get_forgot(
    State(app): State<AppState>,
    Path(pool_id): Path<String>,
    session: Session,
    RawQuery(query): RawQuery,
) -> Response {
    let flow = open_flow!(app, pool_id, session, query);
    forgot_page(&app, &flow, None, StatusCode::OK)
}

async fn post_forgot(
    State(app): State<AppState>,
    Path(pool_id): Path<String>,
    session: Session,
    RawQuery(query): RawQuery,
    Form(form): Form<Fields>,
) -> Response {
    let flow = open_flow!(app, pool_id, session, query, form);
    let username = field(&form, "username").trim().to_string();
    match lifecycle::forgot_password(&app, &pool_id, &username).await {
        // Only an existing account reaches its message cap: the page answers as if a
        // code went out, so the cap does not reveal the account.
        Ok(()) | Err(Refusal::MessageLimit(_)) => {}
        Err(refusal) => {
            let (status, message) = explain(flow.t, &refusal);
            return forgot_page(&app, &flow, Some(message), status);
        }
    }
    let pending = Pending {
        pool_id,
        username,
        user_id: None,
        until: app.clock.now() + Purpose::Reset.lifetime(),
    };
    match session::put(&session, RESET, &pending).await {
        Ok(()) => Redirect::to(&flow.url(&app, "confirmForgotPassword")).into_response(),
        Err(e) => e.into_response(),
    }
}

fn reset_page(
    app: &Inner,
    flow: &Flow,
    pending: Option<&Pending>,
    error: Option<String>,
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
            rules: flow.pool.settings.password_policy.describe(),
            error,
        },
    )
}

async fn get_reset(
    State(app): State<AppState>,
    Path(pool_id): Path<String>,
    session: Session,
    RawQuery(query): RawQuery,
) -> Response {
    let flow = open_flow!(app, pool_id, session, query);
    match session::pending(&session, RESET, &pool_id, app.clock.now()).await {
        Ok(pending) => reset_page(&app, &flow, pending.as_ref(), None, StatusCode::OK),
        Err(e) => e.into_response(),
    }
}

async fn post_reset(
    State(app): State<AppState>,
    Path(pool_id): Path<String>,
    session: Session,
    RawQuery(query): RawQuery,
    Form(form): Form<Fields>,
) -> Response {
    let flow = open_flow!(app, pool_id, session, query, form);
    let pending = match session::pending(&session, RESET, &pool_id, app.clock.now()).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let password = field(&form, "password");
    if password != field(&form, "confirm_password") {
        return reset_page(
            &app,
            &flow,
            pending.as_ref(),
            Some(flow.t.passwords_differ.into()),
            StatusCode::BAD_REQUEST,
        );
    }
    let username = super::pending_username(pending.as_ref(), &form);
    match lifecycle::confirm_forgot_password(
        &app,
        &flow.pool,
        &username,
        field(&form, "code"),
        password,
    )
    .await
    {
        Ok(_) => {
            let done = async {
                session::remove(&session, RESET).await?;
                session::set_notice(&session, flow.t.password_changed).await
            };
            match done.await {
                Ok(()) => Redirect::to(&flow.url(&app, "login")).into_response(),
                Err(e) => e.into_response(),
            }
        }
        Err(refusal) => {
            let (status, message) = explain(flow.t, &refusal);
            reset_page(&app, &flow, pending.as_ref(), Some(message), status)
        }
    }
}
