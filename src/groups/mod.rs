//! Groups: named sets of users that appear in tokens as `cognito:groups`, ordered by
//! precedence (lowest first), as Cognito orders them.

/// Checks a group name as Cognito does: 1 to 128 characters, no whitespace.
pub fn validate_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.chars().count() > 128 || name.chars().any(char::is_whitespace) {
        return Err("group name must be 1 to 128 characters without whitespace".into());
    }
    Ok(())
}

use crate::error::AppError;
pub use crate::model::groups::Group;
use crate::services::Services;

/// Checks a group's optional fields as Cognito does: a description of at most 2048
/// characters, a precedence of 0 to 2^31-1, a role that looks like an IAM role ARN.
pub fn validate_details(g: &Group) -> Result<(), String> {
    if g.description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 2048)
    {
        return Err("description must be at most 2048 characters".into());
    }
    if g.precedence
        .is_some_and(|p| !(0..=i64::from(i32::MAX)).contains(&p))
    {
        return Err("precedence must be 0 to 2147483647".into());
    }
    if let Some(arn) = &g.role_arn {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        if !(20..=2048).contains(&arn.len())
            || parts.len() != 6
            || parts[0] != "arn"
            || parts[4].bytes().any(|b| !b.is_ascii_digit())
        {
            return Err(format!("{arn:?} is not a role ARN"));
        }
    }
    Ok(())
}

/// Creates a group.
pub async fn create(
    app: &Services,
    pool_id: &str,
    name: &str,
    description: Option<&str>,
    precedence: Option<i64>,
) -> Result<Group, AppError> {
    create_with_role(app, pool_id, name, description, precedence, None).await
}

/// Creates a group with an IAM role (Cognito's `RoleArn`, shown in tokens as
/// `cognito:roles`).
pub async fn create_with_role(
    app: &Services,
    pool_id: &str,
    name: &str,
    description: Option<&str>,
    precedence: Option<i64>,
    role_arn: Option<&str>,
) -> Result<Group, AppError> {
    validate_name(name).map_err(AppError::Invalid)?;
    let now = app.clock.now();
    let group = Group {
        pool_id: pool_id.to_string(),
        group_name: name.to_string(),
        description: description.map(str::to_string),
        precedence,
        role_arn: role_arn.map(str::to_string),
        created_at: now,
        updated_at: now,
    };
    validate_details(&group).map_err(AppError::Invalid)?;
    if app.store.pool_by_id(pool_id).await?.is_none() {
        return Err(AppError::NotFound("user pool"));
    }
    app.store.insert_group(&group).await.map_err(|e| match e {
        crate::store::StoreError::Conflict => AppError::Conflict("a group with that name"),
        other => other.into(),
    })?;
    Ok(group)
}

/// Changes a group's description, precedence or role (not its name).
pub async fn update(
    app: &Services,
    pool_id: &str,
    name: &str,
    change: impl FnOnce(&mut Group),
) -> Result<Group, AppError> {
    let mut group = app
        .store
        .group_by_name(pool_id, name)
        .await?
        .ok_or(AppError::NotFound("group"))?;
    change(&mut group);
    // The key is not the caller's to change.
    group.pool_id = pool_id.to_string();
    group.group_name = name.to_string();
    group.updated_at = app.clock.now();
    validate_details(&group).map_err(AppError::Invalid)?;
    if !app.store.update_group(&group).await? {
        return Err(AppError::NotFound("group"));
    }
    Ok(group)
}

/// Deletes a group; its members stay in the pool, without it.
pub async fn delete(app: &Services, pool_id: &str, name: &str) -> Result<(), AppError> {
    if !app.store.delete_group(pool_id, name).await? {
        return Err(AppError::NotFound("group"));
    }
    Ok(())
}

/// Adds or removes a user's membership in a group; the change shows in tokens at the
/// user's next refresh.
pub async fn set_membership(
    app: &Services,
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
