//! The console's config export: a pool as the file `cognate apply` accepts (what
//! `cognate export --pool <id>` prints), shown and offered as a download. Never with
//! secrets: clients get `generate`, providers an `env:` name, and no password hashes.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use super::pages::{Frame, ok};
use super::pools::{PoolHead, load};
use super::{Answer, Operator};
use crate::declared::ExportOptions;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/pools/{pool}/export", get(get_export))
        .route("/admin/pools/{pool}/export.yaml", get(download))
}

/// The pool's export as YAML, without secrets.
async fn yaml(app: &AppState, pool_id: &str) -> Result<(String, Vec<String>), super::Failure> {
    let options = ExportOptions {
        pools: vec![pool_id.to_string()],
        with_password_hashes: false,
        secrets_dir: None,
    };
    let exported = crate::declared::export(app, &options)
        .await
        .map_err(crate::error::AppError::Internal)?;
    let text = serde_yaml_ng::to_string(&exported.document)
        .map_err(|e| crate::error::AppError::Internal(e.into()))?;
    Ok((text, exported.env_needed))
}

#[derive(Template)]
#[template(path = "console/export.html")]
struct ExportPage {
    frame: Frame,
    head: PoolHead,
    yaml: String,
    env_needed: Vec<String>,
}

async fn get_export(
    State(app): State<AppState>,
    operator: Operator,
    Path(pool_id): Path<String>,
) -> Answer {
    let pool = load(&app, &pool_id).await?;
    let (yaml, env_needed) = yaml(&app, &pool.pool_id).await?;
    Ok(ok(&ExportPage {
        frame: Frame::new(&operator, "pools", format!("Export {}", pool.name)),
        head: PoolHead::new(&pool, "export"),
        yaml,
        env_needed,
    }))
}

async fn download(
    State(app): State<AppState>,
    _operator: Operator,
    Path(pool_id): Path<String>,
) -> Answer {
    let pool = load(&app, &pool_id).await?;
    let (yaml, _) = yaml(&app, &pool.pool_id).await?;
    let disposition = format!("attachment; filename=\"{}.yaml\"", pool.pool_id);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/yaml; charset=utf-8".to_string(),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        yaml,
    )
        .into_response())
}
