//! The Cognito API's management actions (botocore `cognito-idp`): user pools, app
//! clients, identity providers and groups; create, describe, list, update, delete.
//! Each request is parsed into its typed shape, turned into the domain's types with
//! Cognito's defaults, and answered through [`super::shapes`]. Lists are keyset pages
//! in key order; `NextToken` is the last key, base64url-encoded.
//!
//! Where cognate differs from AWS:
//! - Token validities are stored in seconds, so clients report them with
//!   `TokenValidityUnits` of `seconds` whatever units were sent.
//! - `UpdateUserPool` and `UpdateUserPoolClient` reset omitted Cognito settings to
//!   Cognito's defaults, as AWS does; names are kept when omitted, and cognate's own
//!   settings (branding, state relay, mail for password resets) are never touched.
//!   `UpdateGroup` and `UpdateIdentityProvider` change only what is sent, and a
//!   provider's secret is kept unless `ProviderDetails` carries a new one.
//! - `DescribeIdentityProvider` never returns the provider's `client_secret`.
//! - Not supported, so refused with `InvalidParameterException`: alias attributes,
//!   phone numbers as usernames, MFA, required custom attributes, SAML and Sign in
//!   with Apple providers. `implicit` is kept but the authorization endpoint serves
//!   only `code`.
//! - `RefreshTokenRotation` defaults to `ENABLED` (Cognito's default is `DISABLED`):
//!   cognate rotates refresh tokens unless a client turns it off, and clients report
//!   the setting only when it differs from that default.
//! - Accepted and ignored: Lambda, SMS, email-sending, tags, add-ons, device,
//!   recovery and tier settings, `AutoVerifiedAttributes` (email is always verified),
//!   `ReadAttributes`, `DefaultRedirectURI` (checked, not stored), custom attributes'
//!   `StringAttributeConstraints`/`NumberAttributeConstraints`,
//!   `PreventUserExistenceErrors` (a pool setting in cognate), token revocation (always
//!   on), analytics and session validity.
//! - Legacy `ExplicitAuthFlows` come back as their `ALLOW_*` forms.
//! - Pools created through the API require only the attributes their `Schema` marks
//!   `Required` (none by default), as on AWS; `cognate pool create` requires email.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ActionResult, CognitoError, parse, shapes};
use crate::clients::{self, AppClient, ClientSettings, NewSecret};
use crate::error::AppError;
use crate::federation::{self, LinkingPolicy, NewProvider, ProviderDetails, ProviderType};
use crate::groups;
use crate::mail::Override;
use crate::pool::{self, PasswordPolicy, Pool, PoolSettings};
use crate::resource_servers::{self, is_custom_scope};
use crate::state::Inner;
use crate::users::STANDARD_ATTRIBUTES;
use crate::users::schema::SchemaAttribute;

/// The region of pools created here (request regions are not passed down; a pool's
/// region is read back from its id).
const REGION: &str = "us-east-1";

/// The largest page any of these lists returns, and the size when none is asked for.
const MAX_PAGE: i64 = 60;

/// Runs `action` if it is a management action.
pub async fn run(app: &Inner, action: &str, request: &Value) -> Option<ActionResult> {
    Some(match action {
        "CreateUserPool" => create_user_pool(app, request).await,
        "DescribeUserPool" => describe_user_pool(app, request).await,
        "AddCustomAttributes" => add_custom_attributes(app, request).await,
        "ListUserPools" => list_user_pools(app, request).await,
        "UpdateUserPool" => update_user_pool(app, request).await,
        "DeleteUserPool" => delete_user_pool(app, request).await,
        "CreateUserPoolClient" => create_user_pool_client(app, request).await,
        "DescribeUserPoolClient" => describe_user_pool_client(app, request).await,
        "UpdateUserPoolClient" => update_user_pool_client(app, request).await,
        "ListUserPoolClients" => list_user_pool_clients(app, request).await,
        "DeleteUserPoolClient" => delete_user_pool_client(app, request).await,
        "CreateIdentityProvider" => create_identity_provider(app, request).await,
        "DescribeIdentityProvider" => describe_identity_provider(app, request).await,
        "UpdateIdentityProvider" => update_identity_provider(app, request).await,
        "ListIdentityProviders" => list_identity_providers(app, request).await,
        "DeleteIdentityProvider" => delete_identity_provider(app, request).await,
        "CreateGroup" => create_group(app, request).await,
        "GetGroup" => get_group(app, request).await,
        "UpdateGroup" => update_group(app, request).await,
        "ListGroups" => list_groups(app, request).await,
        "DeleteGroup" => delete_group(app, request).await,
        _ => return None,
    })
}

// ---- user pools ----------------------------------------------------------------

