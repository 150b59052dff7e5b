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
        .route("/admin/pools/{pool}", get(get_pool))
        .route(
            "/admin/pools/{pool}/delete",
            get(get_delete).post(post_delete),
        )
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
    pool: Pool,
    created: String,
}

async fn get_pool(
    State(app): State<AppState>,
    operator: Operator,
    Path(pool_id): Path<String>,
) -> Answer {
    let pool = load(&app, &pool_id).await?;
    let frame = Frame::new(&operator, "pools", format!("Pool {}", pool.name));
    Ok(ok(&PoolPage {
        frame,
        created: time(pool.created_at),
        pool,
    }))
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
