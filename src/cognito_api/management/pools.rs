//! `CreateUserPool`, `DescribeUserPool`, `AddCustomAttributes`, `ListUserPools`,
//! `UpdateUserPool` and `DeleteUserPool`.
//!
//! Every pool setting these actions take is honoured, kept as sent to be reported back
//! (configuration that only describes something cognate has no behaviour for, such as
//! the text of SMS messages while there is no SMS), or refused with
//! `InvalidParameterException` naming it: none is accepted and then ignored.
//! `UpdateUserPool` replaces what it covers, as Cognito's does; it cannot change the
//! schema, alias and username settings or the MFA factors, so those stay, and tags
//! stay unless `UserPoolTags` is sent.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{existing_pool, not_found_as, pool_not_found};
use crate::cognito_api::paging::{MAX_PAGE, Paging, page_size};
use crate::cognito_api::{ActionResult, CognitoError, parse, shapes};
use crate::error::AppError;
use crate::mail::Override;
use crate::pool::{self, AccountRecovery, PasswordPolicy, Pool, PoolSettings};
use crate::state::Inner;
use crate::users::STANDARD_ATTRIBUTES;
use crate::users::schema::{Constraints, NumberConstraints, SchemaAttribute, StringConstraints};

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
    sms_verification_message: Option<String>,
    sms_authentication_message: Option<String>,
    auto_verified_attributes: Option<Vec<String>>,
    lambda_config: Option<serde_json::Map<String, Value>>,
    user_attribute_update_settings: Option<UserAttributeUpdateSettings>,
    email_configuration: Option<EmailConfiguration>,
    user_pool_add_ons: Option<UserPoolAddOns>,
    account_recovery_setting: Option<AccountRecoverySetting>,
    user_pool_tags: Option<BTreeMap<String, String>>,
    user_pool_tier: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct Policies {
    password_policy: Option<PasswordPolicyShape>,
    sign_in_policy: Option<SignInPolicy>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct PasswordPolicyShape {
    minimum_length: Option<i64>,
    require_uppercase: Option<bool>,
    require_lowercase: Option<bool>,
    require_numbers: Option<bool>,
    require_symbols: Option<bool>,
    password_history_size: Option<i64>,
    temporary_password_validity_days: Option<i64>,
}

/// `Policies.SignInPolicy`: cognate signs in with passwords only.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct SignInPolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed_first_auth_factors: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct AdminCreateUserConfig {
    allow_admin_create_user_only: Option<bool>,
    unused_account_validity_days: Option<i64>,
    invite_message_template: Option<MessageTemplate>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct MessageTemplate {
    email_message: Option<String>,
    email_subject: Option<String>,
    #[serde(rename = "SMSMessage")]
    sms_message: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct VerificationMessageTemplate {
    email_message: Option<String>,
    email_subject: Option<String>,
    default_email_option: Option<String>,
    email_message_by_link: Option<String>,
    email_subject_by_link: Option<String>,
    sms_message: Option<String>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct UserAttributeUpdateSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    attributes_require_verification_before_update: Option<Vec<String>>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct EmailConfiguration {
    #[serde(skip_serializing_if = "Option::is_none")]
    source_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_to_email_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_sending_account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    configuration_set: Option<String>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct UserPoolAddOns {
    advanced_security_mode: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    advanced_security_additional_flows: Option<Value>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct AccountRecoverySetting {
    #[serde(skip_serializing_if = "Option::is_none")]
    recovery_mechanisms: Option<Vec<RecoveryOption>>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct RecoveryOption {
    priority: i64,
    name: String,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct UsernameConfiguration {
    case_sensitive: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct SchemaAttributeShape {
    name: String,
    required: Option<bool>,
    attribute_data_type: Option<String>,
    mutable: Option<bool>,
    developer_only_attribute: Option<bool>,
    string_attribute_constraints: Option<StringConstraints>,
    number_attribute_constraints: Option<NumberConstraints>,
}

impl SchemaAttributeShape {
    /// The declaration, with a custom name in its full `custom:` form, and its type
    /// and bounds exactly as sent.
    fn declaration(&self) -> Result<SchemaAttribute, CognitoError> {
        let standard = STANDARD_ATTRIBUTES.contains(&self.name.as_str());
        let name = if standard || self.name.starts_with("custom:") {
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
        let data_type = self
            .attribute_data_type
            .clone()
            .unwrap_or_else(|| "String".into());
        if standard && data_type != standard_type(&name) {
            return Err(CognitoError::invalid(format!(
                "The standard attribute {name} is of type {}, not {data_type}.",
                standard_type(&name)
            )));
        }
        Ok(SchemaAttribute {
            name,
            data_type,
            mutable: self.mutable.unwrap_or(true),
            developer_only: self.developer_only_attribute.unwrap_or(false),
            constraints: Constraints {
                string: self.string_attribute_constraints.clone(),
                number: self.number_attribute_constraints.clone(),
            },
        })
    }
}

/// The type Cognito gives a standard attribute.
fn standard_type(name: &str) -> &'static str {
    if crate::users::schema::is_verification_flag(name) {
        "Boolean"
    } else {
        "String"
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateUserPoolRequest {
    pool_name: String,
    username_attributes: Option<Vec<String>>,
    alias_attributes: Option<Vec<String>>,
    username_configuration: Option<UsernameConfiguration>,
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

/// `field` is refused: cognate does not do what it asks for (yet).
fn unsupported(field: &str, why: &str) -> CognitoError {
    CognitoError::invalid(format!("{field} is not supported: {why}."))
}

/// A value as JSON, to be reported back as sent.
fn as_sent(value: &impl Serialize) -> Result<Value, CognitoError> {
    serde_json::to_value(value).map_err(|e| CognitoError::from(anyhow::anyhow!("{e}")))
}

/// A message field; Terraform sends an unset one as `""`, which means "the default".
fn nonempty(value: &Option<String>) -> Option<String> {
    value.clone().filter(|v| !v.is_empty())
}

/// `MfaConfiguration` as sent (omitted: Cognito's `OFF`). `ON` and `OPTIONAL` need a
/// factor the pool offers (`SetUserPoolMfaConfig`), as SMS, the only one Cognito's
/// `CreateUserPool` can turn on, is not cognate's.
fn mfa_configuration(
    sent: Option<&str>,
    s: &PoolSettings,
) -> Result<crate::pool::MfaConfiguration, CognitoError> {
    use crate::pool::MfaConfiguration;
    let mode = match sent {
        None | Some("OFF") => MfaConfiguration::Off,
        Some("ON") => MfaConfiguration::On,
        Some("OPTIONAL") => MfaConfiguration::Optional,
        Some(other) => {
            return Err(CognitoError::invalid(format!(
                "MfaConfiguration {other:?} must be OFF, ON or OPTIONAL."
            )));
        }
    };
    super::mfa::check_mode(mode, &s.mfa)?;
    Ok(mode)
}

/// `LambdaConfig` as sent (its targets are checked with the rest of the settings);
/// the senders that need KMS are refused until cognate has them.
fn lambda_config(
    sent: Option<&serde_json::Map<String, Value>>,
) -> Result<crate::triggers::LambdaConfig, CognitoError> {
    const KNOWN: &[&str] = &[
        "PreSignUp",
        "CustomMessage",
        "PostConfirmation",
        "PreAuthentication",
        "PostAuthentication",
        "DefineAuthChallenge",
        "CreateAuthChallenge",
        "VerifyAuthChallengeResponse",
        "PreTokenGeneration",
        "PreTokenGenerationConfig",
        "UserMigration",
    ];
    let Some(sent) = sent else {
        return Ok(Default::default());
    };
    let set: serde_json::Map<String, Value> = sent
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for key in set.keys() {
        if ["CustomEmailSender", "CustomSMSSender", "KMSKeyID"].contains(&key.as_str()) {
            return Err(unsupported(
                &format!("LambdaConfig.{key}"),
                "custom senders are not available yet",
            ));
        }
        if !KNOWN.contains(&key.as_str()) {
            return Err(CognitoError::invalid(format!(
                "LambdaConfig.{key} is not a trigger."
            )));
        }
    }
    serde_json::from_value(Value::Object(set))
        .map_err(|e| CognitoError::invalid(format!("LambdaConfig: {e}")))
}

/// The password policy as sent; unset requirements are off, as Cognito reads a sent
/// policy, and a policy not sent is Cognito's default.
fn password_policy(shape: Option<&PasswordPolicyShape>) -> Result<PasswordPolicy, CognitoError> {
    let default = PasswordPolicy::default();
    let Some(p) = shape else {
        return Ok(default);
    };
    let count = |value: Option<i64>, default: u32, field: &str, max: u32| match value {
        None => Ok(default),
        Some(n) => u32::try_from(n)
            .ok()
            .filter(|n| *n <= max)
            .ok_or_else(|| CognitoError::invalid(format!("{field} must be 0 to {max}."))),
    };
    Ok(PasswordPolicy {
        minimum_length: match p.minimum_length {
            None => default.minimum_length,
            Some(n) => usize::try_from(n)
                .map_err(|_| CognitoError::invalid("MinimumLength must be 6 to 99."))?,
        },
        require_uppercase: p.require_uppercase.unwrap_or(false),
        require_lowercase: p.require_lowercase.unwrap_or(false),
        require_numbers: p.require_numbers.unwrap_or(false),
        require_symbols: p.require_symbols.unwrap_or(false),
        password_history_size: count(p.password_history_size, 0, "PasswordHistorySize", 24)?,
        // Cognito reads 0 as "the default".
        temporary_password_validity_days: count(
            p.temporary_password_validity_days.filter(|d| *d != 0),
            default.temporary_password_validity_days,
            "TemporaryPasswordValidityDays",
            365,
        )?,
    })
}

/// Sets the settings `config` covers, omitted ones to Cognito's defaults; tags and the
/// tier are kept unless sent.
fn apply_pool_config(config: &PoolConfig, s: &mut PoolSettings) -> Result<(), CognitoError> {
    s.mfa.configuration = mfa_configuration(config.mfa_configuration.as_deref(), s)?;
    s.lambda_config = lambda_config(config.lambda_config.as_ref())?;
    let policies = config.policies.as_ref();
    s.password_policy = password_policy(policies.and_then(|p| p.password_policy.as_ref()))?;
    s.reported.sign_in_policy = match policies.and_then(|p| p.sign_in_policy.as_ref()) {
        None => None,
        Some(policy) => {
            let factors = policy.allowed_first_auth_factors.iter().flatten();
            if let Some(other) = factors.into_iter().find(|f| *f != "PASSWORD") {
                return Err(unsupported(
                    &format!("SignInPolicy factor {other:?}"),
                    "cognate signs in with passwords only",
                ));
            }
            Some(as_sent(policy)?)
        }
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

    // Email is always verified by a mailed code; there is no SMS.
    s.reported.auto_verified_attributes = match &config.auto_verified_attributes {
        None => None,
        Some(list) => {
            if let Some(other) = list.iter().find(|a| *a != "email") {
                return Err(unsupported(
                    &format!("AutoVerifiedAttributes {other:?}"),
                    "cognate sends no SMS; only email is verified",
                ));
            }
            Some(list.clone())
        }
    };
    s.reported.sms_verification_message = nonempty(&config.sms_verification_message);
    s.reported.sms_authentication_message = nonempty(&config.sms_authentication_message);

    let admin = config.admin_create_user_config.as_ref();
    s.allow_self_signup = !admin
        .and_then(|a| a.allow_admin_create_user_only)
        .unwrap_or(false);
    if admin
        .and_then(|a| a.unused_account_validity_days)
        .is_some_and(|d| d != 0)
    {
        return Err(CognitoError::invalid(
            "Please use TemporaryPasswordValidityDays in PasswordPolicy instead of \
             UnusedAccountValidityDays",
        ));
    }
    let template = config.verification_message_template.as_ref();
    s.messages.verification = message(
        template
            .and_then(|t| nonempty(&t.email_subject))
            .or_else(|| nonempty(&config.email_verification_subject)),
        template
            .and_then(|t| nonempty(&t.email_message))
            .or_else(|| nonempty(&config.email_verification_message)),
        VERIFICATION_SUBJECT,
        VERIFICATION_MESSAGE,
    );
    s.reported.verification_template_extras = BTreeMap::new();
    if let Some(t) = template {
        match t.default_email_option.as_deref() {
            None => {}
            Some("CONFIRM_WITH_CODE") => {
                s.reported
                    .verification_template_extras
                    .insert("DefaultEmailOption".into(), json!("CONFIRM_WITH_CODE"));
            }
            Some(other) => {
                return Err(unsupported(
                    &format!("DefaultEmailOption {other:?}"),
                    "the API's sign-up mails a code (CONFIRM_WITH_CODE)",
                ));
            }
        }
        for (key, value) in [
            ("EmailMessageByLink", &t.email_message_by_link),
            ("EmailSubjectByLink", &t.email_subject_by_link),
            ("SmsMessage", &t.sms_message),
        ] {
            if let Some(v) = nonempty(value) {
                s.reported
                    .verification_template_extras
                    .insert(key.into(), json!(v));
            }
        }
    }
    let invite = admin.and_then(|a| a.invite_message_template.as_ref());
    s.messages.temporary_password = message(
        invite.and_then(|t| nonempty(&t.email_subject)),
        invite.and_then(|t| nonempty(&t.email_message)),
        INVITE_SUBJECT,
        INVITE_MESSAGE,
    );
    s.reported.invite_sms_message = invite.and_then(|t| nonempty(&t.sms_message));

    s.verify_before_update = Vec::new();
    s.reported.user_attribute_update_settings = match &config.user_attribute_update_settings {
        None => None,
        Some(u) => {
            for name in u
                .attributes_require_verification_before_update
                .iter()
                .flatten()
            {
                match name.as_str() {
                    "email" => s.verify_before_update.push(name.clone()),
                    "phone_number" => {
                        return Err(unsupported(
                            "AttributesRequireVerificationBeforeUpdate phone_number",
                            "cognate sends no SMS to verify a phone number with",
                        ));
                    }
                    other => {
                        return Err(CognitoError::invalid(format!(
                            "AttributesRequireVerificationBeforeUpdate {other:?} must be email \
                             or phone_number."
                        )));
                    }
                }
            }
            Some(as_sent(u)?)
        }
    };
    s.reported.email_configuration = match &config.email_configuration {
        None => None,
        Some(e) => {
            if !matches!(
                e.email_sending_account.as_deref(),
                None | Some("COGNITO_DEFAULT")
            ) {
                return Err(unsupported(
                    "EmailSendingAccount DEVELOPER",
                    "cognate sends mail through the SMTP server it is configured with",
                ));
            }
            for (field, value) in [
                ("EmailConfiguration.SourceArn", &e.source_arn),
                ("EmailConfiguration.From", &e.from),
                (
                    "EmailConfiguration.ReplyToEmailAddress",
                    &e.reply_to_email_address,
                ),
                ("EmailConfiguration.ConfigurationSet", &e.configuration_set),
            ] {
                if value.as_ref().is_some_and(|v| !v.is_empty()) {
                    return Err(unsupported(
                        field,
                        "the sender is the server's own (COGNATE_SMTP_FROM)",
                    ));
                }
            }
            Some(as_sent(e)?)
        }
    };
    s.reported.user_pool_add_ons = match &config.user_pool_add_ons {
        None => None,
        Some(a) => {
            if a.advanced_security_mode != "OFF" || a.advanced_security_additional_flows.is_some() {
                return Err(unsupported(
                    &format!("AdvancedSecurityMode {:?}", a.advanced_security_mode),
                    "threat protection is not available; it must be OFF",
                ));
            }
            Some(as_sent(a)?)
        }
    };
    s.account_recovery = AccountRecovery::VerifiedEmail;
    s.reported.account_recovery_setting = match &config.account_recovery_setting {
        None => None,
        Some(r) => {
            s.account_recovery = account_recovery(r)?;
            Some(as_sent(r)?)
        }
    };
    if let Some(tier) = &config.user_pool_tier {
        if !matches!(tier.as_str(), "LITE" | "ESSENTIALS" | "PLUS") {
            return Err(CognitoError::invalid(format!(
                "UserPoolTier {tier:?} must be LITE, ESSENTIALS or PLUS."
            )));
        }
        s.reported.user_pool_tier = Some(tier.clone());
    }
    if let Some(tags) = &config.user_pool_tags {
        s.tags = tags.clone();
    }
    Ok(())
}

/// What `AccountRecoverySetting` asks for, by its mechanism of highest priority:
/// `verified_email` (a second, `verified_phone_number`, is never reached: there is no
/// SMS) or `admin_only`, which stands alone.
fn account_recovery(r: &AccountRecoverySetting) -> Result<AccountRecovery, CognitoError> {
    let mut mechanisms: Vec<&RecoveryOption> = r.recovery_mechanisms.iter().flatten().collect();
    mechanisms.sort_by_key(|m| m.priority);
    let names: Vec<&str> = mechanisms.iter().map(|m| m.name.as_str()).collect();
    if let Some(other) = names.iter().find(|n| {
        !matches!(
            **n,
            "verified_email" | "verified_phone_number" | "admin_only"
        )
    }) {
        return Err(CognitoError::invalid(format!(
            "RecoveryMechanisms {other:?} must be verified_email, verified_phone_number or \
             admin_only."
        )));
    }
    if names.contains(&"admin_only") && names.len() > 1 {
        return Err(CognitoError::invalid(
            "RecoveryMechanisms admin_only cannot be combined with another mechanism.",
        ));
    }
    match names.first() {
        None | Some(&"verified_email") => Ok(AccountRecovery::VerifiedEmail),
        Some(&"admin_only") => Ok(AccountRecovery::AdminOnly),
        Some(_) => Err(unsupported(
            "RecoveryMechanisms verified_phone_number first",
            "cognate sends no SMS; put verified_email first or use admin_only",
        )),
    }
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

/// `UserPoolType` for `pool`, read with its schema and user count.
pub(super) async fn describe(app: &Inner, pool: &Pool) -> Result<Value, CognitoError> {
    let schema = app.store.schema(&pool.pool_id).await?;
    let users = app.store.count_users(&pool.pool_id).await?;
    let mut user_pool = shapes::pool_type(pool, &schema, users);
    super::domains::add_to_pool(app, &pool.pool_id, &mut user_pool).await?;
    Ok(user_pool)
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
    if let Some(u) = &req.username_configuration {
        // Usernames are compared case-insensitively (the `username_lc` column).
        if u.case_sensitive {
            return Err(unsupported(
                "UsernameConfiguration CaseSensitive true",
                "usernames are compared case-insensitively",
            ));
        }
        settings.reported.username_configuration = Some(as_sent(u)?);
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
    Ok(json!({ "UserPool": describe(app, &pool).await? }))
}

pub(super) async fn add_custom_attributes(app: &Inner, request: &Value) -> ActionResult {
    let req: AddCustomAttributesRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    let mut declared = Vec::new();
    for attribute in &req.custom_attributes {
        if attribute.required.unwrap_or(false) {
            return Err(CognitoError::invalid(
                "Required custom attributes are not supported currently.",
            ));
        }
        // Every name here is custom, even one that matches a standard attribute.
        let custom = SchemaAttributeShape {
            name: format!(
                "custom:{}",
                attribute
                    .name
                    .strip_prefix("custom:")
                    .unwrap_or(&attribute.name)
            ),
            required: None,
            attribute_data_type: attribute.attribute_data_type.clone(),
            mutable: attribute.mutable,
            developer_only_attribute: attribute.developer_only_attribute,
            string_attribute_constraints: attribute.string_attribute_constraints.clone(),
            number_attribute_constraints: attribute.number_attribute_constraints.clone(),
        };
        declared.push(custom.declaration()?);
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
    Ok(json!({ "UserPool": describe(app, &pool).await? }))
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
