//! Users: their status, attributes and what creating one takes.

use std::collections::BTreeMap;

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

/// Cognito's user statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum UserStatus {
    #[serde(rename = "UNCONFIRMED")]
    Unconfirmed,
    #[serde(rename = "CONFIRMED")]
    Confirmed,
    #[serde(rename = "FORCE_CHANGE_PASSWORD")]
    ForceChangePassword,
    #[serde(rename = "RESET_REQUIRED")]
    ResetRequired,
    #[serde(rename = "EXTERNAL_PROVIDER")]
    ExternalProvider,
}

/// A user with its attributes (`sub` is `user_id`, not stored as an attribute).
#[derive(Clone, Debug, Serialize)]
pub struct User {
    pub user_id: String,
    pub pool_id: String,
    pub username: String,
    pub status: UserStatus,
    pub enabled: bool,
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub attributes: BTreeMap<String, String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The version of the user's credentials, as read with `password_hash`: a sign-in
    /// carries the version its password was checked at and is valid only while that is
    /// still current (`credential_version` in the store).
    #[serde(skip)]
    pub credential_version: i64,
    /// When the password was last set (`None`: no password), which is when a temporary
    /// one began to age.
    #[serde(skip)]
    pub password_set_at: Option<i64>,
}

/// What is needed to create a user.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub username: String,
    pub password_hash: Option<String>,
    pub status: UserStatus,
    pub attributes: BTreeMap<String, String>,
    /// A code stored with the user (sign-up).
    pub pending_code: Option<PendingCode>,
}

/// The one key usernames are compared by, at every entry point (sign-up, sign-in,
/// forgot password, the admin API, `ListUsers` filters, throttling): NFKC, so
/// canonically equal (NFC/NFD) and compatibility forms (fullwidth, ligatures,
/// superscripts) are one name, then lower-cased (Cognito's `CaseSensitive=false`).
pub fn username_key(name: &str) -> String {
    name.nfkc()
        .collect::<String>()
        .to_lowercase()
        .nfkc()
        .collect()
}

/// A code to store with a new user, in the same transaction (a sign-up never leaves an
/// unconfirmed user without its code, even if the process dies in between).
#[derive(Clone)]
pub struct PendingCode {
    pub purpose: &'static str,
    pub code_hash: String,
    pub link_hash: Option<String>,
    pub expires_at: i64,
}

/// How a filter compares a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Match {
    Exact(String),
    Prefix(String),
}

/// A user-listing filter (Cognito's `ListUsers` `Filter`), already checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserFilter {
    /// The username, case-insensitively.
    Username(Match),
    /// A standard attribute, ASCII letters compared case-insensitively.
    Attribute(&'static str, Match),
    /// `cognito:user_status`, case-insensitively.
    Status(Match),
    /// `status`: `Enabled` or `Disabled`.
    Enabled(bool),
    /// The `sub`.
    Sub(Match),
    /// A filter no user can match (e.g. `status = "Archived"`).
    Nothing,
}

/// Standard attribute names (OIDC Core §5.1) a pool accepts besides `custom:*`.
pub const STANDARD_ATTRIBUTES: &[&str] = &[
    "address",
    "birthdate",
    "email",
    "email_verified",
    "family_name",
    "gender",
    "given_name",
    "locale",
    "middle_name",
    "name",
    "nickname",
    "phone_number",
    "phone_number_verified",
    "picture",
    "preferred_username",
    "profile",
    "website",
    "zoneinfo",
];

/// Whether `name` is a standard attribute or a well-formed `custom:<name>`.
pub fn is_known_attribute(name: &str) -> bool {
    STANDARD_ATTRIBUTES.contains(&name)
        || name.strip_prefix("custom:").is_some_and(|n| {
            !n.is_empty()
                && n.len() <= 20
                && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
}
