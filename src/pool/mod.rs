//! User pools: the directory's top-level unit, with its own issuer, keys, password
//! policy, users, groups and app clients. Ids look like Cognito's: `<region>_<9 chars>`.

pub mod ui;

pub use crate::model::pool::{
    AccountRecovery, MfaConfiguration, MfaSettings, PasswordPolicy, Pool, PoolSettings,
};

/// Longest password accepted anywhere (Cognito's limit), checked before any hashing.
pub const MAX_PASSWORD_LENGTH: usize = 256;
use crate::model::schema::SchemaAttribute;

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            password_policy: PasswordPolicy::default(),
            username_attributes: Vec::new(),
            required_attributes: vec!["email".to_string()],
            allow_self_signup: true,
            prevent_user_existence_errors: true,
            allow_srp: true,
            messages: crate::mail::MessageTemplates::default(),
            deletion_protection: false,
            tags: Default::default(),
            account_recovery: Default::default(),
            verify_before_update: Vec::new(),
            mfa: Default::default(),
            reported: Default::default(),
            lambda_config: Default::default(),
            trigger_secret: None,
            previous_trigger_secret: None,
            trigger_secret_rotated_at: None,
        }
    }
}

impl PoolSettings {
    /// Whether users sign in with their email address as username.
    pub fn email_is_username(&self) -> bool {
        self.username_attributes.iter().any(|a| a == "email")
    }
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            minimum_length: 8,
            require_uppercase: true,
            require_lowercase: true,
            require_numbers: true,
            require_symbols: true,
            password_history_size: 0,
            temporary_password_validity_days: 7,
        }
    }
}

/// One rule of a password policy. Every surface words it its own way: the Cognito API
/// as Cognito does ([`PasswordPolicy::check`]), the hosted pages in the page's language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordRule {
    /// At least this many characters.
    MinLength(usize),
    Uppercase,
    Lowercase,
    Number,
    Symbol,
    /// At most [`MAX_PASSWORD_LENGTH`] characters.
    MaxLength(usize),
    /// Not the username (in any case).
    NotUsername,
}

impl PasswordRule {
    /// The rule as the Cognito API's `InvalidPasswordException` names what is missing.
    fn missing(self) -> String {
        match self {
            PasswordRule::MinLength(n) => format!("at least {n} characters"),
            PasswordRule::Uppercase => "an uppercase letter".into(),
            PasswordRule::Lowercase => "a lowercase letter".into(),
            PasswordRule::Number => "a number".into(),
            PasswordRule::Symbol => "a symbol".into(),
            PasswordRule::MaxLength(n) => format!("at most {n} characters"),
            PasswordRule::NotUsername => "not the username".into(),
        }
    }
}

impl PasswordPolicy {
    /// The rules a person is told before choosing a password, in order.
    pub fn rules(&self) -> Vec<PasswordRule> {
        let mut rules = vec![PasswordRule::MinLength(self.minimum_length)];
        for (on, rule) in [
            (self.require_uppercase, PasswordRule::Uppercase),
            (self.require_lowercase, PasswordRule::Lowercase),
            (self.require_numbers, PasswordRule::Number),
            (self.require_symbols, PasswordRule::Symbol),
        ] {
            if on {
                rules.push(rule);
            }
        }
        rules
    }

    /// Every rule `password` breaks, in the order of [`PasswordPolicy::rules`], then the
    /// length limit and the username. The one place the policy is applied.
    pub fn failures(&self, password: &str, username: &str) -> Vec<PasswordRule> {
        let length = password.chars().count();
        let mut failed: Vec<PasswordRule> = self
            .rules()
            .into_iter()
            .filter(|rule| match rule {
                PasswordRule::MinLength(n) => length < *n,
                PasswordRule::Uppercase => !password.chars().any(char::is_uppercase),
                PasswordRule::Lowercase => !password.chars().any(char::is_lowercase),
                PasswordRule::Number => !password.chars().any(|c| c.is_ascii_digit()),
                PasswordRule::Symbol => !password
                    .chars()
                    .any(|c| c.is_ascii_punctuation() || c == ' '),
                PasswordRule::MaxLength(_) | PasswordRule::NotUsername => false,
            })
            .collect();
        if length > MAX_PASSWORD_LENGTH {
            failed.push(PasswordRule::MaxLength(MAX_PASSWORD_LENGTH));
        }
        if !username.is_empty() && password.to_lowercase() == username.to_lowercase() {
            failed.push(PasswordRule::NotUsername);
        }
        failed
    }

