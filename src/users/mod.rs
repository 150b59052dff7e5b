//! Users of a pool: username, status, enabled flag, attributes and password hash.

pub mod admin;
pub mod code_mail;
pub mod codes;
pub mod credentials;
pub mod hash_memory;
pub mod import;
pub mod import_jobs;
pub mod mfa;
pub mod password;
mod refusal;
pub use crate::model::schema;
pub mod srp;

pub use refusal::Refusal;

use std::collections::BTreeMap;

use unicode_normalization::UnicodeNormalization;

use crate::error::AppError;
use crate::model::schema::Writer;
pub use crate::model::users::{
    NewUser, STANDARD_ATTRIBUTES, User, UserStatus, is_known_attribute, username_key,
};
use crate::pool::Pool;
use crate::services::Services;
use crate::store::StoreError;

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Unconfirmed => "UNCONFIRMED",
            UserStatus::Confirmed => "CONFIRMED",
            UserStatus::ForceChangePassword => "FORCE_CHANGE_PASSWORD",
            UserStatus::ResetRequired => "RESET_REQUIRED",
            UserStatus::ExternalProvider => "EXTERNAL_PROVIDER",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            UserStatus::Unconfirmed,
            UserStatus::Confirmed,
            UserStatus::ForceChangePassword,
            UserStatus::ResetRequired,
            UserStatus::ExternalProvider,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
}

/// Checks a username as Cognito does: 1 to 128 characters (counted after NFC), no
/// whitespace, control or invisible format characters (zero-width spaces, bidi
/// overrides, BOM, soft hyphen), which would let two names look alike.
pub fn validate_username(name: &str) -> Result<(), String> {
    if name.is_empty()
        || name.nfc().count() > 128
        || name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || is_invisible_format(c))
    {
        return Err("username must be 1 to 128 characters without spaces".into());
    }
    Ok(())
}

/// Unicode format characters (category Cf) that render as nothing.
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// Checks an attribute name and value: a standard attribute or `custom:<name>`,
/// values at most 2048 characters (Cognito's limit).
pub fn validate_attribute(name: &str, value: &str) -> Result<(), String> {
    if !is_known_attribute(name) {
        return Err(format!("unknown attribute {name:?}"));
    }
    if value.chars().count() > 2048 {
        return Err(format!("attribute {name} is longer than 2048 characters"));
    }
    if name.ends_with("_verified") && value != "true" && value != "false" {
        return Err(format!("attribute {name} must be true or false"));
    }
    if name == "email" && !is_email(value) {
        return Err("Invalid email address format.".into());
    }
    if name == "phone_number" && !is_phone_number(value) {
        return Err("Invalid phone number format: use E.164, e.g. +14325551212.".into());
    }
    Ok(())
}

