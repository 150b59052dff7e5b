//! The hosted sign-in page. It carries the validated authorization request in its URL
//! (as Cognito's `/login` does), so nothing is stored before the user signs in; on
//! success (after the second factor, if the pool asks for one: `hosted_ui::mfa`) it
//! records the session and completes the authorization.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use tower_sessions::Session;

use super::flow::{Flow, FlowForm, PageError};
use super::mfa::second_step;
use super::pages::{LoginPage, Messages, ProviderButton, render};
use super::{field, refused, with_retry_after};
use crate::client_addr::ClientAddr;
use crate::clients::COGNITO;
use crate::clients::redirect::with_params;
use crate::error::AppError;
use crate::flows::sign_in::{self, SignedIn};
use crate::oauth::authorize::complete;
use crate::session::{self, NewPassword, NewPasswordStep, Pending};
use crate::state::{AppState, Inner};
use crate::users::Refusal;

/// How long a temporary password's holder has to choose a new one.
const NEW_PASSWORD_WINDOW: i64 = 600;

pub fn routes() -> Router<AppState> {
    Router::new().route("/{pool_id}/login", get(get_login).post(post_login))
}

async fn get_login(
    State(app): State<AppState>,
    session: Session,
    flow: Flow,
) -> Result<Response, PageError> {
    let notice = session::notice(&session).await?;
    let msgs = Messages::new("username").with_notice(notice);
    Ok(login_page(&app, &flow, "", msgs, StatusCode::OK))
}

async fn post_login(
    State(app): State<AppState>,
    session: Session,
    ClientAddr(addr): ClientAddr,
    FlowForm { flow, form }: FlowForm,
) -> Result<Response, PageError> {
    let pool_id = &flow.req.pool_id;
    let username = field(&form, "username").trim();
    let attempt = sign_in::Attempt {
        pool_id,
        client_id: &flow.req.client.client_id,
        username,
        addr,
        client_metadata: None,
        hosted_page: true,
    };
    // A notice (say, that the password was changed) stays beside the error.
    let notice = session::notice(&session).await?;
    let refuse = |refusal: Refusal| {
        let msgs = Messages::new("username").with_notice(notice.clone());
        let (status, msgs) = refused(flow.t, &refusal, msgs);
        with_retry_after(login_page(&app, &flow, username, msgs, status), &refusal)
    };
    let outcome = sign_in::sign_in(&app, &attempt, field(&form, "password")).await;
    if outcome.is_ok() {
        // Past the password: the notice was for this page.
        session::take_notice(&session).await?;
    }
    match outcome {
        Ok(SignedIn::Ready(user)) => match signed_in(&app, &flow, &session, &user).await {
            // The post authentication trigger refused: its message, on the form.
            Err(e @ AppError::Trigger(_)) => Ok(refuse(e.into())),
            other => Ok(other?),
        },
        Ok(SignedIn::NewPasswordRequired(user)) => {
            let pending = NewPasswordStep {
                step: Pending {
                    pool_id: pool_id.clone(),
                    username: user.username,
                    user_id: Some(user.user_id),
                    until: app.clock.now() + NEW_PASSWORD_WINDOW,
                },
                credential_version: Some(user.credential_version),
            };
            // The pending step lets this session choose the password and sign in:
            // it is a sign-in in all but name, so the session is renewed as for one.
            session::renew(&session).await?;
            session::put_step::<NewPassword>(&session, &pending).await?;
            Ok(flow.go(&app, "newPassword"))
        }
        Ok(SignedIn::Mfa(user, factor)) => {
            Ok(second_step(&app, &flow, &session, &user, Some(factor)).await?)
        }
        Ok(SignedIn::MfaSetup(user)) => Ok(second_step(&app, &flow, &session, &user, None).await?),
        Err(refusal) => Ok(refuse(refusal)),
    }
}

/// Raises post authentication, records the sign-in in the session and completes the
/// authorization.
pub async fn signed_in(
    app: &Inner,
    flow: &Flow,
    session: &Session,
    user: &crate::users::User,
) -> Result<Response, AppError> {
    sign_in::post_authentication(app, &flow.req.client.client_id, user, None).await?;
    let auth_time = app.clock.now();
    session::sign_in(app, session, &flow.req.pool_id, user, auth_time).await?;
    tracing::info!(pool_id = %flow.req.pool_id, user_id = %user.user_id, "signed in");
    complete(app, &flow.req, user, auth_time).await
}

fn login_page(
    app: &Inner,
    flow: &Flow,
    username: &str,
    msgs: Messages,
    status: StatusCode,
) -> Response {
    let t = flow.t;
    render(
        status,
        &LoginPage {
            chrome: flow.chrome(app, t.sign_in),
            t,
            action: flow.url(app, "login"),
            csrf_token: &flow.csrf,
            username,
            username_label: if flow.pool.settings.email_is_username() {
                t.email
            } else {
                t.username
            },
            msgs,
            signup_url: flow
                .pool
                .settings
                .allow_self_signup
                .then(|| flow.url(app, "signup")),
            forgot_url: flow.url(app, "forgotPassword"),
            show_password_form: flow.req.client.supports_provider(COGNITO),
            providers: flow
                .req
                .client
                .supported_identity_providers
                .iter()
                .filter(|p| p.as_str() != COGNITO)
                .map(|p| ProviderButton {
                    label: format!(
                        "{} {}",
                        t.continue_with,
                        match p.as_str() {
                            "LoginWithAmazon" => "Amazon",
                            "SignInWithApple" => "Apple",
                            _ => p,
                        }
                    ),
                    url: with_params(
                        &flow.url(app, "oauth2/authorize"),
                        &[("identity_provider", p)],
                    ),
                })
                .collect(),
        },
    )
}
