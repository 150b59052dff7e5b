//! The new password an administrator-created user (`FORCE_CHANGE_PASSWORD`) must
//! choose after signing in with the temporary one; then on to the app. The step holds
//! the credential version the temporary password was proven at, so an administrator's
//! new password or a status change since ends it.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use tower_sessions::Session;

use super::flow::Flow;
use super::login::signed_in;
use super::open_flow;
use super::pages::{NewPasswordPage, render};
use super::session::{self, NEW_PASSWORD};
use super::{Fields, explain, field};
use crate::state::{AppState, Inner};
use crate::users::lifecycle::{self, Refusal};

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/{pool_id}/newPassword",
        get(get_new_password).post(post_new_password),
    )
}

fn page(app: &Inner, flow: &Flow, error: Option<String>, status: StatusCode) -> Response {
    let t = flow.t;
    render(
        status,
        &NewPasswordPage {
            chrome: flow.chrome(app, t.change_password),
            t,
            heading: t.change_password,
            intro: t.new_password_intro,
            action: flow.url(app, "newPassword"),
            csrf_token: &flow.csrf,
            with_code: false,
            ask_username: false,
            username: "",
            rules: flow.pool.settings.password_policy.describe(),
            error,
        },
    )
}

async fn get_new_password(
    State(app): State<AppState>,
    Path(pool_id): Path<String>,
    session: Session,
    RawQuery(query): RawQuery,
) -> Response {
    let flow = open_flow!(app, pool_id, session, query);
    match session::pending_new_password(&session, &pool_id, app.clock.now()).await {
        Ok(Some(_)) => page(&app, &flow, None, StatusCode::OK),
        Ok(None) => Redirect::to(&flow.url(&app, "login")).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn post_new_password(
    State(app): State<AppState>,
    Path(pool_id): Path<String>,
    session: Session,
    RawQuery(query): RawQuery,
    Form(form): Form<Fields>,
) -> Response {
    let flow = open_flow!(app, pool_id, session, query, form);
    let pending = match session::pending_new_password(&session, &pool_id, app.clock.now()).await {
        Ok(Some(p)) => p,
        Ok(None) => return Redirect::to(&flow.url(&app, "login")).into_response(),
        Err(e) => return e.into_response(),
    };
    let password = field(&form, "password");
    if password != field(&form, "confirm_password") {
        return page(
            &app,
            &flow,
            Some(flow.t.passwords_differ.into()),
            StatusCode::BAD_REQUEST,
        );
    }
    let (Some(user_id), Some(challenged_at)) =
        (pending.step.user_id.as_deref(), pending.credential_version)
    else {
        return Redirect::to(&flow.url(&app, "login")).into_response();
    };
    match lifecycle::set_required_password(&app, &flow.pool, user_id, challenged_at, password).await
    {
        Ok(user) => {
            if let Err(e) = session::remove(&session, NEW_PASSWORD).await {
                return e.into_response();
            }
            signed_in(&app, &flow, &session, &user)
                .await
                .into_response()
        }
        Err(refusal) => {
            // Overtaken by a change of the user's password or status: the step is over
            // for good, and says so as the login page refuses a password.
            if matches!(refusal, Refusal::BadCredentials)
                && let Err(e) = session::remove(&session, NEW_PASSWORD).await
            {
                return e.into_response();
            }
            let (status, message) = explain(flow.t, &refusal);
            page(&app, &flow, Some(message), status)
        }
    }
}
