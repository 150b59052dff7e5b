//! Groups: named sets of users that appear in tokens as `cognito:groups`, ordered by
//! precedence (lowest first), as Cognito orders them.

use serde::Serialize;

/// A group of a pool.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Group {
    pub pool_id: String,
    pub group_name: String,
    pub description: Option<String>,
    pub precedence: Option<i64>,
    pub role_arn: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Checks a group name as Cognito does: 1 to 128 characters, no whitespace.
pub fn validate_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.chars().count() > 128 || name.chars().any(char::is_whitespace) {
        return Err("group name must be 1 to 128 characters without whitespace".into());
    }
    Ok(())
}

use crate::error::AppError;
use crate::state::Inner;

/// Creates a group.
pub async fn create(
    app: &Inner,
    pool_id: &str,
    name: &str,
    description: Option<&str>,
    precedence: Option<i64>,
) -> Result<Group, AppError> {
    validate_name(name).map_err(AppError::Invalid)?;
    if precedence.is_some_and(|p| p < 0) {
        return Err(AppError::Invalid("precedence must not be negative".into()));
    }
    if app.store.pool_by_id(pool_id).await?.is_none() {
        return Err(AppError::NotFound("user pool"));
    }
    let now = app.clock.now();
    let group = Group {
        pool_id: pool_id.to_string(),
        group_name: name.to_string(),
        description: description.map(str::to_string),
        precedence,
        role_arn: None,
        created_at: now,
        updated_at: now,
    };
    app.store.insert_group(&group).await.map_err(|e| match e {
        crate::store::StoreError::Conflict => AppError::Conflict("a group with that name"),
        other => other.into(),
    })?;
    Ok(group)
}

/// Adds or removes a user's membership in a group; the change shows in tokens at the
/// user's next refresh.
pub async fn set_membership(
    app: &Inner,
    pool_id: &str,
    group: &str,
    username: &str,
    member: bool,
) -> Result<(), AppError> {
    let user = app
        .store
        .user_by_name(pool_id, username)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    app.store
        .group_by_name(pool_id, group)
        .await?
        .ok_or(AppError::NotFound("group"))?;
    if member {
        app.store
            .insert_membership(pool_id, group, &user.user_id)
            .await?;
    } else {
        app.store
            .delete_membership(pool_id, group, &user.user_id)
            .await?;
    }
    Ok(())
}
