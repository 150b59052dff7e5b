//! `TagResource`, `UntagResource` and `ListTagsForResource` on a pool's ARN
//! (`arn:aws:cognito-idp:<region>:000000000000:userpool/<pool-id>`, as
//! `DescribeUserPool` reports it). The tags live with the pool, so `DescribeUserPool`'s
//! `UserPoolTags` always shows what these actions set.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{not_found_as, pool_not_found};
use crate::cognito_api::{ActionResult, CognitoError, parse, shapes};
use crate::pool::{self, Pool};
use crate::state::Inner;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagResourceRequest {
    resource_arn: String,
    tags: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UntagResourceRequest {
    resource_arn: String,
    tag_keys: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListTagsForResourceRequest {
    resource_arn: String,
}

/// The pool `arn` names: a malformed ARN is a bad parameter, one that names no pool
/// (or another region or account) a missing resource.
async fn tagged_pool(app: &Inner, arn: &str) -> Result<Pool, CognitoError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" || !(20..=2048).contains(&arn.len()) {
        return Err(CognitoError::invalid(format!(
            "1 validation error detected: Value at 'resourceArn' failed to satisfy \
             constraint: {arn:?} is not an ARN."
        )));
    }
    let not_found = || CognitoError::not_found(format!("The resource {arn} does not exist."));
    let pool_id = parts[5].strip_prefix("userpool/").ok_or_else(not_found)?;
    if !pool::is_pool_id(pool_id) || shapes::pool_arn(pool_id) != arn {
        return Err(not_found());
    }
    app.store.pool_by_id(pool_id).await?.ok_or_else(not_found)
}

pub(super) async fn tag_resource(app: &Inner, request: &Value) -> ActionResult {
    let req: TagResourceRequest = parse(request)?;
    let pool = tagged_pool(app, &req.resource_arn).await?;
    pool::update(app, &pool.pool_id, move |s| s.tags.extend(req.tags))
        .await
        .map_err(|e| not_found_as(e, || pool_not_found(&pool.pool_id)))?;
    Ok(json!({}))
}

pub(super) async fn untag_resource(app: &Inner, request: &Value) -> ActionResult {
    let req: UntagResourceRequest = parse(request)?;
    let pool = tagged_pool(app, &req.resource_arn).await?;
    pool::update(app, &pool.pool_id, move |s| {
        for key in &req.tag_keys {
            s.tags.remove(key);
        }
    })
    .await
    .map_err(|e| not_found_as(e, || pool_not_found(&pool.pool_id)))?;
    Ok(json!({}))
}

pub(super) async fn list_tags_for_resource(app: &Inner, request: &Value) -> ActionResult {
    let req: ListTagsForResourceRequest = parse(request)?;
    let pool = tagged_pool(app, &req.resource_arn).await?;
    Ok(json!({ "Tags": pool.settings.tags }))
}
