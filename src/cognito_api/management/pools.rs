//! `CreateUserPool`, `DescribeUserPool`, `AddCustomAttributes`, `ListUserPools`,
//! `UpdateUserPool` and `DeleteUserPool`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{existing_pool, not_found_as, pool_not_found};
use crate::cognito_api::paging::{MAX_PAGE, Paging, page_size};
use crate::cognito_api::{ActionResult, CognitoError, parse, shapes};
use crate::error::AppError;
use crate::mail::Override;
use crate::pool::{self, PasswordPolicy, PoolSettings};
use crate::state::Inner;
use crate::users::STANDARD_ATTRIBUTES;
use crate::users::schema::SchemaAttribute;

/// The region of pools created here (request regions are not passed down; a pool's
/// region is read back from its id).
const REGION: &str = "us-east-1";

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

pub(super) async fn create_user_pool(app: &Inner, request: &Value) -> ActionResult {
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

pub(super) async fn add_custom_attributes(app: &Inner, request: &Value) -> ActionResult {
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

pub(super) async fn describe_user_pool(app: &Inner, request: &Value) -> ActionResult {
    let req: UserPoolIdRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    let mut user_pool = shapes::pool_type(&pool, region_of(&pool.pool_id));
    super::domains::add_to_pool(app, &pool.pool_id, &mut user_pool).await?;
    Ok(json!({ "UserPool": user_pool }))
}

pub(super) async fn list_user_pools(app: &Inner, request: &Value) -> ActionResult {
    let req: ListUserPoolsRequest = parse(request)?;
    let size = page_size(Some(req.max_results), "maxResults", 1, MAX_PAGE)?;
    let token = req.next_token.as_deref();
    let page = Paging::new(app.keys.master(), &["ListUserPools"], token, size)?;
    let read = app.store.pools_page(page.at(None)).await?;
    Ok(page.answer_read("UserPools", read, |p| &p.pool_id, shapes::pool_description))
}

pub(super) async fn update_user_pool(app: &Inner, request: &Value) -> ActionResult {
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

pub(super) async fn delete_user_pool(app: &Inner, request: &Value) -> ActionResult {
    let req: UserPoolIdRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    pool::delete(app, &pool.pool_id)
        .await
        .map_err(|e| not_found_as(e, || pool_not_found(&pool.pool_id)))?;
    Ok(json!({}))
}

/// The region a pool id starts with (`us-east-1_AbC…`), for its ARN.
fn region_of(pool_id: &str) -> &str {
    pool_id.split_once('_').map_or(REGION, |(region, _)| region)
}
