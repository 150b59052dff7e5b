//! The console's pool pages: the list, creating a pool, a pool's overview and
//! deleting one (after re-authentication). Changes go through `crate::pool`.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::pages::{Frame, ok, render, time};
use super::{Answer, Checked, Operator, record, see_other};
use crate::error::AppError;
use crate::model::pool::Pool;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/pools", get(get_pools).post(post_pools))
        .route("/admin/pools/{pool}", get(get_pool).post(post_pool))
        .route(
            "/admin/pools/{pool}/delete",
            get(get_delete).post(post_delete),
        )
}

/// The pool a page is about, and which of its sections the page is: what the
/// breadcrumbs and the section tabs (`console/pool_tabs.html`) show.
pub struct PoolHead {
    pub pool_id: String,
    pub name: String,
    pub tab: &'static str,
}

/// A pool's sections: (key, path under the pool, label).
const TABS: &[(&str, &str, &str)] = &[
    ("settings", "", "Settings"),
    ("dashboard", "/dashboard", "Activity"),
    ("users", "/users", "Users"),
    ("clients", "/clients", "App clients"),
    ("messages", "/messages", "Messages"),
    ("triggers", "/triggers", "Triggers"),
    ("trigger-log", "/triggers/log", "Trigger log"),
    ("events", "/events", "Event log"),
    ("groups", "/groups", "Groups"),
    ("resource-servers", "/resource-servers", "Resource servers"),
    ("providers", "/providers", "Identity providers"),
    ("export", "/export", "Export"),
];

impl PoolHead {
    pub fn new(pool: &Pool, tab: &'static str) -> Self {
        Self {
            pool_id: pool.pool_id.clone(),
            name: pool.name.clone(),
            tab,
        }
    }

    pub fn tabs(&self) -> &'static [(&'static str, &'static str, &'static str)] {
        TABS
    }
}

/// A pool as a row of the list.
pub struct PoolRow {
    pub pool_id: String,
    pub name: String,
    pub created: String,
}

#[derive(Template)]
#[template(path = "console/pools.html")]
struct PoolsPage {
    frame: Frame,
    pools: Vec<PoolRow>,
    name: String,
    region: String,
}

async fn pools_page(
    app: &AppState,
    operator: &Operator,
    status: StatusCode,
    error: Option<String>,
    name: String,
    region: String,
) -> Answer {
    let pools = app
        .store
        .pools()
        .await?
        .into_iter()
        .map(|p| PoolRow {
            created: time(p.created_at),
            pool_id: p.pool_id,
            name: p.name,
        })
        .collect();
    let frame = Frame::new(operator, "pools", "User pools").error(error);
    Ok(render(
        status,
        &PoolsPage {
            frame,
            pools,
            name,
            region,
        },
    ))
}

async fn get_pools(State(app): State<AppState>, operator: Operator) -> Answer {
    pools_page(
        &app,
        &operator,
        StatusCode::OK,
        None,
        String::new(),
        "us-east-1".into(),
    )
    .await
}

#[derive(Deserialize)]
struct NewPool {
    #[serde(default)]
    name: String,
    #[serde(default)]
    region: String,
}

