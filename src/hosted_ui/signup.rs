//! Sign-up, its confirmation (a code typed in, or the one-click link from the email)
//! and resending the code. When the browser that signed up confirms, it goes on to the
//! app with a code without signing in again: it proved the password moments ago.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_sessions::Session;

use super::flow::{Flow, FlowForm, PageError, Step};
use super::login::signed_in;
use super::pages::{ConfirmPage, Field, Messages, SignUpPage, render};
use super::{Fields, check_new_password, field, refused, rule_hints};
use crate::error::AppError;
use crate::flows::sign_up::{self, SignedUp};
use crate::session::{self, Pending, SignUp};
use crate::state::{AppState, Inner};
use crate::users::User;
use crate::users::codes::Purpose;
use crate::users::{self, Refusal};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/{pool_id}/signup", get(get_signup).post(post_signup))
        .route("/{pool_id}/confirm", get(get_confirm).post(post_confirm))
        .route("/{pool_id}/confirmLink/{token}", get(confirm_link))
        .route("/{pool_id}/resendCode", post(resend_code))
}

/// The sign-up form's fields: the username (or email), the pool's required
/// attributes, and the `custom:*` attributes the client may write.
fn signup_fields(flow: &Flow, form: Option<&Fields>) -> Vec<Field> {
    let settings = &flow.pool.settings;
    let value = |name: &str| form.map(|f| field(f, name).to_string()).unwrap_or_default();
    let mut fields = vec![if settings.email_is_username() {
        Field {
            name: "username".into(),
            label: flow.t.email.into(),
            input_type: "email",
            value: value("username"),
            required: true,
            autocomplete: "email",
        }
    } else {
        Field {
            name: "username".into(),
            label: flow.t.username.into(),
            input_type: "text",
            value: value("username"),
            required: true,
            autocomplete: "username",
        }
    }];
    let mut attributes: Vec<&str> = settings
        .required_attributes
        .iter()
        .map(String::as_str)
        .collect();
    if !attributes.contains(&"email") {
        attributes.insert(0, "email");
    }
    for name in attributes {
        if name == "email" && settings.email_is_username() {
            continue;
        }
        let (input_type, autocomplete) = match name {
            "email" => ("email", "email"),
            "phone_number" => ("tel", "tel"),
            "birthdate" => ("date", "bday"),
            "given_name" => ("text", "given-name"),
            "family_name" => ("text", "family-name"),
            "name" => ("text", "name"),
            _ => ("text", "off"),
        };
        fields.push(Field {
            name: name.to_string(),
            label: if name == "email" {
                flow.t.email.to_string()
            } else {
                label(name)
            },
            input_type,
            value: value(name),
            required: true,
            autocomplete,
        });
    }
    let custom = flow.req.client.write_attributes.iter();
    for name in custom.filter(|n| n.starts_with("custom:")) {
        fields.push(Field {
            name: name.clone(),
            label: label(name.trim_start_matches("custom:")),
            input_type: "text",
            value: value(name),
            required: false,
            autocomplete: "off",
        });
    }
    fields
}

