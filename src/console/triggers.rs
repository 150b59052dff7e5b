//! The console's triggers page: a pool's `LambdaConfig`, one target per trigger (a
//! Lambda ARN or an `https://` webhook URL; empty for none), checked and saved by
//! `crate::pool::update` as the Cognito API's `UpdateUserPool` does.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde::Deserialize;

use super::pages::{Frame, render};
use super::pools::{PoolHead, load};
use super::{Answer, Checked, Operator, record, see_other};
use crate::error::AppError;
use crate::model::pool::Pool;
use crate::model::triggers::LambdaConfig;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/admin/pools/{pool}/triggers",
        get(get_triggers).post(post_triggers),
    )
}

/// The triggers' form fields, with Cognito's names as labels.
#[derive(Deserialize, Default)]
struct TriggerForm {
    #[serde(default)]
    pre_sign_up: String,
    #[serde(default)]
    custom_message: String,
    #[serde(default)]
    post_confirmation: String,
    #[serde(default)]
    pre_authentication: String,
    #[serde(default)]
    post_authentication: String,
    #[serde(default)]
    define_auth_challenge: String,
    #[serde(default)]
    create_auth_challenge: String,
    #[serde(default)]
    verify_auth_challenge_response: String,
    #[serde(default)]
    pre_token_generation: String,
    #[serde(default)]
    user_migration: String,
}

/// Each trigger: (field name, label).
const FIELDS: [(&str, &str); 10] = [
    ("pre_sign_up", "PreSignUp"),
    ("custom_message", "CustomMessage"),
    ("post_confirmation", "PostConfirmation"),
    ("pre_authentication", "PreAuthentication"),
    ("post_authentication", "PostAuthentication"),
    ("define_auth_challenge", "DefineAuthChallenge"),
    ("create_auth_challenge", "CreateAuthChallenge"),
    (
        "verify_auth_challenge_response",
        "VerifyAuthChallengeResponse",
    ),
    ("pre_token_generation", "PreTokenGeneration"),
    ("user_migration", "UserMigration"),
];

impl TriggerForm {
    fn of(c: &LambdaConfig) -> Self {
        let t = |v: &Option<String>| v.clone().unwrap_or_default();
        Self {
            pre_sign_up: t(&c.pre_sign_up),
            custom_message: t(&c.custom_message),
            post_confirmation: t(&c.post_confirmation),
            pre_authentication: t(&c.pre_authentication),
            post_authentication: t(&c.post_authentication),
            define_auth_challenge: t(&c.define_auth_challenge),
            create_auth_challenge: t(&c.create_auth_challenge),
            verify_auth_challenge_response: t(&c.verify_auth_challenge_response),
            pre_token_generation: t(&c.pre_token_generation),
            user_migration: t(&c.user_migration),
        }
    }

    fn value(&self, field: &str) -> &str {
        match field {
            "pre_sign_up" => &self.pre_sign_up,
            "custom_message" => &self.custom_message,
            "post_confirmation" => &self.post_confirmation,
            "pre_authentication" => &self.pre_authentication,
            "post_authentication" => &self.post_authentication,
            "define_auth_challenge" => &self.define_auth_challenge,
            "create_auth_challenge" => &self.create_auth_challenge,
            "verify_auth_challenge_response" => &self.verify_auth_challenge_response,
            "pre_token_generation" => &self.pre_token_generation,
            "user_migration" => &self.user_migration,
            _ => "",
        }
    }

    /// Sets the targets on `c`; the pre token generation version config is kept, and
    /// follows the plain target when that changes.
    fn apply(&self, c: &mut LambdaConfig) {
        let t = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
        c.pre_sign_up = t(&self.pre_sign_up);
        c.custom_message = t(&self.custom_message);
        c.post_confirmation = t(&self.post_confirmation);
        c.pre_authentication = t(&self.pre_authentication);
        c.post_authentication = t(&self.post_authentication);
        c.define_auth_challenge = t(&self.define_auth_challenge);
        c.create_auth_challenge = t(&self.create_auth_challenge);
        c.verify_auth_challenge_response = t(&self.verify_auth_challenge_response);
        let pre_token = t(&self.pre_token_generation);
        match (&pre_token, &mut c.pre_token_generation_config) {
            (None, config) => *config = None,
            (Some(target), Some(config)) => config.lambda_arn = target.clone(),
            (Some(_), None) => {}
        }
        c.pre_token_generation = pre_token;
        c.user_migration = t(&self.user_migration);
    }
}

#[derive(Template)]
#[template(path = "console/triggers.html")]
struct TriggersPage {
    frame: Frame,
    head: PoolHead,
    form: TriggerForm,
    /// The pre token generation event version, when set.
    version: Option<String>,
}

impl TriggersPage {
    fn fields(&self) -> Vec<(&'static str, &'static str, &str)> {
        FIELDS
            .iter()
            .map(|(f, l)| (*f, *l, self.form.value(f)))
            .collect()
    }
}

fn page(
    operator: &Operator,
    pool: &Pool,
    form: Option<TriggerForm>,
    notice: Option<String>,
    error: Option<String>,
) -> Answer {
    let status = match error {
        Some(_) => StatusCode::BAD_REQUEST,
        None => StatusCode::OK,
    };
    let frame = Frame::new(operator, "pools", format!("Triggers of {}", pool.name))
        .notice(notice)
        .error(error);
    let config = &pool.settings.lambda_config;
    Ok(render(
        status,
        &TriggersPage {
            frame,
            head: PoolHead::new(pool, "triggers"),
            form: form.unwrap_or_else(|| TriggerForm::of(config)),
            version: config
                .pre_token_generation_config
                .as_ref()
                .map(|c| c.lambda_version.clone()),
        },
    ))
}

#[derive(Deserialize)]
struct Saved {
    saved: Option<String>,
}

async fn get_triggers(
    State(app): State<AppState>,
    operator: Operator,
    Path(pool_id): Path<String>,
    Query(q): Query<Saved>,
) -> Answer {
    let pool = load(&app, &pool_id).await?;
    page(
        &operator,
        &pool,
        None,
        q.saved.map(|_| "Saved.".into()),
        None,
    )
}

async fn post_triggers(
    State(app): State<AppState>,
    operator: Operator,
    Path(pool_id): Path<String>,
    Checked(form): Checked<TriggerForm>,
) -> Answer {
    let pool = load(&app, &pool_id).await?;
    let result = crate::pool::update(&app, &pool_id, |s| form.apply(&mut s.lambda_config)).await;
    record(
        &app,
        &operator,
        "UpdateUserPool",
        Some(&pool_id),
        Some("LambdaConfig"),
        result.is_ok(),
    );
    match result {
        Ok(_) => Ok(see_other(&format!(
            "/admin/pools/{pool_id}/triggers?saved=1"
        ))),
        Err(e @ AppError::Invalid(_)) => {
            page(&operator, &pool, Some(form), None, Some(e.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}
