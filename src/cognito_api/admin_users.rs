//! Cognito's administrator user actions (`AdminCreateUser` … `AdminUserGlobalSignOut`,
//! `ListUsers`, `ListUsersInGroup`), in botocore's `cognito-idp` shapes. The rules are
//! in [`crate::users::admin`]; this module parses requests, shapes answers and names
//! the exceptions.
//!
//! Listings page by key, as every list does ([`super::paging`]): a page continues
//! strictly after the last username (its comparison key) or group name of the one
//! before, and its token is bound to the action, the pool and the filter, group or
//! user listed.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::paging::Paging;
use super::{ActionResult, CognitoError, attribute_error, parse, shapes};
use crate::pool::Pool;
use crate::state::Inner;
use crate::users::admin::{self, AdminError, Invitation};

/// The most a page holds, and the default (Cognito's `QueryLimitType`).
const MAX_LIMIT: i64 = 60;

/// The provider name of a pool's own users in `ProviderUserIdentifierType`.
const COGNITO_PROVIDER: &str = "Cognito";

/// The only `ProviderAttributeName` a social or OIDC source identity has.
const SUBJECT_ATTRIBUTE: &str = "Cognito_Subject";

/// Runs the action if it is one of this module's.
pub async fn run(app: &Inner, action: &str, request: &Value) -> Option<ActionResult> {
    let result = match action {
        "AdminCreateUser" => admin_create_user(app, request).await,
        "AdminGetUser" => admin_get_user(app, request).await,
        "AdminDeleteUser" => admin_delete_user(app, request).await,
        "AdminUpdateUserAttributes" => admin_update_user_attributes(app, request).await,
        "AdminDeleteUserAttributes" => admin_delete_user_attributes(app, request).await,
        "AdminSetUserPassword" => admin_set_user_password(app, request).await,
        "AdminResetUserPassword" => admin_reset_user_password(app, request).await,
        "AdminConfirmSignUp" => admin_confirm_sign_up(app, request).await,
        "AdminEnableUser" => admin_enable_user(app, request).await,
        "AdminDisableUser" => admin_disable_user(app, request).await,
        "AdminAddUserToGroup" => admin_add_user_to_group(app, request).await,
        "AdminRemoveUserFromGroup" => admin_remove_user_from_group(app, request).await,
        "AdminListGroupsForUser" => admin_list_groups_for_user(app, request).await,
        "ListUsers" => list_users(app, request).await,
        "GetCSVHeader" => get_csv_header(app, request).await,
        "ListUsersInGroup" => list_users_in_group(app, request).await,
        "AdminLinkProviderForUser" => admin_link_provider_for_user(app, request).await,
        "AdminDisableProviderForUser" => admin_disable_provider_for_user(app, request).await,
        "AdminUserGlobalSignOut" => admin_user_global_sign_out(app, request).await,
        _ => return None,
    };
    Some(result)
}

impl From<AdminError> for CognitoError {
    fn from(e: AdminError) -> Self {
        let message = e.to_string();
        match e {
            AdminError::NotFound(_) => Self::not_found(message),
            AdminError::UserNotFound => Self::user_not_found(),
            AdminError::UsernameExists => Self::new("UsernameExistsException", message),
            AdminError::InvalidPassword(_) => Self::new("InvalidPasswordException", message),
            AdminError::PasswordReused => super::password_reused(),
            AdminError::InvalidParameter(_) => Self::invalid(message),
            AdminError::NotAuthorized(_) => Self::not_authorized(message),
            AdminError::UnsupportedUserState(_) => {
                Self::new("UnsupportedUserStateException", message)
            }
            AdminError::LimitExceeded(_) => Self::new("LimitExceededException", message),
            AdminError::DeliveryFailed => Self::new("CodeDeliveryFailureException", message),
            AdminError::Attribute(refusal) => attribute_error(&refusal),
            AdminError::Internal(e) => e.into(),
        }
    }
}