/// `family_name` → `Family name`.
fn label(name: &str) -> String {
    let spaced = name.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn signup_page(
    app: &Inner,
    flow: &Flow,
    form: Option<&Fields>,
    msgs: Messages,
    status: StatusCode,
) -> Response {
    let t = flow.t;
    if !flow.pool.settings.allow_self_signup {
        return AppError::Invalid(t.signup_disabled.into()).into_response();
    }
    render(
        status,
        &SignUpPage {
            chrome: flow.chrome(app, t.sign_up),
            t,
            action: flow.url(app, "signup"),
            csrf_token: &flow.csrf,
            fields: signup_fields(flow, form),
            password_label: t.password,
            rules: rule_hints(t, &flow.pool.settings.password_policy),
            msgs,
            login_url: flow.url(app, "login"),
        },
    )
}

async fn get_signup(State(app): State<AppState>, flow: Flow) -> Response {
    signup_page(&app, &flow, None, Messages::new("username"), StatusCode::OK)
}

async fn post_signup(
    State(app): State<AppState>,
    session: Session,
    FlowForm { flow, form }: FlowForm,
) -> Result<Response, PageError> {
    let t = flow.t;
    let fail = |msgs: Messages, status| signup_page(&app, &flow, Some(&form), msgs, status);
    let mut username = field(&form, "username").trim().to_string();
    let mut attributes = BTreeMap::new();
    for f in signup_fields(&flow, None).iter().skip(1) {
        let v = field(&form, &f.name).trim();
        if !v.is_empty() {
            attributes.insert(f.name.clone(), v.to_string());
        }
    }
    // Everything the form can tell at once, in the form's order: the first field to
    // fix takes the focus.
    let mut msgs = Messages::new("username");
    for f in signup_fields(&flow, None) {
        if f.required && field(&form, &f.name).trim().is_empty() {
            msgs.error(Some(&f.name), super::i18n::fill(t.required, &f.label));
        }
    }
    if flow.pool.settings.email_is_username() {
        username = username.to_lowercase();
        if !username.is_empty() && !users::is_email(&username) {
            msgs.error(Some("username"), t.invalid_email.into());
        }
        attributes.insert("email".into(), username.clone());
    }
    let policy = &flow.pool.settings.password_policy;
    check_new_password(t, policy, &form, &username, &mut msgs);
    if msgs.has_errors() {
        return Ok(fail(msgs, StatusCode::BAD_REQUEST));
    }
    let password = field(&form, "password");
    let link = confirm_link_template(&app, &flow);
    let user_id = match sign_up::sign_up(
        &app,
        &flow.pool,
        &flow.req.client,
        &username,
        password,
        attributes,
        Some(&link),
        flow.pool.settings.prevent_user_existence_errors,
        None,
        None,
    )
    .await
    {
        // Confirmed by a pre sign-up trigger: signed in at once, no code to enter.
        Ok(SignedUp::Created(user)) if user.status == crate::users::UserStatus::Confirmed => {
            return Ok(signed_in(&app, &flow, &session, &user).await?);
        }
        Ok(SignedUp::Created(user)) => Some(user.user_id),
        Ok(SignedUp::Hidden) => None,
        Err(refusal) => {
            let (status, msgs) = refused(t, &refusal, Messages::new("username"));
            return Ok(fail(msgs, status));
        }
    };
    let pending = Pending {
        pool_id: flow.req.pool_id.clone(),
        username,
        user_id,
        until: app.clock.now() + Purpose::SignUp.lifetime(),
    };
    session::put_step::<SignUp>(&session, &pending).await?;
    Ok(flow.go(&app, "confirm"))
}

/// The link a confirmation email carries, `{token}` to be filled in: it continues
/// this flow.
fn confirm_link_template(app: &Inner, flow: &Flow) -> String {
    format!(
        "{}/confirmLink/{{token}}?{}",
        flow.req.base(app).pool,
        flow.req.query
    )
}

fn confirm_page(
    app: &Inner,
    flow: &Flow,
    pending: Option<&Pending>,
    msgs: Messages,
    status: StatusCode,
) -> Response {
    let t = flow.t;
    render(
        status,
        &ConfirmPage {
            chrome: flow.chrome(app, t.confirm_account),
            t,
            action: flow.url(app, "confirm"),
            resend_action: flow.url(app, "resendCode"),
            csrf_token: &flow.csrf,
            ask_username: pending.is_none(),
            username: pending.map(|p| p.username.as_str()).unwrap_or_default(),
            msgs,
            login_url: flow.url(app, "login"),
        },
    )
}

/// The confirmation page's messages before any error: where the code went, for the
/// browser that signed up; the first field to fill in takes the focus.
fn confirm_messages(flow: &Flow, pending: Option<&Pending>, notice: Option<String>) -> Messages {
    let notice = notice.or_else(|| pending.map(|_| flow.t.code_sent.to_string()));
    Messages::new(if pending.is_some() {
        "code"
    } else {
        "username"
    })
    .with_notice(notice)
}

/// The confirmation page again, saying why the code was refused (and still where it
/// was sent).
fn confirm_refused(
    app: &Inner,
    flow: &Flow,
    pending: Option<&Pending>,
    refusal: &Refusal,
) -> Response {
    let (status, msgs) = refused(flow.t, refusal, confirm_messages(flow, pending, None));
    confirm_page(app, flow, pending, msgs, status)
}

async fn get_confirm(
    State(app): State<AppState>,
    session: Session,
    flow: Flow,
    Step(pending): Step<SignUp>,
) -> Result<Response, PageError> {
    let notice = session::take_notice(&session).await?;
    let msgs = confirm_messages(&flow, pending.as_ref(), notice);
    Ok(confirm_page(
        &app,
        &flow,
        pending.as_ref(),
        msgs,
        StatusCode::OK,
    ))
}

async fn post_confirm(
    State(app): State<AppState>,
    session: Session,
    Step(pending): Step<SignUp>,
    FlowForm { flow, form }: FlowForm,
) -> Result<Response, PageError> {
    let pool_id = &flow.req.pool_id;
    let username = super::pending_username(pending.as_ref(), &form);
    let client_id = Some(flow.req.client.client_id.as_str());
    match sign_up::confirm_sign_up(
        &app,
        pool_id,
        &username,
        field(&form, "code"),
        client_id,
        None,
    )
    .await
    {
        Ok(user) => Ok(confirmed(&app, &flow, &session, pending.as_ref(), &user).await?),
        Err(refusal) => Ok(confirm_refused(&app, &flow, pending.as_ref(), &refusal)),
    }
}

async fn confirm_link(
    State(app): State<AppState>,
    session: Session,
    flow: Flow,
    Step(pending): Step<SignUp>,
    Path(LinkPath { token }): Path<LinkPath>,
) -> Result<Response, PageError> {
    match sign_up::confirm_by_link(&app, &flow.req.pool_id, &token).await {
        Ok(user) => Ok(confirmed(&app, &flow, &session, pending.as_ref(), &user).await?),
        Err(Refusal::Internal(e)) => Err(e.into()),
        Err(_) => Err(AppError::Invalid(
            "This confirmation link is invalid, used or expired. Sign in, or sign up again to get a new code.".into(),
        )
        .into()),
    }
}

/// The token of a `confirmLink` path.
#[derive(serde::Deserialize)]
struct LinkPath {
    token: String,
}

/// After confirmation: the browser that signed up goes on to the app; any other is
/// asked to sign in.
async fn confirmed(
    app: &Inner,
    flow: &Flow,
    session: &Session,
    pending: Option<&Pending>,
    user: &User,
) -> Result<Response, AppError> {
    session::remove_step::<SignUp>(session).await?;
    if pending.and_then(|p| p.user_id.as_deref()) == Some(user.user_id.as_str()) {
        return signed_in(app, flow, session, user).await;
    }
    session::set_notice(session, flow.t.confirmed_sign_in).await?;
    Ok(flow.go(app, "login"))
}

async fn resend_code(
    State(app): State<AppState>,
    session: Session,
    Step(pending): Step<SignUp>,
    FlowForm { flow, form }: FlowForm,
) -> Result<Response, PageError> {
    let username = super::pending_username(pending.as_ref(), &form);
    let link = confirm_link_template(&app, &flow);
    let client_id = Some(flow.req.client.client_id.as_str());
    match sign_up::resend_sign_up_code(
        &app,
        &flow.req.pool_id,
        &username,
        Some(&link),
        client_id,
        None,
    )
    .await
    {
        Ok(()) => {
            session::set_notice(&session, flow.t.code_resent).await?;
            Ok(flow.go(&app, "confirm"))
        }
        Err(refusal) => Ok(confirm_refused(&app, &flow, pending.as_ref(), &refusal)),
    }
}
