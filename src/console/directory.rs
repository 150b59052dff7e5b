//! The console's groups and resource servers pages: list, create, delete (deleting
//! asks for a recent re-authentication). Changes go through `crate::groups` and
//! `crate::resource_servers`.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;

use super::pages::{Frame, render};
use super::pools::{PoolHead, load};
use super::{Answer, Checked, Operator, record, see_other};
use crate::error::AppError;
use crate::model::groups::Group;
use crate::model::pool::Pool;
use crate::model::resource_servers::{ResourceServer, Scope};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/pools/{pool}/groups",
            get(get_groups).post(post_groups),
        )
        .route(
            "/admin/pools/{pool}/groups/{group}/delete",
            post(delete_group),
        )
        .route(
            "/admin/pools/{pool}/resource-servers",
            get(get_servers).post(post_servers),
        )
        .route(
            "/admin/pools/{pool}/resource-servers/delete",
            post(delete_server),
        )
}

fn status_of(error: &Option<String>) -> StatusCode {
    match error {
        Some(_) => StatusCode::BAD_REQUEST,
        None => StatusCode::OK,
    }
}

#[derive(Template)]
#[template(path = "console/groups.html")]
struct GroupsPage {
    frame: Frame,
    head: PoolHead,
    groups: Vec<Group>,
    form: GroupForm,
}

#[derive(Deserialize, Default)]
struct GroupForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    precedence: String,
}

async fn groups_page(
    app: &AppState,
    operator: &Operator,
    pool: &Pool,
    form: GroupForm,
    error: Option<String>,
) -> Answer {
    let groups = app.store.groups(&pool.pool_id).await?;
    let status = status_of(&error);
    let frame = Frame::new(operator, "pools", format!("Groups of {}", pool.name)).error(error);
    Ok(render(
        status,
        &GroupsPage {
            frame,
            head: PoolHead::new(pool, "groups"),
            groups,
            form,
        },
    ))
}

async fn get_groups(
    State(app): State<AppState>,
    operator: Operator,
    Path(pool_id): Path<String>,
) -> Answer {
    let pool = load(&app, &pool_id).await?;
    groups_page(&app, &operator, &pool, GroupForm::default(), None).await
}

async fn post_groups(
    State(app): State<AppState>,
    operator: Operator,
    Path(pool_id): Path<String>,
    Checked(form): Checked<GroupForm>,
) -> Answer {
    let pool = load(&app, &pool_id).await?;
    let precedence = match form.precedence.trim() {
        "" => Ok(None),
        p => p
            .parse()
            .map(Some)
            .map_err(|_| AppError::Invalid("precedence must be a whole number".into())),
    };
    let description = Some(form.description.trim()).filter(|d| !d.is_empty());
    let result = match precedence {
        Ok(p) => crate::groups::create(&app, &pool_id, form.name.trim(), description, p).await,
        Err(e) => Err(e),
    };
    record(
        &app,
        &operator,
        "CreateGroup",
        Some(&pool_id),
        Some(form.name.trim()),
        result.is_ok(),
    );
    match result {
        Ok(_) => Ok(see_other(&format!("/admin/pools/{pool_id}/groups"))),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            groups_page(&app, &operator, &pool, form, Some(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct NoFields {}

async fn delete_group(
    State(app): State<AppState>,
    operator: Operator,
    Path((pool_id, group)): Path<(String, String)>,
    Checked(NoFields {}): Checked<NoFields>,
) -> Answer {
    let back = format!("/admin/pools/{pool_id}/groups");
    if let Some(res) = operator.require_recent(&app, &back) {
        return Ok(res);
    }
    let result = crate::groups::delete(&app, &pool_id, &group).await;
    record(
        &app,
        &operator,
        "DeleteGroup",
        Some(&pool_id),
        Some(&group),
        result.is_ok(),
    );
    result?;
    Ok(see_other(&back))
}

#[derive(Template)]
#[template(path = "console/resource_servers.html")]
struct ServersPage {
    frame: Frame,
    head: PoolHead,
    servers: Vec<ResourceServer>,
    form: ServerForm,
}

impl ServersPage {
    fn scope_names(&self, server: &ResourceServer) -> String {
        server
            .scopes
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[derive(Deserialize, Default)]
struct ServerForm {
    #[serde(default)]
    identifier: String,
    #[serde(default)]
    name: String,
    /// One scope a line: `name description…`.
    #[serde(default)]
    scopes: String,
}

async fn servers_page(
    app: &AppState,
    operator: &Operator,
    pool: &Pool,
    form: ServerForm,
    error: Option<String>,
) -> Answer {
    let servers = app.store.resource_servers(&pool.pool_id).await?;
    let status = status_of(&error);
    let frame = Frame::new(
        operator,
        "pools",
        format!("Resource servers of {}", pool.name),
    )
    .error(error);
    Ok(render(
        status,
        &ServersPage {
            frame,
            head: PoolHead::new(pool, "resource-servers"),
            servers,
            form,
        },
    ))
}

async fn get_servers(
    State(app): State<AppState>,
    operator: Operator,
    Path(pool_id): Path<String>,
) -> Answer {
    let pool = load(&app, &pool_id).await?;
    servers_page(&app, &operator, &pool, ServerForm::default(), None).await
}

async fn post_servers(
    State(app): State<AppState>,
    operator: Operator,
    Path(pool_id): Path<String>,
    Checked(form): Checked<ServerForm>,
) -> Answer {
    let pool = load(&app, &pool_id).await?;
    let scopes: Vec<Scope> = form
        .scopes
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (name, description) = l.split_once(char::is_whitespace).unwrap_or((l, l));
            Scope {
                name: name.to_string(),
                description: description.trim().to_string(),
            }
        })
        .collect();
    let count = app.store.resource_servers(&pool_id).await?.len();
    let result = if count >= crate::resource_servers::MAX_PER_POOL {
        Err(AppError::Invalid(format!(
            "a pool has at most {} resource servers",
            crate::resource_servers::MAX_PER_POOL
        )))
    } else {
        crate::resource_servers::create(
            &app,
            &pool_id,
            form.identifier.trim(),
            form.name.trim(),
            scopes,
        )
        .await
    };
    record(
        &app,
        &operator,
        "CreateResourceServer",
        Some(&pool_id),
        Some(form.identifier.trim()),
        result.is_ok(),
    );
    match result {
        Ok(_) => Ok(see_other(&format!(
            "/admin/pools/{pool_id}/resource-servers"
        ))),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            servers_page(&app, &operator, &pool, form, Some(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct Identifier {
    #[serde(default)]
    identifier: String,
}

/// Deletes a resource server; its identifier comes in the form (identifiers are
/// URLs, awkward in a path).
async fn delete_server(
    State(app): State<AppState>,
    operator: Operator,
    Path(pool_id): Path<String>,
    Checked(form): Checked<Identifier>,
) -> Answer {
    let back = format!("/admin/pools/{pool_id}/resource-servers");
    if let Some(res) = operator.require_recent(&app, &back) {
        return Ok(res);
    }
    let result = crate::resource_servers::delete(&app, &pool_id, &form.identifier).await;
    record(
        &app,
        &operator,
        "DeleteResourceServer",
        Some(&pool_id),
        Some(&form.identifier),
        result.is_ok(),
    );
    result?;
    Ok(see_other(&back))
}
