//! The Cognito API's resource-server actions: create, describe, list, update and
//! delete an API's identifier and its custom scopes. Lists page by identifier, as
//! every list does ([`super::paging`]).

use serde::Deserialize;
use serde_json::{Value, json};

use super::management::{existing_pool, not_found_as};
use super::paging::PoolListing;
use super::{ActionResult, CognitoError, parse};
use crate::error::AppError;
use crate::resource_servers::{self, MAX_PER_POOL, ResourceServer, Scope};
use crate::state::Inner;

/// `ListResourceServers`' pages: `MaxResults` 1 to 50.
const LISTING: PoolListing = PoolListing::new("ListResourceServers", "MaxResults", 1, 50);

pub async fn run(app: &Inner, action: &str, request: &Value) -> Option<ActionResult> {
    Some(match action {
        "CreateResourceServer" => create(app, request).await,
        "DescribeResourceServer" => describe(app, request).await,
        "ListResourceServers" => list(app, request).await,
        "UpdateResourceServer" => update(app, request).await,
        "DeleteResourceServer" => delete(app, request).await,
        _ => return None,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ScopeShape {
    scope_name: String,
    scope_description: String,
}

/// `CreateResourceServer` and `UpdateResourceServer` take the same members.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ServerRequest {
    user_pool_id: String,
    identifier: String,
    name: String,
    scopes: Option<Vec<ScopeShape>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct IdentifierRequest {
    user_pool_id: String,
    identifier: String,
}

fn scopes(shapes: Option<Vec<ScopeShape>>) -> Vec<Scope> {
    shapes
        .unwrap_or_default()
        .into_iter()
        .map(|s| Scope {
            name: s.scope_name,
            description: s.scope_description,
        })
        .collect()
}

/// `ResourceServerType`.
fn server_type(s: &ResourceServer) -> Value {
    let scopes: Vec<Value> = s
        .scopes
        .iter()
        .map(|sc| json!({ "ScopeName": sc.name, "ScopeDescription": sc.description }))
        .collect();
    json!({
        "UserPoolId": s.pool_id,
        "Identifier": s.identifier,
        "Name": s.name,
        "Scopes": scopes,
    })
}

fn not_found() -> CognitoError {
    CognitoError::not_found("Resource server not found.")
}

async fn create(app: &Inner, request: &Value) -> ActionResult {
    let req: ServerRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    if app.store.resource_servers(&pool.pool_id).await?.len() >= MAX_PER_POOL {
        return Err(CognitoError::new(
            "LimitExceededException",
            format!("A user pool has at most {MAX_PER_POOL} resource servers."),
        ));
    }
    let server = resource_servers::create(
        app,
        &pool.pool_id,
        &req.identifier,
        &req.name,
        scopes(req.scopes),
    )
    .await
    .map_err(|e| match e {
        AppError::Conflict(_) => CognitoError::invalid(format!(
            "A resource server with identifier {} already exists in this user pool.",
            req.identifier
        )),
        other => other.into(),
    })?;
    Ok(json!({ "ResourceServer": server_type(&server) }))
}

async fn describe(app: &Inner, request: &Value) -> ActionResult {
    let req: IdentifierRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    let server = app
        .store
        .resource_server(&pool.pool_id, &req.identifier)
        .await?
        .ok_or_else(not_found)?;
    Ok(json!({ "ResourceServer": server_type(&server) }))
}

async fn list(app: &Inner, request: &Value) -> ActionResult {
    let (pool, page) = LISTING.open(app, request).await?;
    let read = app
        .store
        .resource_servers_page(page.at(Some(&pool.pool_id)))
        .await?;
    Ok(page.answer_read("ResourceServers", read, |s| &s.identifier, server_type))
}

async fn update(app: &Inner, request: &Value) -> ActionResult {
    let req: ServerRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    let server = resource_servers::update(
        app,
        &pool.pool_id,
        &req.identifier,
        &req.name,
        scopes(req.scopes),
    )
    .await
    .map_err(|e| not_found_as(e, not_found))?;
    Ok(json!({ "ResourceServer": server_type(&server) }))
}

async fn delete(app: &Inner, request: &Value) -> ActionResult {
    let req: IdentifierRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    resource_servers::delete(app, &pool.pool_id, &req.identifier)
        .await
        .map_err(|e| not_found_as(e, not_found))?;
    Ok(json!({}))
}