    /// Checks `password` against the policy; the error is the Cognito API's
    /// `InvalidPasswordException` message, naming what is missing.
    pub fn check(&self, password: &str, username: &str) -> Result<(), String> {
        let failed = self.failures(password, username);
        if failed.contains(&PasswordRule::MaxLength(MAX_PASSWORD_LENGTH)) {
            return Err(format!(
                "Password must be at most {MAX_PASSWORD_LENGTH} characters."
            ));
        }
        let missing: Vec<String> = failed
            .iter()
            .filter(|r| **r != PasswordRule::NotUsername)
            .map(|r| r.missing())
            .collect();
        if !missing.is_empty() {
            return Err(format!("Password must contain {}.", missing.join(", ")));
        }
        if failed.contains(&PasswordRule::NotUsername) {
            return Err("Password must not be the username.".into());
        }
        Ok(())
    }
}

/// A new pool id in Cognito's shape, e.g. `us-east-1_AbC123xYz`.
pub fn new_pool_id(region: &str) -> String {
    format!("{region}_{}", crate::crypto::random_alnum(9, false))
}

/// Whether `id` has the shape of a pool id (guards paths before any lookup).
pub fn is_pool_id(id: &str) -> bool {
    id.len() <= 55
        && id.split_once('_').is_some_and(|(region, rest)| {
            !region.is_empty()
                && region
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !rest.is_empty()
                && rest.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

/// Checks a pool name as Cognito does: 1 to 128 characters.
pub fn validate_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() || name.chars().count() > 128 {
        return Err("pool name must be 1 to 128 characters".into());
    }
    Ok(())
}

impl PoolSettings {
    /// Refuses a new user's attributes that leave out one the pool requires (blank
    /// counts as missing): the one rule of sign-up and the CLI's `user create`.
    pub fn check_required(
        &self,
        attributes: &std::collections::BTreeMap<String, String>,
    ) -> Result<(), String> {
        match self
            .required_attributes
            .iter()
            .find(|name| attributes.get(*name).is_none_or(|v| v.trim().is_empty()))
        {
            Some(name) => Err(format!("attribute {name} is required")),
            None => Ok(()),
        }
    }

    /// Checks what the store cannot: known attributes, the password length bounds and
    /// the pool's own messages.
    pub fn validate(&self) -> Result<(), String> {
        for name in &self.required_attributes {
            if !crate::model::users::STANDARD_ATTRIBUTES.contains(&name.as_str()) {
                return Err(format!("{name} is not a standard attribute"));
            }
        }
        if let Some(bad) = self.username_attributes.iter().find(|a| *a != "email") {
            return Err(format!("{bad} cannot be a username attribute"));
        }
        if !(6..=99).contains(&self.password_policy.minimum_length) {
            return Err("the minimum password length must be 6 to 99".into());
        }
        if self.password_policy.password_history_size > 24 {
            return Err("the password history size must be 0 to 24".into());
        }
        if self.password_policy.temporary_password_validity_days > 365 {
            return Err("temporary passwords must be valid for 0 to 365 days".into());
        }
        validate_tags(&self.tags)?;
        self.messages.check()
    }
}

/// Cognito's most tags on one pool.
pub const MAX_TAGS: usize = 50;

/// Checks tags as AWS does: at most 50, keys of 1 to 128 characters not starting with
/// `aws:` (AWS's own), values of at most 256 characters.
pub fn validate_tags(tags: &std::collections::BTreeMap<String, String>) -> Result<(), String> {
    if tags.len() > MAX_TAGS {
        return Err(format!("a pool has at most {MAX_TAGS} tags"));
    }
    for (key, value) in tags {
        if !(1..=128).contains(&key.chars().count()) {
            return Err("tag keys must be 1 to 128 characters".into());
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(format!("tag key {key:?}: the aws: prefix is reserved"));
        }
        if value.chars().count() > 256 {
            return Err(format!(
                "tag {key:?}: values must be at most 256 characters"
            ));
        }
    }
    Ok(())
}

/// Creates a pool and its first signing key.
pub async fn create(
    app: &crate::services::Services,
    name: &str,
    region: &str,
) -> Result<Pool, crate::error::AppError> {
    create_with_settings(app, name, region, PoolSettings::default(), &[]).await
}

/// Creates a pool with the given settings and declared attributes, checked first, and
/// its first signing key.
pub async fn create_with_settings(
    app: &crate::services::Services,
    name: &str,
    region: &str,
    settings: PoolSettings,
    schema: &[SchemaAttribute],
) -> Result<Pool, crate::error::AppError> {
    use crate::error::AppError;
    validate_name(name).map_err(AppError::Invalid)?;
    if region.is_empty()
        || !region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(AppError::Invalid(
            "region must be lower-case letters, digits and dashes".into(),
        ));
    }
    create_with_id(app, &new_pool_id(region), name, settings, schema).await
}

/// [`create_with_settings`] with an id of the caller's choosing, in Cognito's shape
/// (`cognate apply`: a pool moved from elsewhere keeps its issuer).
pub async fn create_with_id(
    app: &crate::services::Services,
    pool_id: &str,
    name: &str,
    settings: PoolSettings,
    schema: &[SchemaAttribute],
) -> Result<Pool, crate::error::AppError> {
    use crate::error::AppError;
    validate_name(name).map_err(AppError::Invalid)?;
    if !is_pool_id(pool_id) {
        return Err(AppError::Invalid(format!(
            "{pool_id:?} is not a user pool id (<region>_<9 letters or digits>)"
        )));
    }
    settings.validate().map_err(AppError::Invalid)?;
    crate::triggers::check_config(&settings.lambda_config, app.triggers.allow_private)
        .map_err(AppError::Invalid)?;
    for attribute in schema {
        validate_declaration(attribute).map_err(AppError::Invalid)?;
    }
    let pool_id = pool_id.to_string();
    let mut settings = settings;
    crate::triggers::ensure_secret(app, &pool_id, &mut settings);
    let now = app.clock.now();
    app.store
        .insert_pool(&pool_id, name, &settings, schema, now)
        .await?;
    app.keys.generate(&app.store, &pool_id, now).await?;
    app.store
        .pool_by_id(&pool_id)
        .await?
        .ok_or(AppError::NotFound("user pool"))
}

/// Checks an attribute declaration: a standard attribute or a well-formed
/// `custom:<name>` of one of Cognito's four types.
fn validate_declaration(a: &SchemaAttribute) -> Result<(), String> {
    if !crate::model::users::is_known_attribute(&a.name) {
        return Err(format!("{} is not a valid attribute name", a.name));
    }
    if !["String", "Number", "DateTime", "Boolean"].contains(&a.data_type.as_str()) {
        return Err(format!(
            "AttributeDataType {:?} must be String, Number, DateTime or Boolean",
            a.data_type
        ));
    }
    a.constraints
        .validate(&a.data_type)
        .map_err(|e| format!("{}: {e}", a.name))
}

/// Declares more custom attributes in a pool (Cognito's `AddCustomAttributes`); a name
/// already declared is a conflict.
pub async fn add_custom_attributes(
    app: &crate::services::Services,
    pool_id: &str,
    attributes: &[SchemaAttribute],
) -> Result<(), crate::error::AppError> {
    use crate::error::AppError;
    if app.store.pool_by_id(pool_id).await?.is_none() {
        return Err(AppError::NotFound("user pool"));
    }
    for a in attributes {
        if !a.name.starts_with("custom:") {
            return Err(AppError::Invalid(format!(
                "{} is not a custom attribute",
                a.name
            )));
        }
        validate_declaration(a).map_err(AppError::Invalid)?;
    }
    app.store
        .insert_schema_attributes(pool_id, attributes, app.clock.now())
        .await
        .map_err(|e| match e {
            crate::store::StoreError::Conflict => AppError::Conflict("an attribute with that name"),
            other => other.into(),
        })
}

/// Changes a pool's settings after checking them.
pub async fn update(
    app: &crate::services::Services,
    pool_id: &str,
    change: impl FnOnce(&mut PoolSettings),
) -> Result<Pool, crate::error::AppError> {
    update_named(app, pool_id, None, change).await
}

/// Changes a pool's settings and, when `name` is given, its name, after checking both.
pub async fn update_named(
    app: &crate::services::Services,
    pool_id: &str,
    name: Option<&str>,
    change: impl FnOnce(&mut PoolSettings),
) -> Result<Pool, crate::error::AppError> {
    use crate::error::AppError;
    let mut pool = app
        .store
        .pool_by_id(pool_id)
        .await?
        .ok_or(AppError::NotFound("user pool"))?;
    if let Some(name) = name {
        validate_name(name).map_err(AppError::Invalid)?;
        pool.name = name.to_string();
    }
    change(&mut pool.settings);
    pool.settings.validate().map_err(AppError::Invalid)?;
    crate::triggers::check_config(&pool.settings.lambda_config, app.triggers.allow_private)
        .map_err(AppError::Invalid)?;
    crate::triggers::ensure_secret(app, pool_id, &mut pool.settings);
    app.store
        .update_pool(pool_id, &pool.name, &pool.settings, app.clock.now())
        .await?;
    app.store
        .pool_by_id(pool_id)
        .await?
        .ok_or(AppError::NotFound("user pool"))
}

/// Deletes a pool with its users, clients, groups, providers, keys, codes and tokens,
/// unless deletion protection is on.
pub async fn delete(
    app: &crate::services::Services,
    pool_id: &str,
) -> Result<(), crate::error::AppError> {
    use crate::error::AppError;
    let pool = app
        .store
        .pool_by_id(pool_id)
        .await?
        .ok_or(AppError::NotFound("user pool"))?;
    if pool.settings.deletion_protection {
        return Err(AppError::Invalid(
            "The user pool cannot be deleted because deletion protection is activated. \
             Deletion protection must be inactivated first."
                .into(),
        ));
    }
    if !app.store.delete_pool(pool_id).await? {
        return Err(AppError::NotFound("user pool"));
    }
    // Every instance's caches (keys, domains, clients) follow the store's config
    // epoch: its domains' names are free again here at once, elsewhere within the
    // check interval.
    tracing::info!(pool_id = %pool_id, "user pool deleted");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_names_every_missing_class() {
        let policy = PasswordPolicy::default();
        let err = policy.check("abc", "bob").unwrap_err();
        assert!(err.contains("at least 8 characters"), "{err}");
        assert!(err.contains("an uppercase letter"), "{err}");
        assert!(err.contains("a number"), "{err}");
        assert!(err.contains("a symbol"), "{err}");
        assert!(policy.check("Correct-horse-9", "bob").is_ok());
        assert!(policy.check("Bob-1234", "bob-1234").is_err());
    }

    #[test]
    fn failures_list_every_broken_rule_in_the_order_they_are_shown() {
        let policy = PasswordPolicy::default();
        assert_eq!(
            policy.failures("abc", "bob"),
            [
                PasswordRule::MinLength(8),
                PasswordRule::Uppercase,
                PasswordRule::Number,
                PasswordRule::Symbol
            ]
        );
        assert_eq!(
            policy.failures("Bob-1234", "bob-1234"),
            [PasswordRule::NotUsername]
        );
        assert!(policy.failures("Correct-horse-9", "bob").is_empty());
        let long = "Aa1-".repeat(65);
        assert_eq!(
            policy.failures(&long, "bob"),
            [PasswordRule::MaxLength(MAX_PASSWORD_LENGTH)]
        );
        assert_eq!(
            policy.check(&long, "bob").unwrap_err(),
            "Password must be at most 256 characters."
        );
    }

    #[test]
    fn pool_ids_have_cognitos_shape() {
        let id = new_pool_id("us-east-1");
        assert!(is_pool_id(&id), "{id}");
        assert_eq!(id.len(), "us-east-1_".len() + 9);
        assert!(!is_pool_id("../etc"));
        assert!(!is_pool_id("us-east-1_"));
        assert!(!is_pool_id("US_abc"));
    }
}
