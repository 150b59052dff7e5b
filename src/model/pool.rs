//! User pools and their settings, the password policy and the pool's own messages.

use serde::{Deserialize, Serialize};

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
}

/// A pool's own messages, kept in its settings; a kind left out uses the default template.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MessageTemplates {
    pub verification: Option<Override>,
    pub reset: Option<Override>,
    pub temporary_password: Option<Override>,
}

/// A plain-text subject and message replacing the default template of one kind. The
/// HTML part is the message, escaped, with its line breaks kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    pub subject: String,
    pub body: String,
}
