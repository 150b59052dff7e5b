//! What an administrator may do to users, as rules over plain types: Cognito's
//! `Admin*` user actions and its user listings (`ListUsers`, `ListUsersInGroup`,
//! `AdminListGroupsForUser`). The Cognito API turns [`AdminError`] into its typed
//! exceptions.
//!
//! Invitations (`AdminCreateUser`) carry a temporary password, given or generated to
//! fit the pool's policy, and leave the user in `FORCE_CHANGE_PASSWORD`. Disabling a
//! user, deleting one and a global sign-out revoke every sign-in of the user.

use std::collections::BTreeMap;

use rand::Rng;
use rand::seq::SliceRandom;

use super::codes::Purpose;
use super::schema::{AttributeRefusal, When, Writer};
use super::{Refusal, code_mail};
use super::{User, UserStatus};
use crate::error::AppError;
use crate::groups::Group;
use crate::mail::{Custom, MessageKind, Outgoing};
pub use crate::model::users::{Match, UserFilter};
use crate::pool::{PasswordPolicy, Pool};
use crate::services::Services;
use crate::store::StoreError;
use crate::throttle;

/// How many provider identities may be linked to one user (Cognito's limit).
pub const MAX_IDENTITIES: i64 = 5;

/// One page of a listing; `next` is the key to continue after, if there may be more.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// Why an administrator's action did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// A pool, group or identity provider that does not exist.
    #[error("{0}")]
    NotFound(String),
    #[error("User does not exist.")]
    UserNotFound,
    #[error("User account already exists.")]
    UsernameExists,
    #[error("{0}")]
    InvalidPassword(String),
    /// The new password repeats one of the pool's `PasswordHistorySize` last ones.
    #[error("Password has previously been used.")]
    PasswordReused,
    #[error("{0}")]
    InvalidParameter(String),
    #[error("{0}")]
    NotAuthorized(String),
    #[error("{0}")]
    UnsupportedUserState(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("The message could not be delivered.")]
    DeliveryFailed,
    #[error(transparent)]
    Attribute(AttributeRefusal),
    #[error(transparent)]
    Internal(AppError),
}

impl From<AppError> for AdminError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound("user") => AdminError::UserNotFound,
            AppError::NotFound(what) => AdminError::NotFound(format!("{what} not found")),
            AppError::Invalid(why) => AdminError::InvalidParameter(why),
            other => AdminError::Internal(other),
        }
    }
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        AdminError::Internal(e.into())
    }
}

impl From<anyhow::Error> for AdminError {
    fn from(e: anyhow::Error) -> Self {
        AdminError::Internal(e.into())
    }
}

impl From<AttributeRefusal> for AdminError {
    fn from(e: AttributeRefusal) -> Self {
        AdminError::Attribute(e)
    }
}

impl From<Refusal> for AdminError {
    fn from(e: Refusal) -> Self {
        match e {
            Refusal::InvalidParameter(why) => AdminError::InvalidParameter(why),
            Refusal::Attribute(refusal) => refusal.into(),
            Refusal::InvalidPassword(why) => AdminError::InvalidPassword(why),
            Refusal::PasswordReused => AdminError::PasswordReused,
            Refusal::MailFailed => AdminError::DeliveryFailed,
            Refusal::MessageLimit(_) => AdminError::LimitExceeded(
                "Attempt limit exceeded, please try after some time.".into(),
            ),
            Refusal::UsernameExists => AdminError::UsernameExists,
            Refusal::Internal(e) => AdminError::Internal(e),
            other => AdminError::Internal(anyhow::anyhow!("unexpected refusal: {other}").into()),
        }
    }
}

/// The pool, or `NotFound` in Cognito's words.
pub async fn pool(app: &Services, pool_id: &str) -> Result<Pool, AdminError> {
    app.store
        .pool_by_id(pool_id)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("User pool {pool_id} does not exist.")))
}

/// A user of the pool by username (case-insensitive).
pub async fn user(app: &Services, pool: &Pool, username: &str) -> Result<User, AdminError> {
    app.store
        .user_by_name(&pool.pool_id, username)
        .await?
        .ok_or(AdminError::UserNotFound)
}

async fn group(app: &Services, pool: &Pool, name: &str) -> Result<Group, AdminError> {
    app.store
        .group_by_name(&pool.pool_id, name)
        .await?
        .ok_or_else(|| AdminError::NotFound("Group not found.".into()))
}

