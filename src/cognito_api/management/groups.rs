//! `CreateGroup`, `GetGroup`, `UpdateGroup`, `ListGroups` and `DeleteGroup`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{existing_pool, not_found_as};
use crate::cognito_api::paging::{MAX_PAGE, PoolListing};
use crate::cognito_api::{ActionResult, CognitoError, parse, shapes};
use crate::error::AppError;
use crate::groups;
use crate::state::Inner;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GroupRequest {
    user_pool_id: String,
    group_name: String,
    description: Option<String>,
    role_arn: Option<String>,
    precedence: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GroupNameRequest {
    user_pool_id: String,
    group_name: String,
}

/// `ListGroups`' pages: `Limit` 0 to 60 (0: 60).
const LISTING: PoolListing = PoolListing::new("ListGroups", "Limit", 0, MAX_PAGE);

pub(super) async fn create_group(app: &Inner, request: &Value) -> ActionResult {
    let req: GroupRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    let group = groups::create_with_role(
        app,
        &pool.pool_id,
        &req.group_name,
        req.description.as_deref(),
        req.precedence,
        req.role_arn.as_deref(),
    )
    .await
    .map_err(|e| match e {
        AppError::Conflict(_) => CognitoError::new(
            "GroupExistsException",
            format!("A group with the name {} already exists.", req.group_name),
        ),
        other => other.into(),
    })?;
    Ok(json!({ "Group": shapes::group_type(&group) }))
}

pub(super) async fn get_group(app: &Inner, request: &Value) -> ActionResult {
    let req: GroupNameRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    let group = app
        .store
        .group_by_name(&pool.pool_id, &req.group_name)
        .await?
        .ok_or_else(group_not_found)?;
    Ok(json!({ "Group": shapes::group_type(&group) }))
}

pub(super) async fn update_group(app: &Inner, request: &Value) -> ActionResult {
    let req: GroupRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    let (description, precedence, role_arn) = (req.description, req.precedence, req.role_arn);
    // Only what is sent changes (Terraform sends only what changed); a description or
    // role sent empty is removed, as Terraform clears one.
    let cleared = |v: String| Some(v).filter(|v| !v.is_empty());
    let group = groups::update(app, &pool.pool_id, &req.group_name, move |g| {
        if let Some(d) = description {
            g.description = cleared(d);
        }
        if precedence.is_some() {
            g.precedence = precedence;
        }
        if let Some(r) = role_arn {
            g.role_arn = cleared(r);
        }
    })
    .await
    .map_err(|e| not_found_as(e, group_not_found))?;
    Ok(json!({ "Group": shapes::group_type(&group) }))
}

pub(super) async fn list_groups(app: &Inner, request: &Value) -> ActionResult {
    let (pool, page) = LISTING.open(app, request).await?;
    let read = app.store.groups_page(page.at(Some(&pool.pool_id))).await?;
    Ok(page.answer_read("Groups", read, |g| &g.group_name, shapes::group_type))
}

pub(super) async fn delete_group(app: &Inner, request: &Value) -> ActionResult {
    let req: GroupNameRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    groups::delete(app, &pool.pool_id, &req.group_name)
        .await
        .map_err(|e| not_found_as(e, group_not_found))?;
    Ok(json!({}))
}

fn group_not_found() -> CognitoError {
    CognitoError::not_found("Group not found.")
}