/// E.164: `+` and 2 to 15 digits, the first not 0.
fn is_phone_number(s: &str) -> bool {
    s.strip_prefix('+').is_some_and(|digits| {
        (2..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

/// A changed `email` or `phone_number` is no longer verified, unless `changes` itself
/// sets the flag (only an administrator may).
pub fn unverify_changed(
    current: &BTreeMap<String, String>,
    changes: &mut BTreeMap<String, String>,
) {
    for (name, verified) in [
        ("email", "email_verified"),
        ("phone_number", "phone_number_verified"),
    ] {
        if let Some(value) = changes.get(name)
            && current.get(name) != Some(value)
            && !changes.contains_key(verified)
        {
            changes.insert(verified.into(), "false".into());
        }
    }
}

/// Takes out of `changes` a new `email` that `pool` holds until verified (Cognito's
/// `AttributesRequireVerificationBeforeUpdate`): the user's current address stays in
/// force (sign-in, resets, tokens) and the new one is returned to be held as pending and
/// sent a code. A user without an address yet, or an administrator's change that also
/// sets `email_verified` to `true`, changes at once.
pub fn hold_for_verification(
    pool: &crate::pool::Pool,
    current: &BTreeMap<String, String>,
    changes: &mut BTreeMap<String, String>,
) -> Option<String> {
    let held = pool
        .settings
        .verify_before_update
        .iter()
        .any(|a| a == "email")
        && current.contains_key("email")
        && changes
            .get("email")
            .is_some_and(|new| current.get("email") != Some(new))
        && changes.get("email_verified").map(String::as_str) != Some("true");
    if held { changes.remove("email") } else { None }
}

impl User {
    /// Whether the user may hold a session or tokens right now.
    pub fn can_sign_in(&self) -> bool {
        self.enabled
            && matches!(
                self.status,
                UserStatus::Confirmed | UserStatus::ExternalProvider
            )
    }
}

/// Creates a user, checking the username, attributes and the pool's password policy.
pub async fn create(
    app: &crate::services::Services,
    pool_id: &str,
    username: &str,
    password: Option<&str>,
    status: UserStatus,
    attributes: BTreeMap<String, String>,
) -> Result<User, crate::error::AppError> {
    create_with_code(app, pool_id, username, password, status, attributes, None)
        .await
        .map(|(user, _)| user)
}

/// Creates a user with a password hash exported by another system (bcrypt, scrypt,
/// PBKDF2, argon2, Django's: [`password::check_imported`]), stored as it is: the user signs in
/// with the old password, and the hash becomes the pool's argon2id (with an SRP
/// verifier) at the first sign-in that proves it.
pub async fn create_with_hash(
    app: &crate::services::Services,
    pool_id: &str,
    username: &str,
    hash: &str,
    status: UserStatus,
    attributes: BTreeMap<String, String>,
) -> Result<User, crate::error::AppError> {
    let hash = password::check_imported(hash).map_err(crate::error::AppError::Invalid)?;
    let credential = Credential::ImportedHash(&hash);
    insert(app, pool_id, username, credential, status, attributes, None)
        .await
        .map(|(user, _)| user)
}

/// A user declared in a file (`cognate apply`): the `sub` kept from the system it was
/// exported from, when given, and an exported password hash or none.
pub async fn create_declared(
    app: &crate::services::Services,
    pool_id: &str,
    sub: Option<&str>,
    username: &str,
    hash: Option<&str>,
    status: UserStatus,
    attributes: BTreeMap<String, String>,
) -> Result<User, crate::error::AppError> {
    use crate::error::AppError;
    let hash = hash
        .map(password::check_imported)
        .transpose()
        .map_err(AppError::Invalid)?;
    let user_id = match sub {
        Some(sub) => uuid::Uuid::parse_str(sub)
            .map_err(|_| AppError::Invalid(format!("sub {sub:?} is not a UUID")))?
            .to_string(),
        None => uuid::Uuid::new_v4().to_string(),
    };
    let credential = hash
        .as_deref()
        .map_or(Credential::None, Credential::ImportedHash);
    insert_as(
        app, pool_id, &user_id, username, credential, status, attributes, None,
    )
    .await
    .map(|(user, _)| user)
}

/// What a new user signs in with.
enum Credential<'a> {
    None,
    Password(&'a str),
    ImportedHash(&'a str),
}

/// [`create`], storing a new code for `purpose` with the user in one transaction.
pub async fn create_with_code(
    app: &crate::services::Services,
    pool_id: &str,
    username: &str,
    password: Option<&str>,
    status: UserStatus,
    attributes: BTreeMap<String, String>,
    purpose: Option<codes::Purpose>,
) -> Result<(User, Option<codes::Issued>), crate::error::AppError> {
    let credential = password.map_or(Credential::None, Credential::Password);
    insert(
        app, pool_id, username, credential, status, attributes, purpose,
    )
    .await
}

async fn insert(
    app: &crate::services::Services,
    pool_id: &str,
    username: &str,
    credential: Credential<'_>,
    status: UserStatus,
    attributes: BTreeMap<String, String>,
    purpose: Option<codes::Purpose>,
) -> Result<(User, Option<codes::Issued>), crate::error::AppError> {
    let user_id = uuid::Uuid::new_v4().to_string();
    insert_as(
        app, pool_id, &user_id, username, credential, status, attributes, purpose,
    )
    .await
}

#[expect(
    clippy::too_many_arguments,
    reason = "the one place a user is made, whatever it is made from"
)]
async fn insert_as(
    app: &crate::services::Services,
    pool_id: &str,
    user_id: &str,
    username: &str,
    credential: Credential<'_>,
    status: UserStatus,
    attributes: BTreeMap<String, String>,
    purpose: Option<codes::Purpose>,
) -> Result<(User, Option<codes::Issued>), crate::error::AppError> {
    use crate::error::AppError;
    let rules = NewUserRules::load(app, pool_id).await?;
    rules.check(username, &attributes)?;
    let (password_hash, password) = match credential {
        Credential::Password(pw) => {
            rules
                .pool
                .settings
                .password_policy
                .check(pw, username)
                .map_err(AppError::Invalid)?;
            (Some(password::hash(pw).await?), Some(pw))
        }
        Credential::ImportedHash(hash) => (Some(hash.to_string()), None),
        Credential::None => (None, None),
    };
    let now = app.clock.now();
    let (issued, pending_code) = match purpose {
        Some(p) => {
            let (issued, pending) = codes::prepare(app.keys.digests(), user_id, p, now);
            (Some(issued), Some(pending))
        }
        None => (None, None),
    };
    let new = NewUser {
        username: username.to_string(),
        password_hash,
        status,
        attributes,
        pending_code,
    };
    app.store
        .insert_user(pool_id, user_id, &new, now)
        .await
        .map_err(|e| match e {
            crate::store::StoreError::Conflict => AppError::Conflict("a user with that username"),
            other => other.into(),
        })?;
    let user = app
        .store
        .user_by_id(pool_id, user_id)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    if let Some(pw) = password {
        credentials::store_srp_verifier(app, &user, pw).await?;
    }
    Ok((user, issued))
}

/// What a pool asks of a new user's name and attributes, loaded once and checked for
/// every user created (one, or a whole import file).
pub struct NewUserRules {
    pub pool: crate::pool::Pool,
    providers: Vec<String>,
    schema: schema::Schema,
}

impl NewUserRules {
    /// The rules of `pool_id`; `NotFound` when there is no such pool.
    pub async fn load(app: &Services, pool_id: &str) -> Result<Self, AppError> {
        let pool = app
            .store
            .pool_by_id(pool_id)
            .await?
            .ok_or(AppError::NotFound("user pool"))?;
        let providers = app.store.identity_providers(pool_id).await?;
        Ok(Self {
            pool,
            providers: providers.into_iter().map(|p| p.provider_name).collect(),
            schema: app.store.schema(pool_id).await?,
        })
    }

    /// Checks a new user's username and attributes (the password is the caller's).
    pub fn check(
        &self,
        username: &str,
        attributes: &BTreeMap<String, String>,
    ) -> Result<(), AppError> {
        validate_username(username).map_err(AppError::Invalid)?;
        // `<Provider>_…` names belong to that provider's users: a native account taking
        // one would block the real user's first sign-in (and take their pre-registration).
        if is_external_form(username, self.providers.iter().map(String::as_str)) {
            return Err(AppError::Invalid(
                "Username cannot be in the form of an identity provider's users (<ProviderName>_…)."
                    .into(),
            ));
        }
        self.check_attributes(attributes)
    }

    /// Checks a new user's attributes: well-formed, and custom ones declared in the
    /// schema, whoever creates the user.
    pub fn check_attributes(&self, attributes: &BTreeMap<String, String>) -> Result<(), AppError> {
        for (name, value) in attributes {
            validate_attribute(name, value).map_err(AppError::Invalid)?;
        }
        self.schema
            .check_writes(
                attributes,
                &BTreeMap::new(),
                schema::Writer::Admin,
                schema::When::Creating,
            )
            .map_err(|e| AppError::Invalid(e.to_string()))
    }
}

/// The username of an external user: `<ProviderName>_<subject>`.
pub fn external_username(provider_name: &str, subject: &str) -> String {
    format!("{provider_name}_{subject}")
}

/// Whether `username` has the external form of one of `providers` (compared as
/// usernames are, case-insensitively), which only that provider's users may have.
pub fn is_external_form<'a>(username: &str, mut providers: impl Iterator<Item = &'a str>) -> bool {
    let key = username_key(username);
    providers.any(|p| key.starts_with(&username_key(&external_username(p, ""))))
}

/// Links a provider identity to an existing user (Cognito's
/// `AdminLinkProviderForUser`): later sign-ins through it yield that user.
pub async fn link_identity(
    app: &Services,
    pool_id: &str,
    username: &str,
    provider_name: &str,
    subject: &str,
) -> Result<User, AppError> {
    let user = app
        .store
        .user_by_name(pool_id, username)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    if app
        .store
        .identity_provider(pool_id, provider_name)
        .await?
        .is_none()
    {
        return Err(AppError::NotFound("identity provider"));
    }
    app.store
        .insert_identity(
            pool_id,
            provider_name,
            subject,
            &user.user_id,
            app.clock.now(),
        )
        .await
        .map_err(|e| match e {
            crate::store::StoreError::Conflict => AppError::Conflict("a link for this identity"),
            other => other.into(),
        })?;
    Ok(user)
}

/// A plausible email address: one `@`, something on both sides, no spaces.
pub fn is_email(s: &str) -> bool {
    // A plain `local@domain` (RFC 5321 sizes): a dot-atom local part, a domain of
    // letter/digit/hyphen labels. No display names, lists, quoted or address literals,
    // so nothing that a mail header could read as more than one address.
    const LOCAL_SPECIALS: &str = "!#$%&'*+/=?^_`{|}~-.";
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    s.len() <= 254
        && (1..=64).contains(&local.len())
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || LOCAL_SPECIALS.contains(c))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && domain.split('.').count() >= 2
        && domain.split('.').all(label_ok)
}

/// The user as the database has it now.
pub async fn reload(app: &Services, user: &User) -> Result<User, AppError> {
    app.store
        .user_by_id(&user.pool_id, &user.user_id)
        .await?
        .ok_or(AppError::NotFound("user"))
}

/// Deletes a user (`AdminDeleteUser`, `DeleteUser`). Every sign-in is revoked first, so
/// the user's refresh tokens, access tokens and hosted-UI sessions end with it.
pub async fn delete(app: &Services, user: &User) -> Result<(), StoreError> {
    app.store
        .revoke_user_families(&user.user_id, app.clock.now())
        .await?;
    app.store.delete_user(&user.user_id).await
}

/// Removes attributes as `writer` may (`AdminDeleteUserAttributes`,
/// `DeleteUserAttributes`): names Cognito knows, removals the schema allows (a user's,
/// only of attributes their client may write), and never an attribute the pool
/// requires (nor `email` where it is the username). Nothing is removed unless all are.
pub async fn delete_attributes(
    app: &Services,
    pool: &Pool,
    user: &User,
    names: &[String],
    writer: Writer<'_>,
) -> Result<(), Refusal> {
    let schema = app.store.schema(&pool.pool_id).await?;
    for name in names {
        if !is_known_attribute(name) {
            return Err(Refusal::InvalidParameter(format!(
                "unknown attribute {name:?}"
            )));
        }
        schema.check_delete(name, writer)?;
        if pool.settings.required_attributes.contains(name)
            || (name == "email" && pool.settings.email_is_username())
        {
            return Err(Refusal::InvalidParameter(format!(
                "attribute {name} is required in this user pool and cannot be deleted"
            )));
        }
    }
    app.store
        .update_user_attributes(
            &pool.pool_id,
            &user.user_id,
            &BTreeMap::new(),
            names,
            app.clock.now(),
        )
        .await?;
    Ok(())
}
