//! The new password an administrator-created user (`FORCE_CHANGE_PASSWORD`) must
//! choose after signing in with the temporary one; then on to the pool's second
//! factor, if it asks for one, and the app. The step holds the credential version the
//! temporary password was proven at, so an administrator's new password or a status
//! change since ends it.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use tower_sessions::Session;

use super::flow::{Flow, FlowForm, PageError, Step};
use super::login::signed_in;
use super::mfa::second_step;
use super::pages::{Messages, NewPasswordPage, render};
use super::{check_new_password, field, refused, rule_hints};
use crate::flows::mfa::Caller;
use crate::flows::sign_in::{self, SignedIn};
use crate::session::{self, NewPassword};
use crate::state::{AppState, Inner};
use crate::users::Refusal;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/{pool_id}/newPassword",
        get(get_new_password).post(post_new_password),
    )
}

fn page(app: &Inner, flow: &Flow, msgs: Messages, status: StatusCode) -> Response {
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
            password_label: t.new_password,
            rules: rule_hints(t, &flow.pool.settings.password_policy),
            msgs,
            login_url: flow.url(app, "login"),
        },
    )
}

async fn get_new_password(
    State(app): State<AppState>,
    flow: Flow,
    Step(pending): Step<NewPassword>,
) -> Response {
    match pending {
        Some(_) => page(&app, &flow, Messages::new("password"), StatusCode::OK),
        None => flow.go(&app, "login"),
    }
}

async fn post_new_password(
    State(app): State<AppState>,
    session: Session,
    Step(pending): Step<NewPassword>,
    FlowForm { flow, form }: FlowForm,
) -> Result<Response, PageError> {
    let Some(pending) = pending else {
        return Ok(flow.go(&app, "login"));
    };
    let mut msgs = Messages::new("password");
    let policy = &flow.pool.settings.password_policy;
    check_new_password(flow.t, policy, &form, &pending.step.username, &mut msgs);
    if msgs.has_errors() {
        return Ok(page(&app, &flow, msgs, StatusCode::BAD_REQUEST));
    }
    let password = field(&form, "password");
    let (Some(user_id), Some(challenged_at)) =
        (pending.step.user_id.as_deref(), pending.credential_version)
    else {
        return Ok(flow.go(&app, "login"));
    };
    let caller = Caller {
        client_id: &flow.req.client.client_id,
        client_metadata: None,
    };
    match sign_in::set_required_password(&app, caller, &flow.pool, user_id, challenged_at, password)
        .await
    {
        Ok(SignedIn::Ready(user)) => {
            session::remove_step::<NewPassword>(&session).await?;
            Ok(signed_in(&app, &flow, &session, &user).await?)
        }
        Ok(SignedIn::Mfa(user, factor)) => {
            session::remove_step::<NewPassword>(&session).await?;
            Ok(second_step(&app, &flow, &session, &user, Some(factor)).await?)
        }
        Ok(SignedIn::MfaSetup(user)) => {
            session::remove_step::<NewPassword>(&session).await?;
            Ok(second_step(&app, &flow, &session, &user, None).await?)
        }
        // The new password is what a temporary one leads to, never to another.
        Ok(SignedIn::NewPasswordRequired(_)) => {
            session::remove_step::<NewPassword>(&session).await?;
            Ok(flow.go(&app, "login"))
        }
        Err(refusal) => {
            // Overtaken by a change of the user's password or status: the step is over
            // for good, and says so as the login page refuses a password.
            if matches!(refusal, Refusal::BadCredentials) {
                session::remove_step::<NewPassword>(&session).await?;
            }
            let (status, msgs) = refused(flow.t, &refusal, Messages::new("password"));
            Ok(page(&app, &flow, msgs, status))
        }
    }
}