/// `AttributeType`; a missing `Value` is an empty one.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AttributeType {
    name: String,
    #[serde(default)]
    value: String,
}

fn attribute_map(list: Vec<AttributeType>) -> BTreeMap<String, String> {
    list.into_iter().map(|a| (a.name, a.value)).collect()
}

/// The requests that name only a user.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UserRequest {
    user_pool_id: String,
    username: String,
}

/// The pool a request names: `InvalidParameterException` for a malformed id,
/// `ResourceNotFoundException` for an unknown one.
async fn pool(app: &Inner, pool_id: &str) -> Result<Pool, CognitoError> {
    if !crate::pool::is_pool_id(pool_id) {
        return Err(CognitoError::invalid(format!(
            "1 validation error detected: Value '{pool_id}' at 'userPoolId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w-]+_[0-9a-zA-Z]+"
        )));
    }
    Ok(admin::pool(app, pool_id).await?)
}

/// A page size: 1 to 60, 60 if not given.
fn limit(limit: Option<i64>) -> Result<usize, CognitoError> {
    match limit.unwrap_or(MAX_LIMIT) {
        n @ 1..=MAX_LIMIT => Ok(usize::try_from(n).unwrap_or(60)),
        n => Err(CognitoError::invalid(format!(
            "Limit must be between 1 and {MAX_LIMIT}, not {n}."
        ))),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminCreateUserRequest {
    user_pool_id: String,
    username: String,
    user_attributes: Option<Vec<AttributeType>>,
    temporary_password: Option<String>,
    message_action: Option<String>,
    desired_delivery_mediums: Option<Vec<String>>,
    /// Passed to the pre sign-up trigger.
    validation_data: Option<Vec<AttributeType>>,
    client_metadata: Option<BTreeMap<String, String>>,
}

async fn admin_create_user(app: &Inner, request: &Value) -> ActionResult {
    let req: AdminCreateUserRequest = parse(request)?;
    let pool = pool(app, &req.user_pool_id).await?;
    for medium in req.desired_delivery_mediums.iter().flatten() {
        match medium.as_str() {
            "EMAIL" => {}
            // Sending the invitation by mail instead would surprise the user.
            "SMS" => {
                return Err(CognitoError::invalid(
                    "DesiredDeliveryMediums SMS is not supported by cognate: cognate sends no \
                     SMS; invitations go by email.",
                ));
            }
            _ => {
                return Err(CognitoError::invalid(format!(
                    "DesiredDeliveryMediums: {medium:?} is not EMAIL or SMS."
                )));
            }
        }
    }
    let user = match req.message_action.as_deref() {
        Some("RESEND") => {
            admin::resend_invitation(
                app,
                &pool,
                &req.username,
                req.temporary_password,
                req.client_metadata.as_ref(),
            )
            .await?
        }
        action @ (None | Some("SUPPRESS")) => {
            let invite = Invitation {
                username: req.username,
                attributes: attribute_map(req.user_attributes.unwrap_or_default()),
                temporary_password: req.temporary_password,
                send: action.is_none(),
                validation_data: req.validation_data.map(attribute_map),
                client_metadata: req.client_metadata,
            };
            admin::create_user(app, &pool, invite).await?
        }
        Some(other) => {
            return Err(CognitoError::invalid(format!(
                "MessageAction: {other:?} is not RESEND or SUPPRESS."
            )));
        }
    };
    Ok(json!({ "User": shapes::user_type(&user, None) }))
}

async fn admin_get_user(app: &Inner, request: &Value) -> ActionResult {
    let req: UserRequest = parse(request)?;
    let pool = pool(app, &req.user_pool_id).await?;
    let user = admin::user(app, &pool, &req.username).await?;
    let mut out = json!({
        "Username": user.username,
        "UserAttributes": shapes::attributes(&user, None),
        "UserCreateDate": user.created_at,
        "UserLastModifiedDate": user.updated_at,
        "Enabled": user.enabled,
        "UserStatus": user.status.as_str(),
    });
    super::mfa::mfa_fields(&crate::users::mfa::factors(app, &user).await?, &mut out);
    Ok(out)
}

async fn admin_delete_user(app: &Inner, request: &Value) -> ActionResult {
    let req: UserRequest = parse(request)?;
    let pool = pool(app, &req.user_pool_id).await?;
    admin::delete_user(app, &pool, &req.username).await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminUpdateUserAttributesRequest {
    user_pool_id: String,
    username: String,
    user_attributes: Vec<AttributeType>,
    /// Passed to the custom message trigger.
    client_metadata: Option<BTreeMap<String, String>>,
}

async fn admin_update_user_attributes(app: &Inner, request: &Value) -> ActionResult {
    let req: AdminUpdateUserAttributesRequest = parse(request)?;
    let pool = pool(app, &req.user_pool_id).await?;
    let attributes = attribute_map(req.user_attributes);
    admin::update_attributes(
        app,
        &pool,
        &req.username,
        attributes,
        req.client_metadata.as_ref(),
    )
    .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminDeleteUserAttributesRequest {
    user_pool_id: String,
    username: String,
    user_attribute_names: Vec<String>,
}

async fn admin_delete_user_attributes(app: &Inner, request: &Value) -> ActionResult {
    let req: AdminDeleteUserAttributesRequest = parse(request)?;
    let pool = pool(app, &req.user_pool_id).await?;
    admin::delete_attributes(app, &pool, &req.username, &req.user_attribute_names).await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminSetUserPasswordRequest {
    user_pool_id: String,
    username: String,
    password: String,
    #[serde(default)]
    permanent: bool,
}

async fn admin_set_user_password(app: &Inner, request: &Value) -> ActionResult {
    let req: AdminSetUserPasswordRequest = parse(request)?;
    let pool = pool(app, &req.user_pool_id).await?;
    admin::set_password(app, &pool, &req.username, &req.password, req.permanent).await?;
    Ok(json!({}))
}

/// `AdminResetUserPassword`'s members.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminResetUserPasswordRequest {
    user_pool_id: String,
    username: String,
    /// Passed to the custom message trigger.
    client_metadata: Option<BTreeMap<String, String>>,
}

async fn admin_reset_user_password(app: &Inner, request: &Value) -> ActionResult {
    let req: AdminResetUserPasswordRequest = parse(request)?;
    let pool = pool(app, &req.user_pool_id).await?;
    admin::reset_password(app, &pool, &req.username, req.client_metadata.as_ref()).await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminConfirmSignUpRequest {
    user_pool_id: String,
    username: String,
    client_metadata: Option<BTreeMap<String, String>>,
}

async fn admin_confirm_sign_up(app: &Inner, request: &Value) -> ActionResult {
    let req: AdminConfirmSignUpRequest = parse(request)?;
    let pool = pool(app, &req.user_pool_id).await?;
    admin::confirm_sign_up(app, &pool, &req.username, req.client_metadata.as_ref()).await?;
    Ok(json!({}))
}

async fn admin_enable_user(app: &Inner, request: &Value) -> ActionResult {
    let req: UserRequest = parse(request)?;
    let pool = pool(app, &req.user_pool_id).await?;
    admin::set_enabled(app, &pool, &req.username, true).await?;
    Ok(json!({}))
}

async fn admin_disable_user(app: &Inner, request: &Value) -> ActionResult {
    let req: UserRequest = parse(request)?;
    let pool = pool(app, &req.user_pool_id).await?;
    admin::set_enabled(app, &pool, &req.username, false).await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MembershipRequest {
    user_pool_id: String,
    username: String,
    group_name: String,
}

async fn admin_add_user_to_group(app: &Inner, request: &Value) -> ActionResult {
    let req: MembershipRequest = parse(request)?;
    let pool = pool(app, &req.user_pool_id).await?;
    admin::set_membership(app, &pool, &req.username, &req.group_name, true).await?;
    Ok(json!({}))
}

async fn admin_remove_user_from_group(app: &Inner, request: &Value) -> ActionResult {
    let req: MembershipRequest = parse(request)?;
    let pool = pool(app, &req.user_pool_id).await?;
    admin::set_membership(app, &pool, &req.username, &req.group_name, false).await?;
    Ok(json!({}))
}

/// A listing of one side of the memberships: the pool, whose groups or which group's
/// users (`S`), and the page.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MembersRequest<S> {
    user_pool_id: String,
    #[serde(flatten)]
    of: S,
    limit: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct OfUser {
    username: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct OfGroup {
    group_name: String,
}

impl<S> MembersRequest<S> {
    /// The pool, and the page of `action`'s listing of `of`.
    async fn open<'a>(
        &self,
        app: &'a Inner,
        action: &str,
        of: &str,
    ) -> Result<(Pool, Paging<'a>), CognitoError> {
        let pool = pool(app, &self.user_pool_id).await?;
        let listing = [action, &pool.pool_id, of];
        let token = self.next_token.as_deref();
        let paging = Paging::new(app.keys.master(), &listing, token, limit(self.limit)?)?;
        Ok((pool, paging))
    }
}

async fn admin_list_groups_for_user(app: &Inner, request: &Value) -> ActionResult {
    let req: MembersRequest<OfUser> = parse(request)?;
    let user = &req.of.username;
    let (pool, page) = req.open(app, "AdminListGroupsForUser", user).await?;
    let read = admin::groups_of_user(app, &pool, user, page.after(), page.size()).await?;
    let groups = read.items.iter().map(shapes::group_type).collect();
    Ok(page.answer("Groups", groups, read.next.as_deref()))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListUsersRequest {
    user_pool_id: String,
    attributes_to_get: Option<Vec<String>>,
    limit: Option<i64>,
    pagination_token: Option<String>,
    filter: Option<String>,
}

async fn list_users(app: &Inner, request: &Value) -> ActionResult {
    let req: ListUsersRequest = parse(request)?;
    let pool = pool(app, &req.user_pool_id).await?;
    let limit = limit(req.limit)?;
    let filter_text = req.filter.as_deref().unwrap_or_default();
    let filter = super::list_users::parse(filter_text).map_err(CognitoError::invalid)?;
    let listing = ["ListUsers", &pool.pool_id, filter_text];
    let token = req.pagination_token.as_deref();
    let paging =
        Paging::new(app.keys.master(), &listing, token, limit)?.token_in("PaginationToken");
    let page = admin::list_users(app, &pool, filter.as_ref(), paging.after(), limit).await?;
    let only = req.attributes_to_get.as_deref();
    let users = page.items.iter().map(|u| shapes::user_type(u, only));
    Ok(paging.answer("Users", users.collect(), page.next.as_deref()))
}

/// The columns of Cognito's user import CSV, before the pool's custom attributes.
const CSV_HEADER: &[&str] = &[
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "email",
    "email_verified",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "phone_number",
    "phone_number_verified",
    "address",
    "updated_at",
    "cognito:mfa_enabled",
    "cognito:username",
];

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetCsvHeaderRequest {
    user_pool_id: String,
}

/// `GetCSVHeader`: the columns a user import CSV has for the pool (`cognate user
/// import` reads that format): Cognito's, then the pool's custom attributes.
async fn get_csv_header(app: &Inner, request: &Value) -> ActionResult {
    let req: GetCsvHeaderRequest = parse(request)?;
    let pool = pool(app, &req.user_pool_id).await?;
    let schema = app.store.schema(&pool.pool_id).await?;
    let custom = schema
        .attributes()
        .map(|a| a.name.as_str())
        .filter(|n| n.starts_with("custom:"));
    let header: Vec<&str> = CSV_HEADER.iter().copied().chain(custom).collect();
    Ok(json!({ "UserPoolId": pool.pool_id, "CSVHeader": header }))
}

async fn list_users_in_group(app: &Inner, request: &Value) -> ActionResult {
    let req: MembersRequest<OfGroup> = parse(request)?;
    let group = &req.of.group_name;
    let (pool, page) = req.open(app, "ListUsersInGroup", group).await?;
    let read = admin::list_users_in_group(app, &pool, group, page.after(), page.size()).await?;
    Ok(page.answer(
        "Users",
        read.items.iter().map(user_type).collect(),
        read.next.as_deref(),
    ))
}

/// A user with all of its attributes.
fn user_type(user: &crate::users::User) -> Value {
    shapes::user_type(user, None)
}

/// `ProviderUserIdentifierType`.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProviderUser {
    provider_name: Option<String>,
    provider_attribute_name: Option<String>,
    provider_attribute_value: Option<String>,
}

impl ProviderUser {
    /// A social or OIDC identity: its provider and subject.
    fn source(&self, field: &str) -> Result<(&str, &str), CognitoError> {
        let provider = self.provider_name.as_deref().unwrap_or_default();
        if provider.is_empty() || provider == COGNITO_PROVIDER {
            return Err(CognitoError::invalid(format!(
                "{field}.ProviderName must name an identity provider of the pool."
            )));
        }
        if self.provider_attribute_name.as_deref() != Some(SUBJECT_ATTRIBUTE) {
            return Err(CognitoError::invalid(format!(
                "{field}.ProviderAttributeName must be {SUBJECT_ATTRIBUTE}."
            )));
        }
        match self.provider_attribute_value.as_deref() {
            Some(subject) if !subject.is_empty() => Ok((provider, subject)),
            _ => Err(CognitoError::invalid(format!(
                "{field}.ProviderAttributeValue must be the identity's subject."
            ))),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminLinkProviderForUserRequest {
    user_pool_id: String,
    destination_user: ProviderUser,
    source_user: ProviderUser,
}

async fn admin_link_provider_for_user(app: &Inner, request: &Value) -> ActionResult {
    let req: AdminLinkProviderForUserRequest = parse(request)?;
    let pool = pool(app, &req.user_pool_id).await?;
    let destination = &req.destination_user;
    // Cognito ignores the destination's ProviderAttributeName.
    let username = match (
        destination.provider_name.as_deref(),
        destination.provider_attribute_value.as_deref(),
    ) {
        (Some(COGNITO_PROVIDER), Some(username)) if !username.is_empty() => username,
        _ => {
            return Err(CognitoError::invalid(
                "DestinationUser must be ProviderName Cognito with the username as \
                 ProviderAttributeValue.",
            ));
        }
    };
    let (provider, subject) = req.source_user.source("SourceUser")?;
    admin::link_provider(app, &pool, username, provider, subject).await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminDisableProviderForUserRequest {
    user_pool_id: String,
    user: ProviderUser,
}

async fn admin_disable_provider_for_user(app: &Inner, request: &Value) -> ActionResult {
    let req: AdminDisableProviderForUserRequest = parse(request)?;
    let pool = pool(app, &req.user_pool_id).await?;
    if req.user.provider_name.as_deref() == Some(COGNITO_PROVIDER) {
        return Err(CognitoError::invalid(
            "Disabling password sign-in of a user pool user is not supported; \
             use AdminDisableUser.",
        ));
    }
    let (provider, subject) = req.user.source("User")?;
    admin::unlink_provider(app, &pool, provider, subject).await?;
    Ok(json!({}))
}

async fn admin_user_global_sign_out(app: &Inner, request: &Value) -> ActionResult {
    let req: UserRequest = parse(request)?;
    let pool = pool(app, &req.user_pool_id).await?;
    admin::global_sign_out(app, &pool, &req.username).await?;
    Ok(json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_default_to_sixty_and_stay_within_one_to_sixty() {
        assert_eq!(limit(None).unwrap(), 60);
        assert_eq!(limit(Some(1)).unwrap(), 1);
        assert!(limit(Some(0)).is_err());
        assert!(limit(Some(61)).is_err());
    }
}