/// Checks attributes an administrator sets: known names, Cognito's limits, and the
/// formats of `email` and `phone_number`.
pub fn validate_attributes(attributes: &BTreeMap<String, String>) -> Result<(), AdminError> {
    for (name, value) in attributes {
        super::validate_attribute(name, value).map_err(AdminError::InvalidParameter)?;
    }
    Ok(())
}

/// A password that meets `policy`: at least 16 characters (more if the policy asks),
/// always with an upper-case letter, a lower-case letter, a digit and a symbol.
pub fn generate_password(policy: &PasswordPolicy) -> String {
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
    const DIGITS: &[u8] = b"23456789";
    // Symbols that survive mail, URLs and shells unquoted in most places.
    const SYMBOLS: &[u8] = b"-_.!#%+=@^~";
    let mut rng = rand::rngs::OsRng;
    let len = policy.minimum_length.max(16);
    let mut pick = |set: &[u8]| set[rng.gen_range(0..set.len())] as char;
    let mut chars = vec![pick(UPPER), pick(LOWER), pick(DIGITS), pick(SYMBOLS)];
    let all = [UPPER, LOWER, DIGITS, SYMBOLS].concat();
    while chars.len() < len {
        chars.push(pick(&all));
    }
    chars.shuffle(&mut rng);
    chars.into_iter().collect()
}

/// What `AdminCreateUser` asks for.
#[derive(Debug, Default)]
pub struct Invitation {
    pub username: String,
    pub attributes: BTreeMap<String, String>,
    pub temporary_password: Option<String>,
    /// Mail the temporary password to the user's email (else `SUPPRESS`).
    pub send: bool,
    /// For the pre sign-up trigger.
    pub validation_data: Option<BTreeMap<String, String>>,
    pub client_metadata: Option<BTreeMap<String, String>>,
}

/// Creates a user with a temporary password (`FORCE_CHANGE_PASSWORD`) and, unless
/// suppressed, mails it, raising `CustomMessage_AdminCreateUser` first. If the message
/// cannot be sent, or the trigger fails, the user is removed again.
pub async fn create_user(
    app: &Services,
    pool: &Pool,
    mut invite: Invitation,
) -> Result<User, AdminError> {
    if pool.settings.email_is_username() {
        // The email address is the username, as the hosted sign-up makes it.
        let email = invite.username.to_lowercase();
        if !super::is_email(&email) {
            return Err(AdminError::InvalidParameter(
                "Username should be an email.".into(),
            ));
        }
        invite.attributes.insert("email".into(), email.clone());
        invite.username = email;
    }
    validate_attributes(&invite.attributes)?;
    if invite.send && !invite.attributes.contains_key("email") {
        return Err(AdminError::InvalidParameter(
            "The user has no email address to send the temporary password to; \
             give an email attribute or MessageAction SUPPRESS."
                .into(),
        ));
    }
    let temporary = temporary_password(pool, &invite.username, invite.temporary_password)?;
    // PreSignUp_AdminCreateUser: before anything is created. The user is created
    // confirmed-by-invitation anyway (`FORCE_CHANGE_PASSWORD`), so only the
    // verification flags apply.
    let decided = crate::triggers::events::pre_sign_up(
        app,
        &pool.pool_id,
        &pool.settings,
        "PreSignUp_AdminCreateUser",
        None,
        &invite.username,
        &invite.attributes,
        invite.validation_data.as_ref(),
        invite.client_metadata.as_ref(),
    )
    .await
    .map_err(AppError::from)?;
    decided.apply_verification(&mut invite.attributes);
    let user = super::create(
        app,
        &pool.pool_id,
        &invite.username,
        Some(&temporary),
        UserStatus::ForceChangePassword,
        invite.attributes,
    )
    .await
    .map_err(|e| match e {
        AppError::Conflict(_) => AdminError::UsernameExists,
        other => other.into(),
    })?;
    if invite.send
        && let Err(e) =
            send_temporary_password(app, &user, &temporary, invite.client_metadata.as_ref()).await
    {
        app.store.delete_user(&user.user_id).await?;
        return Err(e);
    }
    tracing::info!(pool_id = %pool.pool_id, user_id = %user.user_id, "user created by an administrator");
    Ok(user)
}