/// The pool settings `CreateUserPool` and `UpdateUserPool` share.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PoolConfig {
    policies: Option<Policies>,
    deletion_protection: Option<String>,
    mfa_configuration: Option<String>,
    admin_create_user_config: Option<AdminCreateUserConfig>,
    email_verification_message: Option<String>,
    email_verification_subject: Option<String>,
    verification_message_template: Option<VerificationMessageTemplate>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Policies {
    password_policy: Option<PasswordPolicyShape>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PasswordPolicyShape {
    minimum_length: Option<i64>,
    require_uppercase: Option<bool>,
    require_lowercase: Option<bool>,
    require_numbers: Option<bool>,
    require_symbols: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminCreateUserConfig {
    allow_admin_create_user_only: Option<bool>,
    invite_message_template: Option<MessageTemplate>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MessageTemplate {
    email_message: Option<String>,
    email_subject: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VerificationMessageTemplate {
    email_message: Option<String>,
    email_subject: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SchemaAttributeShape {
    name: String,
    required: Option<bool>,
    attribute_data_type: Option<String>,
    mutable: Option<bool>,
    developer_only_attribute: Option<bool>,
}

impl SchemaAttributeShape {
    /// The declaration, with a custom name in its full `custom:` form.
    fn declaration(&self) -> Result<SchemaAttribute, CognitoError> {
        let name = if STANDARD_ATTRIBUTES.contains(&self.name.as_str())
            || self.name.starts_with("custom:")
        {
            self.name.clone()
        } else {
            format!("custom:{}", self.name)
        };
        if !crate::users::is_known_attribute(&name) {
            return Err(CognitoError::invalid(format!(
                "{:?} is not a valid attribute name.",
                self.name
            )));
        }
        Ok(SchemaAttribute {
            name,
            data_type: self
                .attribute_data_type
                .clone()
                .unwrap_or_else(|| "String".into()),
            mutable: self.mutable.unwrap_or(true),
            developer_only: self.developer_only_attribute.unwrap_or(false),
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateUserPoolRequest {
    pool_name: String,
    username_attributes: Option<Vec<String>>,
    alias_attributes: Option<Vec<String>>,
    schema: Option<Vec<SchemaAttributeShape>>,
    #[serde(flatten)]
    config: PoolConfig,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AddCustomAttributesRequest {
    user_pool_id: String,
    custom_attributes: Vec<SchemaAttributeShape>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UserPoolIdRequest {
    user_pool_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListUserPoolsRequest {
    max_results: i64,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateUserPoolRequest {
    user_pool_id: String,
    pool_name: Option<String>,
    #[serde(flatten)]
    config: PoolConfig,
}

/// Cognito's default messages, used when a template sets only a subject or a body.
const VERIFICATION_SUBJECT: &str = "Your verification code";
const VERIFICATION_MESSAGE: &str = "Your verification code is {####}. ";
const INVITE_SUBJECT: &str = "Your temporary password";
const INVITE_MESSAGE: &str = "Your username is {username} and temporary password is {####}. ";

/// Sets the settings `config` covers, omitted ones to Cognito's defaults.
fn apply_pool_config(config: &PoolConfig, s: &mut PoolSettings) -> Result<(), CognitoError> {
    s.password_policy = match config
        .policies
        .as_ref()
        .and_then(|p| p.password_policy.as_ref())
    {
        None => PasswordPolicy::default(),
        // A policy that is sent is taken as sent: unset requirements are off.
        Some(p) => PasswordPolicy {
            minimum_length: match p.minimum_length {
                None => PasswordPolicy::default().minimum_length,
                Some(n) => usize::try_from(n)
                    .map_err(|_| CognitoError::invalid("MinimumLength must be 6 to 99."))?,
            },
            require_uppercase: p.require_uppercase.unwrap_or(false),
            require_lowercase: p.require_lowercase.unwrap_or(false),
            require_numbers: p.require_numbers.unwrap_or(false),
            require_symbols: p.require_symbols.unwrap_or(false),
        },
    };
    s.deletion_protection = match config.deletion_protection.as_deref() {
        None | Some("INACTIVE") => false,
        Some("ACTIVE") => true,
        Some(other) => {
            return Err(CognitoError::invalid(format!(
                "DeletionProtection {other:?} must be ACTIVE or INACTIVE."
            )));
        }
    };
    match config.mfa_configuration.as_deref() {
        None | Some("OFF") => {}
        Some(other) => {
            return Err(CognitoError::invalid(format!(
                "MfaConfiguration {other:?} is not supported; cognate supports only OFF."
            )));
        }
    }
    let admin = config.admin_create_user_config.as_ref();
    s.allow_self_signup = !admin
        .and_then(|a| a.allow_admin_create_user_only)
        .unwrap_or(false);
    let template = config.verification_message_template.as_ref();
    s.messages.verification = message(
        template
            .and_then(|t| t.email_subject.clone())
            .or_else(|| config.email_verification_subject.clone()),
        template
            .and_then(|t| t.email_message.clone())
            .or_else(|| config.email_verification_message.clone()),
        VERIFICATION_SUBJECT,
        VERIFICATION_MESSAGE,
    );
    let invite = admin.and_then(|a| a.invite_message_template.as_ref());
    s.messages.temporary_password = message(
        invite.and_then(|t| t.email_subject.clone()),
        invite.and_then(|t| t.email_message.clone()),
        INVITE_SUBJECT,
        INVITE_MESSAGE,
    );
    Ok(())
}

/// A message override when a subject or a body is given; the other part defaults.
fn message(
    subject: Option<String>,
    body: Option<String>,
    default_subject: &str,
    default_body: &str,
) -> Option<Override> {
    if subject.is_none() && body.is_none() {
        return None;
    }
    Some(Override {
        subject: subject.unwrap_or_else(|| default_subject.into()),
        body: body.unwrap_or_else(|| default_body.into()),
    })
}

async fn create_user_pool(app: &Inner, request: &Value) -> ActionResult {
    let req: CreateUserPoolRequest = parse(request)?;
    if req.alias_attributes.as_ref().is_some_and(|a| !a.is_empty()) {
        return Err(CognitoError::invalid(
            "AliasAttributes are not supported; use UsernameAttributes [\"email\"].",
        ));
    }
    let mut settings = PoolSettings {
        required_attributes: Vec::new(),
        ..PoolSettings::default()
    };
    for name in req.username_attributes.iter().flatten() {
        if name != "email" {
            return Err(CognitoError::invalid(format!(
                "UsernameAttributes {name:?} is not supported; only email may be the username."
            )));
        }
        if !settings.username_attributes.contains(name) {
            settings.username_attributes.push(name.clone());
        }
    }
    let mut schema = Vec::new();
    for attribute in req.schema.iter().flatten() {
        if attribute.name == "sub" {
            continue;
        }
        let declared = attribute.declaration()?;
        let required = attribute.required.unwrap_or(false);
        if declared.name.starts_with("custom:") && required {
            return Err(CognitoError::invalid(
                "Required custom attributes are not supported currently.",
            ));
        }
        if required && !settings.required_attributes.contains(&declared.name) {
            settings.required_attributes.push(declared.name.clone());
        }
        schema.push(declared);
    }
    apply_pool_config(&req.config, &mut settings)?;
    let pool = pool::create_with_settings(app, &req.pool_name, REGION, settings, &schema).await?;
    Ok(json!({ "UserPool": shapes::pool_type(&pool, region_of(&pool.pool_id)) }))
}

async fn add_custom_attributes(app: &Inner, request: &Value) -> ActionResult {
    let req: AddCustomAttributesRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    let mut declared = Vec::new();
    for attribute in &req.custom_attributes {
        let mut a = attribute.declaration()?;
        // Every name here is custom, even one that matches a standard attribute.
        if !a.name.starts_with("custom:") {
            a.name = format!("custom:{}", attribute.name);
        }
        declared.push(a);
    }
    pool::add_custom_attributes(app, &pool.pool_id, &declared)
        .await
        .map_err(|e| match e {
            AppError::Conflict(_) => CognitoError::invalid(
                "Existing attribute already has name ".to_string()
                    + &req
                        .custom_attributes
                        .iter()
                        .map(|a| a.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                    + ".",
            ),
            other => other.into(),
        })?;
    Ok(json!({}))
}

async fn describe_user_pool(app: &Inner, request: &Value) -> ActionResult {
    let req: UserPoolIdRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    Ok(json!({ "UserPool": shapes::pool_type(&pool, region_of(&pool.pool_id)) }))
}

async fn list_user_pools(app: &Inner, request: &Value) -> ActionResult {
    let req: ListUserPoolsRequest = parse(request)?;
    let size = page_size(Some(req.max_results), "maxResults", 1)?;
    let after = page_start(req.next_token.as_deref(), pool::is_pool_id)?;
    let pools = app.store.pools_page(&after, size + 1).await?;
    let (pools, next) = page(pools, size, |p| &p.pool_id);
    let list: Vec<Value> = pools.iter().map(shapes::pool_description).collect();
    Ok(with_token(json!({ "UserPools": list }), next))
}

async fn update_user_pool(app: &Inner, request: &Value) -> ActionResult {
    let req: UpdateUserPoolRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    let mut settings = pool.settings;
    apply_pool_config(&req.config, &mut settings)?;
    pool::update_named(app, &pool.pool_id, req.pool_name.as_deref(), move |s| {
        *s = settings
    })
    .await
    .map_err(|e| not_found_as(e, || pool_not_found(&req.user_pool_id)))?;
    Ok(json!({}))
}

async fn delete_user_pool(app: &Inner, request: &Value) -> ActionResult {
    let req: UserPoolIdRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    pool::delete(app, &pool.pool_id)
        .await
        .map_err(|e| not_found_as(e, || pool_not_found(&pool.pool_id)))?;
    Ok(json!({}))
}

// ---- app clients ---------------------------------------------------------------

/// The client settings `CreateUserPoolClient` and `UpdateUserPoolClient` share.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ClientConfig {
    refresh_token_validity: Option<i64>,
    access_token_validity: Option<i64>,
    id_token_validity: Option<i64>,
    token_validity_units: Option<TokenValidityUnits>,
    write_attributes: Option<Vec<String>>,
    explicit_auth_flows: Option<Vec<String>>,
    supported_identity_providers: Option<Vec<String>>,
    #[serde(rename = "CallbackURLs")]
    callback_urls: Option<Vec<String>>,
    #[serde(rename = "LogoutURLs")]
    logout_urls: Option<Vec<String>>,
    #[serde(rename = "DefaultRedirectURI")]
    default_redirect_uri: Option<String>,
    #[serde(rename = "AllowedOAuthFlows")]
    allowed_oauth_flows: Option<Vec<String>>,
    #[serde(rename = "AllowedOAuthScopes")]
    allowed_oauth_scopes: Option<Vec<String>>,
    #[serde(rename = "AllowedOAuthFlowsUserPoolClient")]
    allowed_oauth_flows_user_pool_client: Option<bool>,
    prevent_user_existence_errors: Option<String>,
    refresh_token_rotation: Option<RefreshTokenRotation>,
}

/// Cognito's `RefreshTokenRotationType`: whether `/oauth2/token` rotates refresh
/// tokens, and how long a rotated one may be retried.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RefreshTokenRotation {
    feature: String,
    retry_grace_period_seconds: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TokenValidityUnits {
    access_token: Option<String>,
    id_token: Option<String>,
    refresh_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateUserPoolClientRequest {
    user_pool_id: String,
    client_name: String,
    generate_secret: Option<bool>,
    client_secret: Option<String>,
    #[serde(flatten)]
    config: ClientConfig,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ClientIdRequest {
    user_pool_id: String,
    client_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateUserPoolClientRequest {
    user_pool_id: String,
    client_id: String,
    client_name: Option<String>,
    #[serde(flatten)]
    config: ClientConfig,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListUserPoolClientsRequest {
    user_pool_id: String,
    max_results: Option<i64>,
    next_token: Option<String>,
}

/// Scopes a client may be allowed besides its pool's custom scopes.
const STANDARD_SCOPES: &[&str] = &[
    "openid",
    "email",
    "phone",
    "profile",
    "aws.cognito.signin.user.admin",
];

/// A validity in seconds: `value` in `unit` (or `default_unit`), or `default` seconds.
fn validity(
    field: &str,
    value: Option<i64>,
    unit: Option<&str>,
    default_unit: &str,
    default: i64,
) -> Result<i64, CognitoError> {
    let seconds = match unit.unwrap_or(default_unit) {
        "seconds" => 1,
        "minutes" => 60,
        "hours" => 3600,
        "days" => 86400,
        other => {
            return Err(CognitoError::invalid(format!(
                "TokenValidityUnits {other:?} for {field} must be seconds, minutes, hours or days."
            )));
        }
    };
    match value {
        None => Ok(default),
        Some(v) if v <= 0 => Err(CognitoError::invalid(format!(
            "{field} must be a positive number."
        ))),
        Some(v) => v
            .checked_mul(seconds)
            .ok_or_else(|| CognitoError::invalid(format!("{field} is too large."))),
    }
}

/// Sets the client settings `config` covers, omitted ones to Cognito's defaults;
/// `pool_scopes` are the custom scopes the pool's resource servers define.
fn apply_client_config(
    config: &ClientConfig,
    s: &mut ClientSettings,
    pool_scopes: &[String],
) -> Result<(), CognitoError> {
    let units = config.token_validity_units.as_ref();
    s.access_token_validity = validity(
        "AccessTokenValidity",
        config.access_token_validity,
        units.and_then(|u| u.access_token.as_deref()),
        "hours",
        3600,
    )?;
    s.id_token_validity = validity(
        "IdTokenValidity",
        config.id_token_validity,
        units.and_then(|u| u.id_token.as_deref()),
        "hours",
        3600,
    )?;
    s.refresh_token_validity = validity(
        "RefreshTokenValidity",
        // Cognito reads 0 as "the default".
        config.refresh_token_validity.filter(|v| *v != 0),
        units.and_then(|u| u.refresh_token.as_deref()),
        "days",
        30 * 86400,
    )?;

    let rotation = config.refresh_token_rotation.as_ref();
    s.refresh_token_rotation = match rotation.map(|r| r.feature.as_str()) {
        None | Some("ENABLED") => true,
        Some("DISABLED") => false,
        Some(other) => {
            return Err(CognitoError::invalid(format!(
                "RefreshTokenRotation Feature {other:?} must be ENABLED or DISABLED."
            )));
        }
    };
    s.refresh_token_retry_grace = rotation
        .and_then(|r| r.retry_grace_period_seconds)
        .unwrap_or(0);
    if !(0..=clients::MAX_REFRESH_RETRY_GRACE).contains(&s.refresh_token_retry_grace) {
        return Err(CognitoError::invalid(
            "RetryGracePeriodSeconds must be 0 to 60.",
        ));
    }
    if !s.refresh_token_rotation && s.refresh_token_retry_grace > 0 {
        return Err(CognitoError::invalid(
            "RetryGracePeriodSeconds needs RefreshTokenRotation Feature ENABLED.",
        ));
    }

    // The attributes users of this client may write (none listed: all of them).
    s.write_attributes = Vec::new();
    for name in config.write_attributes.iter().flatten() {
        if !crate::users::is_known_attribute(name) {
            return Err(CognitoError::invalid(format!(
                "Invalid write attribute {name:?}: not a standard or custom:* attribute."
            )));
        }
        push_unique(&mut s.write_attributes, name);
    }

    s.explicit_auth_flows = match &config.explicit_auth_flows {
        None => clients::DEFAULT_AUTH_FLOWS
            .iter()
            .map(|f| f.to_string())
            .collect(),
        Some(flows) => explicit_auth_flows(flows)?,
    };

    s.supported_identity_providers = Vec::new();
    for name in config.supported_identity_providers.iter().flatten() {
        push_unique(&mut s.supported_identity_providers, name);
    }
    s.callback_urls = config.callback_urls.clone().unwrap_or_default();
    s.logout_urls = config.logout_urls.clone().unwrap_or_default();
    if let Some(uri) = &config.default_redirect_uri
        && !s.callback_urls.contains(uri)
    {
        return Err(CognitoError::invalid(
            "DefaultRedirectURI must be one of the CallbackURLs.",
        ));
    }

    let oauth = config.allowed_oauth_flows_user_pool_client.unwrap_or(false);
    let flows = config.allowed_oauth_flows.as_deref().unwrap_or_default();
    let scopes = config.allowed_oauth_scopes.as_deref().unwrap_or_default();
    for flow in flows {
        match flow.as_str() {
            "code" | "implicit" | clients::FLOW_CLIENT_CREDENTIALS => {}
            other => {
                return Err(CognitoError::invalid(format!(
                    "AllowedOAuthFlows {other:?} must be code, implicit or client_credentials."
                )));
            }
        }
    }
    if !oauth && (!flows.is_empty() || !scopes.is_empty()) {
        return Err(CognitoError::invalid(
            "AllowedOAuthFlows and AllowedOAuthScopes need AllowedOAuthFlowsUserPoolClient true.",
        ));
    }
    if oauth && flows.is_empty() {
        return Err(CognitoError::new(
            "InvalidOAuthFlowException",
            "AllowedOAuthFlows must not be empty when AllowedOAuthFlowsUserPoolClient is true.",
        ));
    }
    if let Some(bad) = scopes
        .iter()
        .find(|s| !STANDARD_SCOPES.contains(&s.as_str()) && !pool_scopes.contains(s))
    {
        return Err(CognitoError::new(
            "ScopeDoesNotExistException",
            format!("Invalid scope requested: {bad}"),
        ));
    }
    if flows.iter().any(|f| f == clients::FLOW_CLIENT_CREDENTIALS) {
        // Machine tokens carry no user, so neither user flows nor user scopes mix in.
        if flows.len() > 1 {
            return Err(CognitoError::new(
                "InvalidOAuthFlowException",
                "client_credentials flow can not be selected along with code flow or implicit flow.",
            ));
        }
        if scopes.is_empty() || scopes.iter().any(|s| !is_custom_scope(s)) {
            return Err(CognitoError::new(
                "InvalidOAuthFlowException",
                "client_credentials flow needs AllowedOAuthScopes of custom scopes only.",
            ));
        }
    }
    s.allowed_flows = Vec::new();
    for flow in flows {
        push_unique(&mut s.allowed_flows, flow);
    }
    s.allowed_scopes = Vec::new();
    for scope in scopes {
        push_unique(&mut s.allowed_scopes, scope);
    }

    match config.prevent_user_existence_errors.as_deref() {
        None | Some("ENABLED" | "LEGACY") => Ok(()),
        Some(other) => Err(CognitoError::invalid(format!(
            "PreventUserExistenceErrors {other:?} must be ENABLED or LEGACY."
        ))),
    }
}

/// `ExplicitAuthFlows` in their `ALLOW_*` forms. The legacy values always allowed SRP
/// and refresh tokens besides what they name, and may not be mixed with the new ones.
fn explicit_auth_flows(flows: &[String]) -> Result<Vec<String>, CognitoError> {
    let legacy = |f: &str| match f {
        "ADMIN_NO_SRP_AUTH" => Some("ALLOW_ADMIN_USER_PASSWORD_AUTH"),
        "USER_PASSWORD_AUTH" => Some("ALLOW_USER_PASSWORD_AUTH"),
        "CUSTOM_AUTH_FLOW_ONLY" => Some("ALLOW_CUSTOM_AUTH"),
        _ => None,
    };
    let legacy_count = flows.iter().filter(|f| legacy(f).is_some()).count();
    let mut out = Vec::new();
    if legacy_count > 0 {
        if legacy_count < flows.len() {
            return Err(CognitoError::invalid(
                "ExplicitAuthFlows cannot mix legacy values with ALLOW_* values.",
            ));
        }
        out.push("ALLOW_USER_SRP_AUTH".to_string());
        out.push("ALLOW_REFRESH_TOKEN_AUTH".to_string());
    }
    for flow in flows {
        // Unknown values are refused by the client's own validation.
        push_unique(&mut out, legacy(flow).unwrap_or(flow));
    }
    Ok(out)
}

/// `client_credentials` authenticates the client itself, so it needs a secret.
fn check_secret_for_flows(s: &ClientSettings, has_secret: bool) -> Result<(), CognitoError> {
    if s.allowed_flows
        .iter()
        .any(|f| f == clients::FLOW_CLIENT_CREDENTIALS)
        && !has_secret
    {
        return Err(CognitoError::new(
            "InvalidOAuthFlowException",
            "client_credentials flow can not be selected if client does not have a client secret.",
        ));
    }
    Ok(())
}

fn push_unique(list: &mut Vec<String>, item: &str) {
    if !list.iter().any(|i| i == item) {
        list.push(item.to_string());
    }
}

async fn create_user_pool_client(app: &Inner, request: &Value) -> ActionResult {
    let req: CreateUserPoolClientRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    let mut settings = ClientSettings::new(&req.client_name);
    let pool_scopes = resource_servers::pool_scopes(app, &pool.pool_id).await?;
    apply_client_config(&req.config, &mut settings, &pool_scopes)?;
    clients::check_identity_providers(app, &pool.pool_id, &settings.supported_identity_providers)
        .await?;
    let secret = match (&req.client_secret, req.generate_secret.unwrap_or(false)) {
        (Some(_), true) => {
            return Err(CognitoError::invalid(
                "You cannot specify both GenerateSecret as true and provide a ClientSecret value.",
            ));
        }
        (Some(chosen), false) => NewSecret::Chosen(chosen),
        (None, true) => NewSecret::Generate,
        (None, false) => NewSecret::None,
    };
    check_secret_for_flows(&settings, !matches!(secret, NewSecret::None))?;
    let (client, secret) = clients::create(app, &pool.pool_id, &settings, secret).await?;
    Ok(json!({ "UserPoolClient": shapes::client_type(&client, secret.as_deref()) }))
}

async fn describe_user_pool_client(app: &Inner, request: &Value) -> ActionResult {
    let req: ClientIdRequest = parse(request)?;
    let client = existing_client(app, &req.user_pool_id, &req.client_id).await?;
    let secret = client_secret(app, &client).await?;
    Ok(json!({ "UserPoolClient": shapes::client_type(&client, secret.as_deref()) }))
}

async fn update_user_pool_client(app: &Inner, request: &Value) -> ActionResult {
    let req: UpdateUserPoolClientRequest = parse(request)?;
    let client = existing_client(app, &req.user_pool_id, &req.client_id).await?;
    // Start from the stored client so cognate's own settings (branding, state relay)
    // survive; every Cognito setting is then set from the request or its default.
    let mut settings = client.settings.clone();
    if let Some(name) = &req.client_name {
        settings.name = name.clone();
    }
    let pool_scopes = resource_servers::pool_scopes(app, &client.pool_id).await?;
    apply_client_config(&req.config, &mut settings, &pool_scopes)?;
    clients::check_identity_providers(app, &client.pool_id, &settings.supported_identity_providers)
        .await?;
    check_secret_for_flows(&settings, !client.is_public())?;
    let updated = clients::update(app, &client.pool_id, &client.client_id, move |s| {
        *s = settings
    })
    .await
    .map_err(|e| not_found_as(e, || client_not_found(&req.client_id)))?;
    let secret = client_secret(app, &updated).await?;
    Ok(json!({ "UserPoolClient": shapes::client_type(&updated, secret.as_deref()) }))
}

async fn list_user_pool_clients(app: &Inner, request: &Value) -> ActionResult {
    let req: ListUserPoolClientsRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    let size = page_size(req.max_results, "maxResults", 1)?;
    let after = page_start(req.next_token.as_deref(), |k| {
        k.len() <= 128 && k.bytes().all(|b| b.is_ascii_alphanumeric())
    })?;
    let found = app
        .store
        .clients_page(&pool.pool_id, &after, size + 1)
        .await?;
    let (found, next) = page(found, size, |c| &c.client_id);
    let list: Vec<Value> = found.iter().map(shapes::client_description).collect();
    Ok(with_token(json!({ "UserPoolClients": list }), next))
}

async fn delete_user_pool_client(app: &Inner, request: &Value) -> ActionResult {
    let req: ClientIdRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    clients::delete(app, &pool.pool_id, &req.client_id)
        .await
        .map_err(|e| not_found_as(e, || client_not_found(&req.client_id)))?;
    Ok(json!({}))
}

/// The client of `pool_id` named `client_id`, or Cognito's error.
async fn existing_client(
    app: &Inner,
    pool_id: &str,
    client_id: &str,
) -> Result<AppClient, CognitoError> {
    let pool = existing_pool(app, pool_id).await?;
    app.store
        .client_by_id(&pool.pool_id, client_id)
        .await?
        .ok_or_else(|| client_not_found(client_id))
}

/// A confidential client's secret, unsealed (the API returns it, as Cognito's does).
async fn client_secret(app: &Inner, client: &AppClient) -> Result<Option<String>, CognitoError> {
    if client.is_public() {
        return Ok(None);
    }
    let Some(sealed) = app.store.client_secret_sealed(&client.client_id).await? else {
        return Ok(None);
    };
    let plain = app
        .keys
        .master()
        .open(&client.client_id, &sealed)
        .map_err(|e| anyhow::anyhow!("unseal client secret: {e}"))?;
    let secret = String::from_utf8(plain).map_err(|e| anyhow::anyhow!("client secret: {e}"))?;
    Ok(Some(secret))
}

fn client_not_found(client_id: &str) -> CognitoError {
    CognitoError::not_found(format!("User pool client {client_id} does not exist."))
}

// ---- identity providers --------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateIdentityProviderRequest {
    user_pool_id: String,
    provider_name: String,
    provider_type: String,
    provider_details: BTreeMap<String, String>,
    attribute_mapping: Option<BTreeMap<String, String>>,
    idp_identifiers: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProviderNameRequest {
    user_pool_id: String,
    provider_name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateIdentityProviderRequest {
    user_pool_id: String,
    provider_name: String,
    provider_details: Option<BTreeMap<String, String>>,
    attribute_mapping: Option<BTreeMap<String, String>>,
    idp_identifiers: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListIdentityProvidersRequest {
    user_pool_id: String,
    max_results: Option<i64>,
    next_token: Option<String>,
}

/// Cognito's `ProviderDetails` as cognate's details and the client secret.
fn provider_details(
    map: &BTreeMap<String, String>,
) -> Result<(ProviderDetails, Option<String>), CognitoError> {
    let mut d = ProviderDetails::default();
    let mut secret = None;
    for (key, value) in map {
        let v = Some(value.clone());
        match key.as_str() {
            "client_id" => d.client_id = value.clone(),
            "client_secret" => secret = v.filter(|s| !s.is_empty()),
            "authorize_scopes" => d.authorize_scopes = value.clone(),
            "authorize_url" => d.authorize_url = v,
            "token_url" => d.token_url = v,
            "attributes_url" => d.attributes_url = v,
            "oidc_issuer" => d.oidc_issuer = v,
            "jwks_uri" => d.jwks_uri = v,
            // Cognito keys without effect here: the userinfo request method, the
            // Graph API version, and a flag Cognito sets itself (so a described
            // provider can be sent back as it is).
            "attributes_request_method" | "api_version" | "attributes_url_add_attributes" => {}
            other => {
                return Err(CognitoError::invalid(format!(
                    "ProviderDetails key {other:?} is not supported."
                )));
            }
        }
    }
    Ok((d, secret))
}

/// Cognito's limits on `IdpIdentifiers`: at most 50, each 1 to 40 characters.
fn check_identifiers(identifiers: &[String]) -> Result<(), CognitoError> {
    if identifiers.len() > 50
        || identifiers
            .iter()
            .any(|i| i.is_empty() || i.chars().count() > 40)
    {
        return Err(CognitoError::invalid(
            "IdpIdentifiers must be at most 50 names of 1 to 40 characters.",
        ));
    }
    Ok(())
}

async fn create_identity_provider(app: &Inner, request: &Value) -> ActionResult {
    let req: CreateIdentityProviderRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    let provider_type = ProviderType::parse(&req.provider_type).ok_or_else(|| {
        CognitoError::invalid(format!(
            "ProviderType {:?} is not supported; use Google, Facebook, LoginWithAmazon or OIDC.",
            req.provider_type
        ))
    })?;
    let (details, client_secret) = provider_details(&req.provider_details)?;
    let idp_identifiers = req.idp_identifiers.unwrap_or_default();
    check_identifiers(&idp_identifiers)?;
    let new = NewProvider {
        provider_name: req.provider_name.clone(),
        provider_type,
        details,
        client_secret,
        attribute_mapping: req.attribute_mapping.unwrap_or_default(),
        linking_policy: LinkingPolicy::default(),
        idp_identifiers,
    };
    let idp = federation::create_provider(app, &pool.pool_id, new)
        .await
        .map_err(|e| match e {
            AppError::Conflict(_) => CognitoError::new(
                "DuplicateProviderException",
                format!(
                    "A provider with the name {} already exists in this user pool.",
                    req.provider_name
                ),
            ),
            other => other.into(),
        })?;
    Ok(json!({ "IdentityProvider": shapes::provider_type(&idp) }))
}

async fn describe_identity_provider(app: &Inner, request: &Value) -> ActionResult {
    let req: ProviderNameRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    let (idp, _sealed) = app
        .store
        .identity_provider(&pool.pool_id, &req.provider_name)
        .await?
        .ok_or_else(|| provider_not_found(&req.provider_name))?;
    Ok(json!({ "IdentityProvider": shapes::provider_type(&idp) }))
}

async fn update_identity_provider(app: &Inner, request: &Value) -> ActionResult {
    let req: UpdateIdentityProviderRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    let details = req
        .provider_details
        .as_ref()
        .map(provider_details)
        .transpose()?;
    if let Some(identifiers) = &req.idp_identifiers {
        check_identifiers(identifiers)?;
    }
    let (mapping, identifiers) = (req.attribute_mapping, req.idp_identifiers);
    let idp = federation::update_provider(app, &pool.pool_id, &req.provider_name, move |p| {
        if let Some((details, secret)) = details {
            p.details = details;
            // Describe never shows the secret, so sending details back keeps it.
            if secret.is_some() {
                p.client_secret = secret;
            }
        }
        if let Some(mapping) = mapping {
            p.attribute_mapping = mapping;
        }
        if let Some(identifiers) = identifiers {
            p.idp_identifiers = identifiers;
        }
    })
    .await
    .map_err(|e| not_found_as(e, || provider_not_found(&req.provider_name)))?;
    Ok(json!({ "IdentityProvider": shapes::provider_type(&idp) }))
}

async fn list_identity_providers(app: &Inner, request: &Value) -> ActionResult {
    let req: ListIdentityProvidersRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    let size = page_size(req.max_results, "maxResults", 0)?;
    let after = page_start(req.next_token.as_deref(), |k| k.chars().count() <= 32)?;
    let found = app
        .store
        .identity_providers_page(&pool.pool_id, &after, size + 1)
        .await?;
    let (found, next) = page(found, size, |p| &p.provider_name);
    let list: Vec<Value> = found.iter().map(shapes::provider_description).collect();
    Ok(with_token(json!({ "Providers": list }), next))
}

async fn delete_identity_provider(app: &Inner, request: &Value) -> ActionResult {
    let req: ProviderNameRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    federation::delete_provider(app, &pool.pool_id, &req.provider_name)
        .await
        .map_err(|e| not_found_as(e, || provider_not_found(&req.provider_name)))?;
    Ok(json!({}))
}

fn provider_not_found(name: &str) -> CognitoError {
    CognitoError::not_found(format!("Identity provider {name} does not exist."))
}

// ---- groups --------------------------------------------------------------------

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

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListGroupsRequest {
    user_pool_id: String,
    limit: Option<i64>,
    next_token: Option<String>,
}

async fn create_group(app: &Inner, request: &Value) -> ActionResult {
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

async fn get_group(app: &Inner, request: &Value) -> ActionResult {
    let req: GroupNameRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    let group = app
        .store
        .group_by_name(&pool.pool_id, &req.group_name)
        .await?
        .ok_or_else(group_not_found)?;
    Ok(json!({ "Group": shapes::group_type(&group) }))
}

async fn update_group(app: &Inner, request: &Value) -> ActionResult {
    let req: GroupRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    let (description, precedence, role_arn) = (req.description, req.precedence, req.role_arn);
    let group = groups::update(app, &pool.pool_id, &req.group_name, move |g| {
        if description.is_some() {
            g.description = description;
        }
        if precedence.is_some() {
            g.precedence = precedence;
        }
        if role_arn.is_some() {
            g.role_arn = role_arn;
        }
    })
    .await
    .map_err(|e| not_found_as(e, group_not_found))?;
    Ok(json!({ "Group": shapes::group_type(&group) }))
}

async fn list_groups(app: &Inner, request: &Value) -> ActionResult {
    let req: ListGroupsRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    let size = page_size(req.limit, "limit", 0)?;
    let after = page_start(req.next_token.as_deref(), |k| {
        groups::validate_name(k).is_ok()
    })?;
    let found = app
        .store
        .groups_page(&pool.pool_id, &after, size + 1)
        .await?;
    let (found, next) = page(found, size, |g| &g.group_name);
    let list: Vec<Value> = found.iter().map(shapes::group_type).collect();
    Ok(with_token(json!({ "Groups": list }), next))
}

async fn delete_group(app: &Inner, request: &Value) -> ActionResult {
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

// ---- shared --------------------------------------------------------------------

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

fn pool_not_found(pool_id: &str) -> CognitoError {
    CognitoError::not_found(format!("User pool {pool_id} does not exist."))
}

/// The region a pool id starts with (`us-east-1_AbC…`), for its ARN.
fn region_of(pool_id: &str) -> &str {
    pool_id.split_once('_').map_or(REGION, |(region, _)| region)
}

/// A domain error with its `NotFound` in Cognito's words.
pub(super) fn not_found_as(e: AppError, not_found: impl FnOnce() -> CognitoError) -> CognitoError {
    match e {
        AppError::NotFound(_) => not_found(),
        other => other.into(),
    }
}

/// A page size within Cognito's bounds (`min` to 60); none, or 0 where the model
/// allows it, means 60.
fn page_size(requested: Option<i64>, field: &str, min: i64) -> Result<i64, CognitoError> {
    match requested {
        None => Ok(MAX_PAGE),
        Some(0) if min == 0 => Ok(MAX_PAGE),
        Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
        Some(n) => Err(CognitoError::invalid(format!(
            "1 validation error detected: Value '{n}' at '{field}' failed to satisfy \
             constraint: Member must have value between {min} and {MAX_PAGE}"
        ))),
    }
}

/// The key a page starts after: `""` for the first page, else the key in the token,
/// which must decode to a key of the listed kind.
pub(super) fn page_start(
    token: Option<&str>,
    valid: impl Fn(&str) -> bool,
) -> Result<String, CognitoError> {
    let Some(token) = token else {
        return Ok(String::new());
    };
    URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|key| !key.is_empty() && valid(key))
        .ok_or_else(|| CognitoError::invalid("Invalid pagination token."))
}

/// Cuts a fetch of `size + 1` items to `size`, with a token for the next page when
/// there is one.
pub(super) fn page<T>(
    mut items: Vec<T>,
    size: i64,
    key: impl Fn(&T) -> &str,
) -> (Vec<T>, Option<String>) {
    let size = usize::try_from(size).unwrap_or(0);
    if items.len() <= size {
        return (items, None);
    }
    items.truncate(size);
    let next = items.last().map(|last| URL_SAFE_NO_PAD.encode(key(last)));
    (items, next)
}

/// Adds `NextToken` to a list response when another page follows.
pub(super) fn with_token(mut response: Value, next: Option<String>) -> Value {
    if let Some(token) = next {
        response["NextToken"] = json!(token);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validities_convert_cognito_units_to_seconds() {
        assert_eq!(validity("A", Some(2), None, "hours", 3600).unwrap(), 7200);
        assert_eq!(
            validity("A", Some(5), Some("minutes"), "hours", 0).unwrap(),
            300
        );
        assert_eq!(validity("R", Some(30), None, "days", 0).unwrap(), 2_592_000);
        assert_eq!(validity("R", None, Some("days"), "days", 42).unwrap(), 42);
        assert!(validity("A", Some(1), Some("weeks"), "hours", 0).is_err());
        assert!(validity("A", Some(-1), None, "hours", 0).is_err());
        assert!(validity("A", Some(i64::MAX), Some("days"), "hours", 0).is_err());
    }

    #[test]
    fn legacy_auth_flows_become_their_allow_forms() {
        let flows = explicit_auth_flows(&["ADMIN_NO_SRP_AUTH".into()]).unwrap();
        assert_eq!(
            flows,
            [
                "ALLOW_USER_SRP_AUTH",
                "ALLOW_REFRESH_TOKEN_AUTH",
                "ALLOW_ADMIN_USER_PASSWORD_AUTH"
            ]
        );
        assert!(
            explicit_auth_flows(&["USER_PASSWORD_AUTH".into(), "ALLOW_USER_SRP_AUTH".into()])
                .is_err()
        );
    }

    #[test]
    fn page_tokens_round_trip_and_bad_ones_are_refused() {
        let (items, next) = page(vec!["a", "b", "c"], 2, |s| s);
        assert_eq!(items, ["a", "b"]);
        let start = page_start(next.as_deref(), |_| true).unwrap();
        assert_eq!(start, "b");
        let (_, last) = page(vec!["c"], 2, |s| s);
        assert_eq!(last, None);
        assert!(page_start(Some("!!"), |_| true).is_err());
        assert!(page_start(Some(&URL_SAFE_NO_PAD.encode("x y")), |k| !k.contains(' ')).is_err());
        assert_eq!(page_start(None, |_| false).unwrap(), "");
    }

    #[test]
    fn page_sizes_keep_to_the_models_bounds() {
        assert_eq!(page_size(None, "limit", 0).unwrap(), 60);
        assert_eq!(page_size(Some(0), "limit", 0).unwrap(), 60);
        assert!(page_size(Some(0), "maxResults", 1).is_err());
        assert!(page_size(Some(61), "maxResults", 1).is_err());
        assert_eq!(page_size(Some(3), "maxResults", 1).unwrap(), 3);
    }
}
