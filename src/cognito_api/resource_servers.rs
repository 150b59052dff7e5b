//! The Cognito API's resource-server actions: create, describe, list, update and
//! delete an API's identifier and its custom scopes. Lists are keyset pages by
//! identifier, as the other management lists.

use serde::Deserialize;
use serde_json::{Value, json};

use super::management::{existing_pool, not_found_as, page, page_start, with_token};
use super::{ActionResult, CognitoError, parse};
use crate::error::AppError;
use crate::resource_servers::{self, MAX_PER_POOL, ResourceServer, Scope};
use crate::state::Inner;

/// `ListResourceServers`' largest page (its `MaxResults` is 1 to 50).
const MAX_PAGE: i64 = 50;

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

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListRequest {
    user_pool_id: String,
    max_results: Option<i64>,
    next_token: Option<String>,
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
    let req: ListRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    let size = match req.max_results {
        None => MAX_PAGE,
        Some(n) if (1..=MAX_PAGE).contains(&n) => n,
        Some(n) => {
            return Err(CognitoError::invalid(format!(
                "1 validation error detected: Value '{n}' at 'maxResults' failed to satisfy \
                 constraint: Member must have value between 1 and {MAX_PAGE}"
            )));
        }
    };
    let after = page_start(req.next_token.as_deref(), |k| {
        resource_servers::validate(k, "n", &[]).is_ok()
    })?;
    let found = app
        .store
        .resource_servers_page(&pool.pool_id, &after, size + 1)
        .await?;
    let (found, next) = page(found, size, |s| &s.identifier);
    let list: Vec<Value> = found.iter().map(server_type).collect();
    Ok(with_token(json!({ "ResourceServers": list }), next))
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