/// `AdminCreateUser` with `RESEND`: a new temporary password for a user who has not
/// chosen one yet, mailed again. `CustomMessage_AdminCreateUser` is raised before the
/// password changes, so a failing trigger leaves the previous one working.
pub async fn resend_invitation(
    app: &Services,
    pool: &Pool,
    username: &str,
    given_password: Option<String>,
    client_metadata: Option<&BTreeMap<String, String>>,
) -> Result<User, AdminError> {
    let user = user(app, pool, username).await?;
    if user.status != UserStatus::ForceChangePassword {
        return Err(AdminError::UnsupportedUserState(format!(
            "Resend not possible. {} status is not FORCE_CHANGE_PASSWORD.",
            user.username
        )));
    }
    if !user.attributes.contains_key("email") {
        return Err(AdminError::InvalidParameter(
            "The user has no email address to send the temporary password to.".into(),
        ));
    }
    let temporary = temporary_password(pool, &user.username, given_password)?;
    let custom = invitation_message(app, &user, client_metadata).await?;
    super::credentials::set_password(app, &user, &temporary, UserStatus::ForceChangePassword)
        .await?;
    mail_temporary_password(app, &user, &temporary, custom.as_ref()).await?;
    reload(app, &user).await
}

/// The given temporary password if it meets the policy, else a generated one.
fn temporary_password(
    pool: &Pool,
    username: &str,
    given: Option<String>,
) -> Result<String, AdminError> {
    let policy = &pool.settings.password_policy;
    match given {
        Some(pw) => {
            policy
                .check(&pw, username)
                .map_err(AdminError::InvalidPassword)?;
            Ok(pw)
        }
        None => loop {
            let pw = generate_password(policy);
            if policy.check(&pw, username).is_ok() {
                break Ok(pw);
            }
        },
    }
}

/// Raises `CustomMessage_AdminCreateUser` for an invitation to `user`.
async fn invitation_message(
    app: &Services,
    user: &User,
    client_metadata: Option<&BTreeMap<String, String>>,
) -> Result<Option<Custom>, AdminError> {
    let asker = code_mail::Asker::new("CustomMessage_AdminCreateUser", None, client_metadata);
    Ok(code_mail::custom_message(app, user, asker, false).await?)
}

/// Mails an invitation, raising the custom message trigger first.
async fn send_temporary_password(
    app: &Services,
    user: &User,
    temporary: &str,
    client_metadata: Option<&BTreeMap<String, String>>,
) -> Result<(), AdminError> {
    let custom = invitation_message(app, user, client_metadata).await?;
    mail_temporary_password(app, user, temporary, custom.as_ref()).await
}

async fn mail_temporary_password(
    app: &Services,
    user: &User,
    temporary: &str,
    custom: Option<&Custom>,
) -> Result<(), AdminError> {
    let Some(email) = user.attributes.get("email") else {
        return Err(AdminError::InvalidParameter(
            "the user has no email address".into(),
        ));
    };
    let message = Outgoing {
        pool_id: &user.pool_id,
        to: email,
        kind: MessageKind::TemporaryPassword,
        username: &user.username,
        code: temporary,
        link: None,
    };
    let sent = app
        .mail
        .send_custom(&app.store, &message, custom, app.clock.now())
        .await;
    app.metrics.mail(message.kind.as_str(), sent.is_ok());
    sent.map_err(|e| {
            tracing::warn!(pool_id = %user.pool_id, user_id = %user.user_id, error = %e, "sending a temporary password failed");
            AdminError::DeliveryFailed
        })
}

async fn reload(app: &Services, user: &User) -> Result<User, AdminError> {
    app.store
        .user_by_id(&user.pool_id, &user.user_id)
        .await?
        .ok_or(AdminError::UserNotFound)
}

/// Deletes a user, revoking its sign-ins first.
pub async fn delete_user(app: &Services, pool: &Pool, username: &str) -> Result<(), AdminError> {
    let user = user(app, pool, username).await?;
    super::delete(app, &user).await?;
    tracing::info!(pool_id = %pool.pool_id, user_id = %user.user_id, "user deleted by an administrator");
    Ok(())
}

