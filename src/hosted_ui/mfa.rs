//! A hosted sign-in's second step, after the password: the code page (`/mfa`, a code
//! from the user's authenticator app or sent by e-mail) and the enrolment page
//! (`/mfaSetup`, an authenticator a pool that requires MFA makes the user set up).
//! Both open only through a step a proven password left in this session, holding the
//! credential version it was proven at: no URL alone reaches them, and a password or
//! status change since ends them. The rules are the API's challenges' (`flows::mfa`).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use tower_sessions::Session;

use super::flow::{Flow, FlowForm, PageError, Step};
use super::login::signed_in;
use super::pages::{Messages, MfaPage, MfaSetupPage, render};
use super::{field, refused, with_retry_after};
use crate::crypto::sha256_hex;
use crate::error::AppError;
use crate::flows::mfa as mfa_flow;
use crate::session::{self, Mfa, MfaSetup, MfaStep, Pending};
use crate::state::{AppState, Inner};
use crate::users::code_mail::{code_destination, masked_email};
use crate::users::codes::Purpose;
use crate::users::mfa::{self, Factor};
use crate::users::{Refusal, User};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/{pool_id}/mfa", get(get_mfa).post(post_mfa))
        .route("/{pool_id}/mfaSetup", get(get_setup).post(post_setup))
}

/// After the password: remembers the second step the sign-in goes on to (a code from
/// `factor`, or with none an authenticator's setup) and sends the browser to its page.
pub async fn second_step(
    app: &Inner,
    flow: &Flow,
    session: &Session,
    user: &User,
    factor: Option<Factor>,
) -> Result<Response, AppError> {
    let step = MfaStep {
        step: Pending {
            pool_id: flow.req.pool_id.clone(),
            username: user.username.clone(),
            user_id: Some(user.user_id.clone()),
            // As long as the API's challenge session (`AuthSessionValidity`).
            until: app.clock.now() + flow.req.client.auth_session_validity * 60,
        },
        credential_version: user.credential_version,
        factor: factor.map(|f| f.as_str().to_string()),
        destination: (factor == Some(Factor::Email))
            .then(|| masked_email(code_destination(user, Purpose::Mfa))),
        key_digest: None,
    };
    // The step lets this session finish the sign-in with a code: it is a sign-in in
    // all but name, so the session is renewed as for one.
    session::renew(session).await?;
    session::remove_step::<Mfa>(session).await?;
    session::remove_step::<MfaSetup>(session).await?;
    if factor.is_some() {
        session::put_step::<Mfa>(session, &step).await?;
        Ok(flow.go(app, "mfa"))
    } else {
        session::put_step::<MfaSetup>(session, &step).await?;
        Ok(flow.go(app, "mfaSetup"))
    }
}

/// The user a step was left for.
fn step_user(step: &MfaStep) -> Option<&str> {
    step.step.user_id.as_deref()
}

fn code_page(
    app: &Inner,
    flow: &Flow,
    step: &MfaStep,
    msgs: Messages,
    status: StatusCode,
) -> Response {
    let t = flow.t;
    let intro = match &step.destination {
        Some(to) => super::i18n::fill(t.mfa_email_intro, to),
        None => t.mfa_totp_intro.to_string(),
    };
    render(
        status,
        &MfaPage {
            chrome: flow.chrome(app, t.mfa_heading),
            t,
            intro,
            action: flow.url(app, "mfa"),
            csrf_token: &flow.csrf,
            msgs,
            login_url: flow.url(app, "login"),
        },
    )
}

async fn get_mfa(State(app): State<AppState>, flow: Flow, Step(step): Step<Mfa>) -> Response {
    match step {
        Some(step) => code_page(&app, &flow, &step, Messages::new("code"), StatusCode::OK),
        None => flow.go(&app, "login"),
    }
}

async fn post_mfa(
    State(app): State<AppState>,
    session: Session,
    Step(step): Step<Mfa>,
    FlowForm { flow, form }: FlowForm,
) -> Result<Response, PageError> {
    let Some(step) = step else {
        return Ok(flow.go(&app, "login"));
    };
    let factor = step.factor.as_deref().and_then(Factor::parse);
    let (Some(user_id), Some(factor)) = (step_user(&step), factor) else {
        session::remove_step::<Mfa>(&session).await?;
        return Ok(flow.go(&app, "login"));
    };
    let answered = mfa_flow::answer(
        &app,
        &flow.req.pool_id,
        user_id,
        step.credential_version,
        factor,
        field(&form, "code").trim(),
    )
    .await;
    let refuse = |refusal: Refusal| {
        let (status, msgs) = refused(flow.t, &refusal, Messages::new("code"));
        with_retry_after(code_page(&app, &flow, &step, msgs, status), &refusal)
    };
    match answered {
        Ok(user) => {
            session::remove_step::<Mfa>(&session).await?;
            match signed_in(&app, &flow, &session, &user).await {
                // The post authentication trigger refused: its message, on the page.
                Err(e @ AppError::Trigger(_)) => Ok(refuse(e.into())),
                other => Ok(other?),
            }
        }
        Err(refusal) => {
            // Overtaken by a change of the user's password or status: the step is over.
            if matches!(refusal, Refusal::BadCredentials | Refusal::Disabled) {
                session::remove_step::<Mfa>(&session).await?;
            }
            Ok(refuse(refusal))
        }
    }
}

