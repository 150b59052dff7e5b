//! User pools and their settings, the password policy and the pool's own messages.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A user pool.
#[derive(Clone, Debug, Serialize)]
pub struct Pool {
    pub pool_id: String,
    pub name: String,
    pub settings: PoolSettings,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Pool options kept as one JSON document, so new options need no schema change.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct PoolSettings {
    pub password_policy: PasswordPolicy,
    /// `["email"]`: the email address is the username (Cognito's `UsernameAttributes`).
    pub username_attributes: Vec<String>,
    /// Standard attributes sign-up must collect (Cognito's schema `Required`).
    pub required_attributes: Vec<String>,
    /// Whether people may sign themselves up (Cognito's `AllowAdminCreateUserOnly`
    /// inverted).
    pub allow_self_signup: bool,
    /// Answer sign-up, sign-in and password reset alike whether or not an account
    /// exists (Cognito's `PreventUserExistenceErrors`).
    pub prevent_user_existence_errors: bool,
    /// Keep an SRP verifier for each password, for `USER_SRP_AUTH` (Amplify, pycognito).
    pub allow_srp: bool,
    /// The pool's own mail subjects and messages (`{####}` and `{username}`).
    #[serde(default)]
    pub messages: MessageTemplates,
    /// Refuse to delete the pool (Cognito's `DeletionProtection: ACTIVE`).
    pub deletion_protection: bool,
    /// The pool's tags (Cognito's `UserPoolTags`, `TagResource`, `UntagResource`).
    pub tags: BTreeMap<String, String>,
    /// The pool's triggers (Cognito's `LambdaConfig`), as sent.
    pub lambda_config: crate::model::triggers::LambdaConfig,
    /// The key webhook triggers are signed with, sealed with the master key (base64);
    /// made when a webhook target is first set, replaced by `pool trigger-secret
    /// rotate`.
    pub trigger_secret: Option<String>,
    /// The secret `trigger_secret` replaced, sealed the same way: deliveries are signed
    /// with both for a day after the rotation (`rotated_at`), so receivers can switch
    /// without dropping any (Standard Webhooks: several `v1,` signatures).
    pub previous_trigger_secret: Option<String>,
    pub trigger_secret_rotated_at: Option<i64>,
    /// How users recover a forgotten password (Cognito's `AccountRecoverySetting`).
    pub account_recovery: AccountRecovery,
    /// Attributes whose new value waits until the user verifies it, the old one staying
    /// in force meanwhile (Cognito's `AttributesRequireVerificationBeforeUpdate`; only
    /// `email`, as cognate sends no SMS).
    pub verify_before_update: Vec<String>,
    /// Second factors (Cognito's `MfaConfiguration` and `SetUserPoolMfaConfig`).
    pub mfa: MfaSettings,
    /// Cognito settings that only describe configuration cognate has no behaviour for,
    /// kept as they were sent so `DescribeUserPool` reports them back.
    pub reported: ReportedSettings,
}

/// How a user who forgot the password gets a new one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountRecovery {
    /// A code to the verified email address (`ForgotPassword`), Cognito's
    /// `verified_email` first.
    #[default]
    VerifiedEmail,
    /// Only an administrator resets passwords (Cognito's `admin_only`):
    /// `ForgotPassword` is refused.
    AdminOnly,
}

/// Cognito pool settings kept only to be reported back, each exactly as it was sent
/// (after the API checked that it asks for nothing cognate does differently). `None`:
/// never set, so not reported, as Cognito leaves unset optional blocks out.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReportedSettings {
    pub auto_verified_attributes: Option<Vec<String>>,
    pub sms_authentication_message: Option<String>,
    pub sms_verification_message: Option<String>,
    /// `VerificationMessageTemplate`'s parts cognate does not send: `DefaultEmailOption`,
    /// `EmailMessageByLink`, `EmailSubjectByLink`, `SmsMessage`.
    pub verification_template_extras: BTreeMap<String, Value>,
    /// `AdminCreateUserConfig.InviteMessageTemplate.SMSMessage`.
    pub invite_sms_message: Option<String>,
    pub user_pool_add_ons: Option<Value>,
    pub username_configuration: Option<Value>,
    pub email_configuration: Option<Value>,
    pub account_recovery_setting: Option<Value>,
    pub user_attribute_update_settings: Option<Value>,
    /// `Policies.SignInPolicy`.
    pub sign_in_policy: Option<Value>,
    pub user_pool_tier: Option<String>,
    /// `SetUserPoolMfaConfig`'s factor settings that enable nothing while MFA is off.
    pub software_token_mfa_configuration: Option<Value>,
    pub web_authn_configuration: Option<Value>,
    pub email_mfa_configuration: Option<Value>,
}

/// Whether users sign in with a second factor (Cognito's `MfaConfiguration`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum MfaConfiguration {
    #[default]
    Off,
    /// Every native user: one without a factor sets one up at sign-in.
    On,
    /// Users who turned a factor on.
    Optional,
}

impl MfaConfiguration {
    pub fn as_str(self) -> &'static str {
        match self {
            MfaConfiguration::Off => "OFF",
            MfaConfiguration::On => "ON",
            MfaConfiguration::Optional => "OPTIONAL",
        }
    }
}

/// A pool's second factors. SMS is not among them: cognate sends no SMS.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MfaSettings {
    pub configuration: MfaConfiguration,
    /// Authenticator apps (TOTP, Cognito's `SoftwareTokenMfaConfiguration.Enabled`).
    pub software_token: bool,
    /// Codes by e-mail (Cognito's `EmailMfaConfiguration`; its message is
    /// `MessageTemplates::mfa`).
    pub email: bool,
}

/// Cognito's password policy; the defaults are Cognito's.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct PasswordPolicy {
    pub minimum_length: usize,
    pub require_uppercase: bool,
    pub require_lowercase: bool,
    pub require_numbers: bool,
    pub require_symbols: bool,
    /// How many earlier passwords a new one may not repeat (Cognito's
    /// `PasswordHistorySize`, 0 to 24).
    pub password_history_size: u32,
    /// Days an administrator's temporary password stays usable (Cognito's
    /// `TemporaryPasswordValidityDays`).
    pub temporary_password_validity_days: u32,
}

/// A pool's own messages, kept in its settings; a kind left out uses the default template.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MessageTemplates {
    pub verification: Option<Override>,
    pub reset: Option<Override>,
    pub temporary_password: Option<Override>,
    /// The e-mailed sign-in code (`EmailMfaConfiguration`'s `Subject` and `Message`).
    pub mfa: Option<Override>,
}

/// A plain-text subject and message replacing the default template of one kind. The
/// HTML part is the message, escaped, with its line breaks kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    pub subject: String,
    pub body: String,
}

/// A pool's hosted-page look for every client (`client_id` `ALL`) or for one client
/// (Cognito's `UICustomizationType`), without the logo's bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UiCustomization {
    pub pool_id: String,
    /// `ALL` or a client's id.
    pub client_id: String,
    /// The stylesheet, verbatim.
    pub css: Option<String>,
    /// The logo's media type (`image/png`, `image/jpeg`), if there is a logo.
    pub image_type: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}