/// Sets attributes. A new `email` or `phone_number` is unverified unless the same
/// request says otherwise (Cognito sends no code here; see `GetUserAttributeVerificationCode`).
/// In a pool that requires verification before an update, a new `email` is held until
/// the user verifies it (a code goes to it) unless the request also sets
/// `email_verified` to `true`; `CustomMessage_UpdateUserAttribute` is raised for that
/// code (with `client_metadata`) before anything is written, so a failing trigger
/// changes nothing.
pub async fn update_attributes(
    app: &Services,
    pool: &Pool,
    username: &str,
    mut attributes: BTreeMap<String, String>,
    client_metadata: Option<&BTreeMap<String, String>>,
) -> Result<(), AdminError> {
    let user = user(app, pool, username).await?;
    validate_attributes(&attributes)?;
    app.store.schema(&pool.pool_id).await?.check_writes(
        &attributes,
        &user.attributes,
        Writer::Admin,
        When::Updating,
    )?;
    let held = super::hold_for_verification(pool, &user.attributes, &mut attributes);
    super::unverify_changed(&user.attributes, &mut attributes);
    let custom = match &held {
        Some(_) => {
            let mut after = user.clone();
            after
                .attributes
                .extend(attributes.iter().map(|(k, v)| (k.clone(), v.clone())));
            let asker =
                code_mail::Asker::new("CustomMessage_UpdateUserAttribute", None, client_metadata);
            code_mail::custom_message(app, &after, asker, false).await?
        }
        None => None,
    };
    let now = app.clock.now();
    app.store
        .update_user_attributes(&pool.pool_id, &user.user_id, &attributes, &[], now)
        .await?;
    if let Some(address) = held {
        // Held until the user proves it, as a user's own change is: a code goes to it.
        app.store
            .set_pending_attribute(&user.user_id, "email", &address, now)
            .await?;
        let sent = async {
            code_mail::count_message(app, &user).await?;
            code_mail::issue_and_mail(
                app,
                &user,
                Purpose::VerifyEmail,
                &address,
                None,
                custom.as_ref(),
            )
            .await
        };
        if let Err(e) = sent.await {
            tracing::warn!(pool_id = %pool.pool_id, user_id = %user.user_id, error = %e, "no verification code for a pending address");
        }
    }
    Ok(())
}

/// Removes attributes; a pool's required attributes stay ([`super::delete_attributes`]).
pub async fn delete_attributes(
    app: &Services,
    pool: &Pool,
    username: &str,
    names: &[String],
) -> Result<(), AdminError> {
    let user = user(app, pool, username).await?;
    super::delete_attributes(app, pool, &user, names, Writer::Admin).await?;
    Ok(())
}

/// Sets a user's password: permanent (`CONFIRMED`) or temporary
/// (`FORCE_CHANGE_PASSWORD`). Every sign-in and pending challenge begun with the old
/// password ends. Failed sign-ins counted against the username are forgiven, since an
/// administrator vouched for the new password.
pub async fn set_password(
    app: &Services,
    pool: &Pool,
    username: &str,
    new_password: &str,
    permanent: bool,
) -> Result<(), AdminError> {
    let user = user(app, pool, username).await?;
    if user.status == UserStatus::ExternalProvider {
        return Err(AdminError::InvalidParameter(
            "A user of an external identity provider has no password.".into(),
        ));
    }
    pool.settings
        .password_policy
        .check(new_password, &user.username)
        .map_err(AdminError::InvalidPassword)?;
    // A permanent password is the user's own from now on: it must not repeat a recent
    // one (Cognito's `PasswordHistorySize`). A temporary one is replaced at first use.
    if permanent && super::credentials::is_reused(app, pool, &user, new_password).await? {
        return Err(AdminError::PasswordReused);
    }
    let status = if permanent {
        UserStatus::Confirmed
    } else {
        UserStatus::ForceChangePassword
    };
    // One place sets passwords: the argon2 hash and the SRP verifier together.
    super::credentials::set_password(app, &user, new_password, status).await?;
    throttle::record_success(
        &app.store,
        &throttle::keys(&pool.pool_id, &user.username, None),
    )
    .await?;
    Ok(())
}