/// The authenticator key to show: the one this step handed out, while it waits for
/// its first code, else a new one. A reload thus shows the key the person may have
/// scanned already; a key set meanwhile some other way (`AssociateSoftwareToken`) is
/// never shown, but replaced. The key itself stays sealed in the user's row: the
/// session holds only its digest.
async fn key_to_show(
    app: &Inner,
    session: &Session,
    step: &mut MfaStep,
    user: &User,
) -> Result<String, AppError> {
    if let Some(secret) = mfa::pending_secret(app, user).await?
        && step.key_digest.as_deref() == Some(sha256_hex(&secret).as_str())
    {
        return Ok(secret);
    }
    let secret = mfa::associate(app, user).await?;
    step.key_digest = Some(sha256_hex(&secret));
    session::put_step::<MfaSetup>(session, step).await?;
    Ok(secret)
}

/// The setup step's user, if the step still holds; otherwise the step is over.
async fn setting_up(
    app: &Inner,
    flow: &Flow,
    session: &Session,
    step: &MfaStep,
) -> Result<Option<User>, AppError> {
    let Some(user_id) = step_user(step) else {
        session::remove_step::<MfaSetup>(session).await?;
        return Ok(None);
    };
    match mfa_flow::setting_up(app, &flow.req.pool_id, user_id, step.credential_version).await {
        Ok(user) => Ok(Some(user)),
        Err(Refusal::Internal(e)) => Err(e),
        Err(_) => {
            session::remove_step::<MfaSetup>(session).await?;
            Ok(None)
        }
    }
}

fn setup_page(
    app: &Inner,
    flow: &Flow,
    user: &User,
    secret: &str,
    msgs: Messages,
    status: StatusCode,
) -> Response {
    let t = flow.t;
    // The authenticator's entry is named for the app the person signs in to, and for
    // the name they sign in with (the address, where the pool signs in by e-mail).
    let account = match user.attributes.get("email") {
        Some(email) if flow.pool.settings.email_is_username() => email.as_str(),
        _ => user.username.as_str(),
    };
    let otpauth_uri = mfa::otpauth_uri(secret, flow.req.client.display_name(), account);
    let qr_svg = otpauth_uri
        .as_deref()
        .and_then(mfa::qr_svg)
        // Inline in HTML, without the XML declaration.
        .map(|svg| {
            svg.find("<svg")
                .map_or(svg.clone(), |at| svg[at..].to_string())
        });
    render(
        status,
        &MfaSetupPage {
            chrome: flow.chrome(app, t.mfa_setup_heading),
            t,
            action: flow.url(app, "mfaSetup"),
            csrf_token: &flow.csrf,
            qr_svg,
            otpauth_uri,
            secret: grouped(secret),
            msgs,
            login_url: flow.url(app, "login"),
        },
    )
}

/// A key as groups of four characters, easier to read and type (authenticator apps
/// ignore the spaces).
fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

async fn get_setup(
    State(app): State<AppState>,
    session: Session,
    flow: Flow,
    Step(step): Step<MfaSetup>,
) -> Result<Response, PageError> {
    let Some(mut step) = step else {
        return Ok(flow.go(&app, "login"));
    };
    let Some(user) = setting_up(&app, &flow, &session, &step).await? else {
        return Ok(flow.go(&app, "login"));
    };
    let secret = key_to_show(&app, &session, &mut step, &user).await?;
    Ok(setup_page(
        &app,
        &flow,
        &user,
        &secret,
        Messages::new("code"),
        StatusCode::OK,
    ))
}

async fn post_setup(
    State(app): State<AppState>,
    session: Session,
    Step(step): Step<MfaSetup>,
    FlowForm { flow, form }: FlowForm,
) -> Result<Response, PageError> {
    let Some(mut step) = step else {
        return Ok(flow.go(&app, "login"));
    };
    let Some(user) = setting_up(&app, &flow, &session, &step).await? else {
        return Ok(flow.go(&app, "login"));
    };
    let code = field(&form, "code").trim();
    let proven = match mfa_flow::verify_software_token(&app, &user, code, true).await {
        Ok(()) => {
            mfa_flow::finish_setup(
                &app,
                &flow.req.pool_id,
                &user.user_id,
                step.credential_version,
            )
            .await
        }
        Err(refusal) => Err(refusal),
    };
    match proven {
        Ok(user) => {
            session::remove_step::<MfaSetup>(&session).await?;
            match signed_in(&app, &flow, &session, &user).await {
                // The post authentication trigger refused. The authenticator is set up
                // (the next sign-in asks for its code); the login page says why.
                Err(e @ AppError::Trigger(_)) => {
                    session::set_notice(&session, &e.public_message()).await?;
                    Ok(flow.go(&app, "login"))
                }
                other => Ok(other?),
            }
        }
        Err(Refusal::Internal(e)) => Err(e.into()),
        Err(Refusal::BadCredentials | Refusal::Disabled) => {
            session::remove_step::<MfaSetup>(&session).await?;
            Ok(flow.go(&app, "login"))
        }
        Err(refusal) => {
            // No key waiting (proven or replaced elsewhere) reads as a wrong code; the
            // page then shows a new key.
            let refusal = match refusal {
                Refusal::InvalidParameter(_) => Refusal::CodeMismatch,
                other => other,
            };
            let (status, msgs) = refused(flow.t, &refusal, Messages::new("code"));
            let secret = key_to_show(&app, &session, &mut step, &user).await?;
            Ok(with_retry_after(
                setup_page(&app, &flow, &user, &secret, msgs, status),
                &refusal,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::grouped;

    #[test]
    fn a_key_is_shown_in_groups_of_four() {
        assert_eq!(grouped("ABCDEFGHIJ"), "ABCD EFGH IJ");
        assert_eq!(grouped(""), "");
    }
}