async fn post_pools(
    State(app): State<AppState>,
    operator: Operator,
    Checked(form): Checked<NewPool>,
) -> Answer {
    let region = match form.region.trim() {
        "" => "us-east-1",
        r => r,
    };
    match crate::pool::create(&app, form.name.trim(), region).await {
        Ok(pool) => {
            record(
                &app,
                &operator,
                "CreateUserPool",
                Some(&pool.pool_id),
                Some(&pool.name),
                true,
            );
            Ok(see_other(&format!("/admin/pools/{}", pool.pool_id)))
        }
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            record(
                &app,
                &operator,
                "CreateUserPool",
                None,
                Some(form.name.trim()),
                false,
            );
            pools_page(
                &app,
                &operator,
                StatusCode::BAD_REQUEST,
                Some(e.to_string()),
                form.name,
                form.region,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// The pool named in the path, or the console's 404.
pub async fn load(app: &AppState, pool_id: &str) -> Result<Pool, AppError> {
    app.store
        .pool_by_id(pool_id)
        .await?
        .ok_or(AppError::NotFound("user pool"))
}

#[derive(Template)]
#[template(path = "console/pool.html")]
struct PoolPage {
    frame: Frame,
    head: PoolHead,
    pool: Pool,
    created: String,
    form: SettingsForm,
}

/// The pool's settings form, as shown and as posted. Check boxes are absent when off.
#[derive(Deserialize, Default)]
struct SettingsForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    allow_self_signup: Option<String>,
    #[serde(default)]
    prevent_user_existence_errors: Option<String>,
    #[serde(default)]
    deletion_protection: Option<String>,
    #[serde(default)]
    minimum_length: String,
    #[serde(default)]
    require_uppercase: Option<String>,
    #[serde(default)]
    require_lowercase: Option<String>,
    #[serde(default)]
    require_numbers: Option<String>,
    #[serde(default)]
    require_symbols: Option<String>,
    #[serde(default)]
    password_history_size: String,
    #[serde(default)]
    temporary_password_validity_days: String,
}

impl SettingsForm {
    fn of(pool: &Pool) -> Self {
        let on = |b: bool| b.then(|| "on".to_string());
        let s = &pool.settings;
        let p = &s.password_policy;
        Self {
            name: pool.name.clone(),
            allow_self_signup: on(s.allow_self_signup),
            prevent_user_existence_errors: on(s.prevent_user_existence_errors),
            deletion_protection: on(s.deletion_protection),
            minimum_length: p.minimum_length.to_string(),
            require_uppercase: on(p.require_uppercase),
            require_lowercase: on(p.require_lowercase),
            require_numbers: on(p.require_numbers),
            require_symbols: on(p.require_symbols),
            password_history_size: p.password_history_size.to_string(),
            temporary_password_validity_days: p.temporary_password_validity_days.to_string(),
        }
    }

    /// The numbers of the form, or which one is not a number.
    fn numbers(&self) -> Result<(usize, u32, u32), String> {
        let minimum = self
            .minimum_length
            .trim()
            .parse()
            .map_err(|_| "the minimum password length must be a number")?;
        let history = self
            .password_history_size
            .trim()
            .parse()
            .map_err(|_| "the password history size must be a number")?;
        let days = self
            .temporary_password_validity_days
            .trim()
            .parse()
            .map_err(|_| "the temporary password validity must be a number of days")?;
        Ok((minimum, history, days))
    }
}

fn pool_page(
    operator: &Operator,
    pool: Pool,
    form: Option<SettingsForm>,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let frame = Frame::new(operator, "pools", format!("Pool {}", pool.name))
        .notice(notice)
        .error(error);
    render(
        status,
        &PoolPage {
            frame,
            head: PoolHead::new(&pool, "settings"),
            created: time(pool.created_at),
            form: form.unwrap_or_else(|| SettingsForm::of(&pool)),
            pool,
        },
    )
}

#[derive(Deserialize)]
struct Saved {
    saved: Option<String>,
}

async fn get_pool(
    State(app): State<AppState>,
    operator: Operator,
    Path(pool_id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<Saved>,
) -> Answer {
    let pool = load(&app, &pool_id).await?;
    let notice = q.saved.map(|_| "Saved.".to_string());
    Ok(pool_page(
        &operator,
        pool,
        None,
        StatusCode::OK,
        notice,
        None,
    ))
}

async fn post_pool(
    State(app): State<AppState>,
    operator: Operator,
    Path(pool_id): Path<String>,
    Checked(form): Checked<SettingsForm>,
) -> Answer {
    let pool = load(&app, &pool_id).await?;
    let result = match form.numbers() {
        Ok((minimum, history, days)) => {
            crate::pool::update_named(&app, &pool_id, Some(form.name.trim()), |s| {
                s.allow_self_signup = form.allow_self_signup.is_some();
                s.prevent_user_existence_errors = form.prevent_user_existence_errors.is_some();
                s.deletion_protection = form.deletion_protection.is_some();
                let p = &mut s.password_policy;
                p.minimum_length = minimum;
                p.require_uppercase = form.require_uppercase.is_some();
                p.require_lowercase = form.require_lowercase.is_some();
                p.require_numbers = form.require_numbers.is_some();
                p.require_symbols = form.require_symbols.is_some();
                p.password_history_size = history;
                p.temporary_password_validity_days = days;
            })
            .await
        }
        Err(e) => Err(AppError::Invalid(e)),
    };
    record(
        &app,
        &operator,
        "UpdateUserPool",
        Some(&pool_id),
        None,
        result.is_ok(),
    );
    match result {
        Ok(_) => Ok(see_other(&format!("/admin/pools/{pool_id}?saved=1"))),
        Err(e @ AppError::Invalid(_)) => Ok(pool_page(
            &operator,
            pool,
            Some(form),
            StatusCode::BAD_REQUEST,
            None,
            Some(e.to_string()),
        )),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "console/confirm_delete.html")]
pub struct ConfirmDelete {
    pub frame: Frame,
    /// What is deleted, in words.
    pub what: String,
    pub action: String,
    pub back: String,
}

async fn get_delete(
    State(app): State<AppState>,
    operator: Operator,
    Path(pool_id): Path<String>,
) -> Answer {
    let pool = load(&app, &pool_id).await?;
    let path = format!("/admin/pools/{}/delete", pool.pool_id);
    if let Some(res) = operator.require_recent(&app, &path) {
        return Ok(res);
    }
    Ok(confirm_page(&operator, &pool, path))
}

fn confirm_page(operator: &Operator, pool: &Pool, action: String) -> Response {
    ok(&ConfirmDelete {
        frame: Frame::new(operator, "pools", format!("Delete pool {}", pool.name)),
        what: format!(
            "the user pool {} ({}) with all its users, app clients, groups and identity providers",
            pool.name, pool.pool_id
        ),
        action,
        back: format!("/admin/pools/{}", pool.pool_id),
    })
}

#[derive(Deserialize)]
struct NoFields {}

async fn post_delete(
    State(app): State<AppState>,
    operator: Operator,
    Path(pool_id): Path<String>,
    Checked(NoFields {}): Checked<NoFields>,
) -> Answer {
    let path = format!("/admin/pools/{pool_id}/delete");
    if let Some(res) = operator.require_recent(&app, &path) {
        return Ok(res);
    }
    let result = crate::pool::delete(&app, &pool_id).await;
    record(
        &app,
        &operator,
        "DeleteUserPool",
        Some(&pool_id),
        None,
        result.is_ok(),
    );
    result?;
    Ok(see_other("/admin/pools"))
}