/// Requires a new password: mails a reset code, then sets `RESET_REQUIRED` (so a
/// message that cannot be sent changes nothing). The old password no longer signs in,
/// and every sign-in and pending challenge begun with it ends.
///
/// The code's message raises `CustomMessage_ForgotPassword` with `client_metadata`, as
/// Cognito's `AdminResetUserPassword` does.
pub async fn reset_password(
    app: &Services,
    pool: &Pool,
    username: &str,
    client_metadata: Option<&BTreeMap<String, String>>,
) -> Result<(), AdminError> {
    let user = user(app, pool, username).await?;
    if !matches!(
        user.status,
        UserStatus::Confirmed | UserStatus::ResetRequired
    ) {
        return Err(AdminError::NotAuthorized(
            "User password cannot be reset in the current state.".into(),
        ));
    }
    if !user.attributes.contains_key("email") {
        return Err(AdminError::InvalidParameter(
            "Cannot reset password for the user as there is no registered email.".into(),
        ));
    }
    let asker = code_mail::Asker::new("CustomMessage_ForgotPassword", None, client_metadata);
    code_mail::send_code(app, &user, Purpose::Reset, None, asker).await?;
    app.store
        .require_password_reset(&user.user_id, app.clock.now())
        .await?;
    Ok(())
}

/// Confirms an unconfirmed sign-up without its code (the email stays as verified as
/// it was), and raises `PostConfirmation_ConfirmSignUp` as the user's own
/// confirmation does.
pub async fn confirm_sign_up(
    app: &Services,
    pool: &Pool,
    username: &str,
    client_metadata: Option<&BTreeMap<String, String>>,
) -> Result<(), AdminError> {
    let user = user(app, pool, username).await?;
    if user.status != UserStatus::Unconfirmed {
        return Err(AdminError::NotAuthorized(format!(
            "User cannot be confirmed. Current status is {}",
            user.status.as_str()
        )));
    }
    app.store
        .update_user_status(&user.user_id, UserStatus::Confirmed, app.clock.now())
        .await?;
    let user = reload(app, &user).await?;
    crate::triggers::events::post_confirmation(
        app,
        "PostConfirmation_ConfirmSignUp",
        None,
        &user,
        client_metadata,
    )
    .await?;
    Ok(())
}

/// Enables or disables a user; disabling also revokes every sign-in, so refresh
/// tokens stop working at once rather than at their expiry.
pub async fn set_enabled(
    app: &Services,
    pool: &Pool,
    username: &str,
    enabled: bool,
) -> Result<(), AdminError> {
    let user = user(app, pool, username).await?;
    let now = app.clock.now();
    app.store
        .update_user_enabled(&user.user_id, enabled, now)
        .await?;
    if !enabled {
        app.store.revoke_user_families(&user.user_id, now).await?;
    }
    Ok(())
}

/// Revokes every sign-in of a user.
pub async fn global_sign_out(
    app: &Services,
    pool: &Pool,
    username: &str,
) -> Result<(), AdminError> {
    let user = user(app, pool, username).await?;
    app.store
        .revoke_user_families(&user.user_id, app.clock.now())
        .await?;
    Ok(())
}

/// Adds or removes a group membership.
pub async fn set_membership(
    app: &Services,
    pool: &Pool,
    username: &str,
    group_name: &str,
    member: bool,
) -> Result<(), AdminError> {
    let user = user(app, pool, username).await?;
    group(app, pool, group_name).await?;
    if member {
        app.store
            .insert_membership(&pool.pool_id, group_name, &user.user_id)
            .await?;
    } else {
        app.store
            .delete_membership(&pool.pool_id, group_name, &user.user_id)
            .await?;
    }
    Ok(())
}

/// Links a provider identity to a user: later sign-ins through it yield that user.
pub async fn link_provider(
    app: &Services,
    pool: &Pool,
    username: &str,
    provider_name: &str,
    subject: &str,
) -> Result<(), AdminError> {
    let user = user(app, pool, username).await?;
    if app.store.identity_count(&user.user_id).await? >= MAX_IDENTITIES {
        return Err(AdminError::LimitExceeded(format!(
            "A user can be linked to at most {MAX_IDENTITIES} identities."
        )));
    }
    super::link_identity(app, &pool.pool_id, &user.username, provider_name, subject)
        .await
        .map_err(|e| match e {
            AppError::NotFound("identity provider") => {
                AdminError::NotFound(format!("Identity provider {provider_name} does not exist."))
            }
            AppError::Conflict(_) => AdminError::InvalidParameter(
                "The source identity is already linked to a user (merging is not supported)."
                    .into(),
            ),
            other => other.into(),
        })?;
    Ok(())
}

