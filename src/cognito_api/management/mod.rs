//! The Cognito API's management actions (botocore `cognito-idp`): user pools (with
//! their MFA settings, tags and hosted-page customization), app clients, domains,
//! identity providers and groups; create, describe, list, update, delete. Each request is parsed
//! into its typed shape, turned into the domain's types with Cognito's defaults, and
//! answered through [`super::shapes`]. One file per resource; every list pages as
//! [`super::paging`] says. The call sequences Terraform's AWS provider makes are
//! replayed by `tests/python/test_terraform.py`.
//!
//! Every setting is honoured, kept as sent to be reported back (configuration that
//! only describes something cognate has no behaviour for), or refused with
//! `InvalidParameterException` naming it and saying it is not supported. Answers
//! report what was set, and leave out the optional blocks that were not.
//!
//! Where cognate differs from AWS:
//! - `UpdateUserPool` and `UpdateUserPoolClient` reset omitted Cognito settings to
//!   Cognito's defaults, as AWS does; names and tags are kept when omitted, and
//!   cognate's own settings (branding, state relay, mail for password resets) are never
//!   touched. `UpdateGroup` and `UpdateIdentityProvider` change only what is sent, and
//!   a provider's secret is kept unless `ProviderDetails` carries a new one.
//! - `DescribeIdentityProvider` never returns the provider's `client_secret`, nor Sign
//!   in with Apple's `private_key` (as Cognito).
//! - Refused with `InvalidParameterException`: MFA other than `OFF` (and any factor
//!   setting that would turn one on), Lambda triggers, SMS settings, device tracking,
//!   threat protection, alias attributes, phone numbers as usernames, case-sensitive
//!   usernames, required custom attributes, email sent as `DEVELOPER`, link
//!   verification by default, `AttributesRequireVerificationBeforeUpdate`, a client's
//!   `ReadAttributes`, `AnalyticsConfiguration`, `AuthSessionValidity` other than 3,
//!   `EnableTokenRevocation: false`, and SAML providers.
//!   `implicit` is kept but the authorization endpoint serves only `code`.
//! - `PreventUserExistenceErrors` is a pool setting in cognate: a client reports its
//!   pool's, and may be sent only that value.
//! - `RefreshTokenRotation` is reported only when it was sent; as on Cognito, a client
//!   rotates refresh tokens only when it turns rotation on.
//! - Legacy `ExplicitAuthFlows` come back as their `ALLOW_*` forms.
//! - Pools created through the API require only the attributes their `Schema` marks
//!   `Required` (none by default), as on AWS; `cognate pool create` requires email.

mod clients;
mod domains;
mod groups;
mod mfa;
mod pools;
mod providers;
mod tags;
mod ui;

use serde_json::Value;

use super::{ActionResult, CognitoError};
use crate::error::AppError;
use crate::pool::{self, Pool};
use crate::state::Inner;

/// Runs `action` if it is a management action.
pub async fn run(app: &Inner, action: &str, request: &Value) -> Option<ActionResult> {
    Some(match action {
        "CreateUserPool" => pools::create_user_pool(app, request).await,
        "DescribeUserPool" => pools::describe_user_pool(app, request).await,
        "AddCustomAttributes" => pools::add_custom_attributes(app, request).await,
        "ListUserPools" => pools::list_user_pools(app, request).await,
        "UpdateUserPool" => pools::update_user_pool(app, request).await,
        "DeleteUserPool" => pools::delete_user_pool(app, request).await,
        "SetUserPoolMfaConfig" => mfa::set_user_pool_mfa_config(app, request).await,
        "GetUserPoolMfaConfig" => mfa::get_user_pool_mfa_config(app, request).await,
        "TagResource" => tags::tag_resource(app, request).await,
        "UntagResource" => tags::untag_resource(app, request).await,
        "ListTagsForResource" => tags::list_tags_for_resource(app, request).await,
        "SetUICustomization" => ui::set_ui_customization(app, request).await,
        "GetUICustomization" => ui::get_ui_customization(app, request).await,
        "CreateUserPoolClient" => clients::create_user_pool_client(app, request).await,
        "DescribeUserPoolClient" => clients::describe_user_pool_client(app, request).await,
        "UpdateUserPoolClient" => clients::update_user_pool_client(app, request).await,
        "ListUserPoolClients" => clients::list_user_pool_clients(app, request).await,
        "DeleteUserPoolClient" => clients::delete_user_pool_client(app, request).await,
        "CreateUserPoolDomain" => domains::create_user_pool_domain(app, request).await,
        "DescribeUserPoolDomain" => domains::describe_user_pool_domain(app, request).await,
        "UpdateUserPoolDomain" => domains::update_user_pool_domain(app, request).await,
        "DeleteUserPoolDomain" => domains::delete_user_pool_domain(app, request).await,
        "CreateIdentityProvider" => providers::create_identity_provider(app, request).await,
        "DescribeIdentityProvider" => providers::describe_identity_provider(app, request).await,
        "UpdateIdentityProvider" => providers::update_identity_provider(app, request).await,
        "ListIdentityProviders" => providers::list_identity_providers(app, request).await,
        "DeleteIdentityProvider" => providers::delete_identity_provider(app, request).await,
        "CreateGroup" => groups::create_group(app, request).await,
        "GetGroup" => groups::get_group(app, request).await,
        "UpdateGroup" => groups::update_group(app, request).await,
        "ListGroups" => groups::list_groups(app, request).await,
        "DeleteGroup" => groups::delete_group(app, request).await,
        _ => return None,
    })
}

/// The pool `pool_id` names, or Cognito's error: a malformed id is a bad parameter,
/// an unknown one a missing resource.
pub(super) async fn existing_pool(app: &Inner, pool_id: &str) -> Result<Pool, CognitoError> {
    if !pool::is_pool_id(pool_id) {
        return Err(CognitoError::invalid(
            "1 validation error detected: Value at 'userPoolId' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: [\\w-]+_[0-9a-zA-Z]+",
        ));
    }
    app.store
        .pool_by_id(pool_id)
        .await?
        .ok_or_else(|| pool_not_found(pool_id))
}

pub(super) fn pool_not_found(pool_id: &str) -> CognitoError {
    CognitoError::not_found(format!("User pool {pool_id} does not exist."))
}

/// A domain error with its `NotFound` in Cognito's words.
pub(super) fn not_found_as(e: AppError, not_found: impl FnOnce() -> CognitoError) -> CognitoError {
    match e {
        AppError::NotFound(_) => not_found(),
        other => other.into(),
    }
}