/// Unlinks a provider identity from its user. When that user is the external user
/// made for this very identity (`<Provider>_<subject>`), it is deleted too: nothing can
/// sign in as it any more, and its username would keep the identity's next sign-in
/// from creating the new user Cognito promises.
pub async fn unlink_provider(
    app: &Services,
    pool: &Pool,
    provider_name: &str,
    subject: &str,
) -> Result<(), AdminError> {
    let user_id = app
        .store
        .delete_identity(&pool.pool_id, provider_name, subject)
        .await?
        .ok_or(AdminError::UserNotFound)?;
    let Some(user) = app.store.user_by_id(&pool.pool_id, &user_id).await? else {
        return Ok(());
    };
    let own_name = format!("{provider_name}_{subject}");
    if user.status == UserStatus::ExternalProvider
        && user.username.to_lowercase() == own_name.to_lowercase()
    {
        super::delete(app, &user).await?;
        tracing::info!(pool_id = %pool.pool_id, user_id = %user.user_id, provider = %provider_name, "external user removed with its identity");
    }
    Ok(())
}

/// A page of a pool's users after the key `after`, optionally filtered.
pub async fn list_users(
    app: &Services,
    pool: &Pool,
    filter: Option<&UserFilter>,
    after: Option<&str>,
    limit: usize,
) -> Result<Page<User>, AdminError> {
    let rows = app
        .store
        .users_page(&pool.pool_id, filter, after.unwrap_or(""), fetch(limit))
        .await?;
    Ok(page(rows, limit, |u| super::username_key(&u.username)))
}

/// A page of a group's members.
pub async fn list_users_in_group(
    app: &Services,
    pool: &Pool,
    group_name: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Page<User>, AdminError> {
    group(app, pool, group_name).await?;
    let rows = app
        .store
        .users_in_group_page(&pool.pool_id, group_name, after.unwrap_or(""), fetch(limit))
        .await?;
    Ok(page(rows, limit, |u| super::username_key(&u.username)))
}

/// A page of a user's groups, by name.
pub async fn groups_of_user(
    app: &Services,
    pool: &Pool,
    username: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Page<Group>, AdminError> {
    let user = user(app, pool, username).await?;
    let rows = app
        .store
        .groups_of_user_page(&user.user_id, after.unwrap_or(""), fetch(limit))
        .await?;
    Ok(page(rows, limit, |g| g.group_name.clone()))
}

/// One more row than the page holds tells whether another page follows, so the last
/// page carries no key (no empty page at the end).
fn fetch(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1
}

fn page<T>(mut rows: Vec<T>, limit: usize, key: impl Fn(&T) -> String) -> Page<T> {
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = if more { rows.last().map(key) } else { None };
    Page { items: rows, next }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_meet_strict_and_long_policies() {
        for minimum_length in [6, 8, 16, 40, 99] {
            let policy = PasswordPolicy {
                minimum_length,
                ..PasswordPolicy::default()
            };
            for _ in 0..50 {
                let pw = generate_password(&policy);
                assert!(pw.chars().count() >= minimum_length.max(16), "{pw}");
                assert!(policy.check(&pw, "someone").is_ok(), "{pw}");
            }
        }
    }

    #[test]
    fn generated_passwords_differ() {
        let policy = PasswordPolicy::default();
        assert_ne!(generate_password(&policy), generate_password(&policy));
    }

    #[test]
    fn phone_numbers_must_be_e164() {
        assert!(crate::users::is_phone_number("+14325551212"));
        assert!(!crate::users::is_phone_number("14325551212"));
        assert!(!crate::users::is_phone_number("+1 432 555"));
        assert!(!crate::users::is_phone_number("+0123"));
        assert!(!crate::users::is_phone_number("+1234567890123456"));
    }

    #[test]
    fn a_page_has_a_key_only_when_more_rows_follow() {
        let full = page(vec![1, 2, 3], 2, |n| n.to_string());
        assert_eq!((full.items, full.next), (vec![1, 2], Some("2".to_string())));
        let last = page(vec![1, 2], 2, |n| n.to_string());
        assert_eq!((last.items, last.next), (vec![1, 2], None));
    }

    #[test]
    fn email_attributes_are_checked() {
        let attrs = BTreeMap::from([("email".to_string(), "not-an-email".to_string())]);
        assert!(matches!(
            validate_attributes(&attrs),
            Err(AdminError::InvalidParameter(_))
        ));
    }
}
