//! The account lifecycle as rules, shared by the hosted pages and the Cognito API:
//! sign-in (with throttling), sign-up, confirmation by code or link, password reset,
//! and the new password an administrator-created user must choose. Each surface turns
//! [`Refusal`] into its own wire format.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::codes::{self, CodeError, Purpose};
use super::schema::{AttributeRefusal, When, Writer};
use super::{User, UserStatus, password};
use crate::error::AppError;
use crate::mail::{MessageKind, Outgoing};
use crate::pool::Pool;
use crate::services::Services;
use crate::throttle;

/// Why an account operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("incorrect username or password")]
    BadCredentials,
    #[error("too many failed attempts; retry in {0} s")]
    Throttled(i64),
    #[error("user is not confirmed")]
    NotConfirmed,
    #[error("user is disabled")]
    Disabled,
    #[error("the password must be reset")]
    ResetRequired,
    #[error("an account with the given username already exists")]
    UsernameExists,
    #[error("{0}")]
    InvalidPassword(String),
    #[error("{0}")]
    InvalidParameter(String),
    /// An attribute the writer may not set (undeclared, immutable, not the client's).
    #[error(transparent)]
    Attribute(#[from] AttributeRefusal),
    #[error("invalid verification code")]
    CodeMismatch,
    #[error("the code has expired")]
    ExpiredCode,
    #[error("too many wrong codes")]
    TooManyAttempts,
    #[error("too many messages to this user; retry in {0} s")]
    MessageLimit(i64),
    #[error("the message could not be sent")]
    MailFailed,
    #[error(transparent)]
    Internal(#[from] AppError),
}

impl From<crate::store::StoreError> for Refusal {
    fn from(e: crate::store::StoreError) -> Self {
        Refusal::Internal(e.into())
    }
}

impl From<CodeError> for Refusal {
    fn from(e: CodeError) -> Self {
        match e {
            CodeError::Mismatch => Refusal::CodeMismatch,
            CodeError::Expired => Refusal::ExpiredCode,
            CodeError::TooManyAttempts => Refusal::TooManyAttempts,
        }
    }
}

/// A password sign-in's outcome when the password was right.
pub enum SignedIn {
    /// The user may have tokens.
    Ready(User),
    /// An administrator-created user must choose a password first.
    NewPasswordRequired(User),
}

/// Checks a username and password, throttling failures per username and address.
/// Unknown users and wrong passwords are indistinguishable, in message and in time.
/// The user comes with the credential version read with its password hash: whatever
/// the sign-in leads to (tokens, a session, a challenge) lives only while that version
/// is current, so a reset committing meanwhile ends it.
pub async fn sign_in(
    app: &Services,
    pool_id: &str,
    username: &str,
    password: &str,
    addr: Option<IpAddr>,
) -> Result<SignedIn, Refusal> {
    let keys = throttle::keys(pool_id, username, addr);
    check_throttle(app, &keys).await?;
    // No password is that long: refuse before spending a hash on it.
    if password.chars().count() > crate::pool::MAX_PASSWORD_LENGTH {
        return Err(failed(app, &keys).await);
    }
    let user = app.store.user_by_name(pool_id, username).await?;
    let hash = user.as_ref().and_then(|u| u.password_hash.as_deref());
    let verified = password::verify(hash, password).await;
    match user {
        Some(user) if verified => admit(app, &keys, user).await,
        _ => Err(failed(app, &keys).await),
    }
}

/// Refuses while any of `keys` is blocked.
pub async fn check_throttle(app: &Services, keys: &[String]) -> Result<(), Refusal> {
    match throttle::blocked_for(&app.store, keys, app.clock.now()).await? {
        Some(wait) => Err(Refusal::Throttled(wait)),
        None => Ok(()),
    }
}

/// Counts a failed proof of the password; the refusal to give.
pub async fn failed(app: &Services, keys: &[String]) -> Refusal {
    match throttle::record_failure(&app.store, keys, app.clock.now()).await {
        Ok(()) => Refusal::BadCredentials,
        Err(e) => e.into(),
    }
}

/// After the password was proven (by hash or by SRP): clears the username's failures
/// and decides by the account's state. Naming that state leaks nothing any more.
pub async fn admit(app: &Services, keys: &[String], user: User) -> Result<SignedIn, Refusal> {
    throttle::record_success(&app.store, keys).await?;
    if !user.enabled {
        return Err(Refusal::Disabled);
    }
    match user.status {
        UserStatus::Confirmed => Ok(SignedIn::Ready(user)),
        UserStatus::ForceChangePassword => Ok(SignedIn::NewPasswordRequired(user)),
        UserStatus::Unconfirmed => Err(Refusal::NotConfirmed),
        UserStatus::ResetRequired => Err(Refusal::ResetRequired),
        UserStatus::ExternalProvider => Err(Refusal::BadCredentials),
    }
}

/// The outcome of a sign-up.
pub enum SignedUp {
    /// A new unconfirmed user, sent a code.
    Created(User),
    /// The username was taken; the caller is not told (`PreventUserExistenceErrors`).
    Hidden,
}

/// Signs a user up: checks the pool's rules, creates the user unconfirmed and sends
/// a confirmation code. With `hide_existing` (the hosted page, following the pool's
/// `PreventUserExistenceErrors`) a taken username looks like a success; the API's
/// `SignUp` reports it, as Cognito's does. Sends (and a one-click link when `link_template` is given: its
/// `{token}` is replaced by the link's token). If the message cannot be sent the user is removed again, so the
/// person can simply retry.
#[expect(
    clippy::too_many_arguments,
    reason = "the shared sign-up operation of issue 14 takes these as one request"
)]
pub async fn sign_up(
    app: &Services,
    pool: &Pool,
    client: &crate::clients::AppClient,
    username: &str,
    password: &str,
    attributes: BTreeMap<String, String>,
    link_template: Option<&str>,
    hide_existing: bool,
) -> Result<SignedUp, Refusal> {
    if !pool.settings.allow_self_signup {
        return Err(Refusal::InvalidParameter(
            "sign-up is not allowed in this user pool".into(),
        ));
    }
    super::validate_username(username).map_err(Refusal::InvalidParameter)?;
    // What a person signing up may set: declared attributes their client may write,
    // never a verification flag (an address is verified by its code, not by a claim).
    let writer = Writer::User {
        writable: &client.write_attributes,
    };
    app.store.schema(&pool.pool_id).await?.check_writes(
        &attributes,
        &BTreeMap::new(),
        writer,
        When::Creating,
    )?;
    for required in &pool.settings.required_attributes {
        if attributes.get(required).is_none_or(|v| v.trim().is_empty()) {
            return Err(Refusal::InvalidParameter(format!(
                "attribute {required} is required"
            )));
        }
    }
    let Some(email) = attributes.get("email").cloned() else {
        return Err(Refusal::InvalidParameter(
            "an email address is required to confirm the account".into(),
        ));
    };
    if !is_email(&email) {
        return Err(Refusal::InvalidParameter(
            "the email address is not valid".into(),
        ));
    }
    pool.settings
        .password_policy
        .check(password, username)
        .map_err(Refusal::InvalidPassword)?;
    if app
        .store
        .user_by_name(&pool.pool_id, username)
        .await?
        .is_some()
    {
        if hide_existing {
            // Spend what creating would have spent, so timing does not tell either.
            password::hash(password).await.map_err(AppError::from)?;
            return Ok(SignedUp::Hidden);
        }
        return Err(Refusal::UsernameExists);
    }
    let (user, issued) = match super::create_with_code(
        app,
        &pool.pool_id,
        username,
        Some(password),
        UserStatus::Unconfirmed,
        attributes,
        Some(Purpose::SignUp),
    )
    .await
    {
        Ok((user, Some(issued))) => (user, issued),
        Ok((_, None)) => unreachable!("a code was asked for"),
        Err(AppError::Conflict(_)) if pool.settings.prevent_user_existence_errors => {
            return Ok(SignedUp::Hidden);
        }
        Err(AppError::Conflict(_)) => return Err(Refusal::UsernameExists),
        Err(AppError::Invalid(why)) => return Err(Refusal::InvalidParameter(why)),
        Err(e) => return Err(e.into()),
    };
    count_message(app, &user).await?;
    if let Err(e) = mail_code(app, &user, Purpose::SignUp, &email, &issued, link_template).await {
        app.store.delete_user(&user.user_id).await?;
        return Err(e);
    }
    Ok(SignedUp::Created(user))
}

/// Sets attributes of a signed-in user through their app client (`UpdateUserAttributes`):
/// only declared attributes the client may write, immutable ones never changed, and a
/// changed address no longer verified. One transaction writes them all. A changed
/// email address is then sent a verification code, as Cognito sends one; the address
/// it went to is returned (`None` if none went: the change stands, and
/// `GetUserAttributeVerificationCode` asks again).
///
/// The new address is in force at once, unverified: it cannot receive a password
/// reset until verified. (Cognito's `AttributesRequireVerificationBeforeUpdate`, which
/// keeps the old address until then, is a pool setting cognate does not have yet.)
pub async fn update_own_attributes(
    app: &Services,
    user: &User,
    client: &crate::clients::AppClient,
    mut changes: BTreeMap<String, String>,
) -> Result<Option<String>, Refusal> {
    for (name, value) in &changes {
        super::validate_attribute(name, value).map_err(Refusal::InvalidParameter)?;
    }
    let writer = Writer::User {
        writable: &client.write_attributes,
    };
    app.store.schema(&user.pool_id).await?.check_writes(
        &changes,
        &user.attributes,
        writer,
        When::Updating,
    )?;
    super::unverify_changed(&user.attributes, &mut changes);
    app.store
        .update_user_attributes(&user.pool_id, &user.user_id, &changes, &[], app.clock.now())
        .await?;
    if changes.get("email_verified").map(String::as_str) != Some("false") {
        return Ok(None);
    }
    let user = reload(app, user).await?;
    match send_attribute_code(app, &user, "email").await {
        Ok(to) => Ok(Some(to)),
        Err(refusal) => {
            tracing::warn!(pool_id = %user.pool_id, user_id = %user.user_id, error = %refusal, "no verification code for a changed address");
            Ok(None)
        }
    }
}

/// Mails a code verifying the user's current address `name`
/// (`GetUserAttributeVerificationCode`); the address it went to.
pub async fn send_attribute_code(
    app: &Services,
    user: &User,
    name: &str,
) -> Result<String, Refusal> {
    verifiable(name)?;
    send_code(app, user, Purpose::VerifyEmail, None).await?;
    Ok(user.attributes.get("email").cloned().unwrap_or_default())
}

/// Only `email` is verified by code: cognate sends no SMS.
fn verifiable(name: &str) -> Result<(), Refusal> {
    if name == "email" {
        return Ok(());
    }
    Err(Refusal::InvalidParameter(format!(
        "Attribute {name} cannot be verified: only email is verified by code."
    )))
}

/// Verifies the user's email address with the code sent to it (`VerifyUserAttribute`).
/// Only `email` has codes; the code counts attempts as every code does, and verifies
/// the address only if it is still the one the code went to.
pub async fn verify_attribute(
    app: &Services,
    user: &User,
    name: &str,
    code: &str,
) -> Result<(), Refusal> {
    verifiable(name)?;
    let now = app.clock.now();
    let digest = codes::check(
        &app.store,
        app.keys.digests(),
        &user.user_id,
        Purpose::VerifyEmail,
        code,
        now,
    )
    .await??;
    if !app
        .store
        .verify_email(
            &user.pool_id,
            &user.user_id,
            Purpose::VerifyEmail.as_str(),
            &digest,
            now,
        )
        .await?
    {
        // Used concurrently, or the address changed since the code went out.
        return Err(Refusal::CodeMismatch);
    }
    Ok(())
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

/// Cognito's refusal of a reset for an account without a verified address.
pub const NO_VERIFIED_ADDRESS: &str =
    "Cannot reset password for the user as there is no registered/verified email or phone_number";

/// Where a code for `purpose` may go: a password reset only to a verified address
/// (an unverified one may be anybody's, set with a stolen token), the others to the
/// address they verify.
pub fn code_destination(user: &User, purpose: Purpose) -> Option<&str> {
    let email = user.attributes.get("email").map(String::as_str);
    match purpose {
        Purpose::Reset => email
            .filter(|_| user.attributes.get("email_verified").map(String::as_str) == Some("true")),
        Purpose::SignUp | Purpose::VerifyEmail => email,
    }
}

/// Issues a code for `purpose` and mails it to the user's email address (for a reset,
/// only a verified one).
pub async fn send_code(
    app: &Services,
    user: &User,
    purpose: Purpose,
    link_template: Option<&str>,
) -> Result<(), Refusal> {
    let Some(to) = code_destination(user, purpose) else {
        return Err(Refusal::InvalidParameter(match purpose {
            Purpose::Reset => NO_VERIFIED_ADDRESS.into(),
            _ => "the user has no email address".into(),
        }));
    };
    count_message(app, user).await?;
    let issued = codes::issue(
        &app.store,
        app.keys.digests(),
        &user.user_id,
        purpose,
        to,
        app.clock.now(),
    )
    .await?;
    mail_code(app, user, purpose, to, &issued, link_template).await
}

/// Counts a code message against the user's cap, before its code is issued, so a
/// refused resend leaves the previous code working.
async fn count_message(app: &Services, user: &User) -> Result<(), Refusal> {
    match throttle::allow_message(&app.store, &user.user_id, app.clock.now()).await? {
        Ok(()) => Ok(()),
        Err(wait) => Err(Refusal::MessageLimit(wait)),
    }
}

/// Mails an issued code (and its one-click link) to `to`.
async fn mail_code(
    app: &Services,
    user: &User,
    purpose: Purpose,
    to: &str,
    issued: &codes::Issued,
    link_template: Option<&str>,
) -> Result<(), Refusal> {
    let now = app.clock.now();
    let link = match (link_template, &issued.link_token) {
        (Some(template), Some(token)) => Some(template.replace("{token}", token)),
        _ => None,
    };
    let kind = match purpose {
        Purpose::SignUp | Purpose::VerifyEmail => MessageKind::Verification,
        Purpose::Reset => MessageKind::Reset,
    };
    let message = Outgoing {
        pool_id: &user.pool_id,
        to,
        kind,
        username: &user.username,
        code: &issued.code,
        link: link.as_deref(),
    };
    app.mail.send(&app.store, &message, now).await.map_err(|e| {
        tracing::warn!(pool_id = %user.pool_id, user_id = %user.user_id, error = %e, "sending a code failed");
        Refusal::MailFailed
    })
}

/// Sends a new sign-up code if the user is still unconfirmed; otherwise restarts the
/// name's stand-in code, so neither the answer nor later wrong codes reveal whether the
/// account exists or its state (`PreventUserExistenceErrors`).
pub async fn resend_sign_up_code(
    app: &Services,
    pool_id: &str,
    username: &str,
    link_template: Option<&str>,
) -> Result<(), Refusal> {
    in_equal_time(async {
        count_code_request(app, pool_id, username).await?;
        match app.store.user_by_name(pool_id, username).await? {
            Some(user)
                if user.status == UserStatus::Unconfirmed
                    && user.attributes.contains_key("email") =>
            {
                send_code(app, &user, Purpose::SignUp, link_template).await
            }
            _ => stand_in(app, pool_id, username, Purpose::SignUp).await,
        }
    })
    .await
}

/// Counts a request for a code to `username` against the message cap, for every name
/// alike, so the cap does not tell real from unknown names.
async fn count_code_request(app: &Services, pool_id: &str, username: &str) -> Result<(), Refusal> {
    match throttle::allow_code_request(&app.store, pool_id, username, app.clock.now()).await? {
        Ok(()) => Ok(()),
        Err(wait) => Err(Refusal::MessageLimit(wait)),
    }
}

/// The least time an answer that may or may not send a code takes.
const CODE_ANSWER_TIME: std::time::Duration = std::time::Duration::from_millis(100);

/// Runs `work`, then waits out the rest of [`CODE_ANSWER_TIME`], so writing and
/// sending a code (for an existing account) and doing nothing (for an unknown one)
/// take the same time. A mail server slower than that still shows; the answer itself
/// never differs.
async fn in_equal_time<T>(work: impl std::future::Future<Output = T>) -> T {
    let deadline = tokio::time::Instant::now() + CODE_ANSWER_TIME;
    let out = work.await;
    tokio::time::sleep_until(deadline).await;
    out
}

/// Confirms a sign-up with its code.
pub async fn confirm_sign_up(
    app: &Services,
    pool_id: &str,
    username: &str,
    code: &str,
) -> Result<User, Refusal> {
    let user = app
        .store
        .user_by_name(pool_id, username)
        .await?
        .filter(|u| u.status == UserStatus::Unconfirmed);
    let now = app.clock.now();
    let user_id = user.as_ref().map(|u| u.user_id.as_str());
    let digest = codes::check_for_name(
        &app.store,
        app.keys.digests(),
        pool_id,
        username,
        user_id,
        Purpose::SignUp,
        code,
        now,
    )
    .await??;
    // A digest comes only from a user's own code.
    let Some(user) = user else {
        return Err(Refusal::CodeMismatch);
    };
    // One transaction consumes the code and confirms the user; a concurrent use of
    // the same code loses here.
    if !app
        .store
        .confirm_user(pool_id, &user.user_id, &digest, now)
        .await?
    {
        return Err(Refusal::CodeMismatch);
    }
    reload(app, &user).await
}

/// Confirms a sign-up from the one-click link in its email.
pub async fn confirm_by_link(app: &Services, pool_id: &str, token: &str) -> Result<User, Refusal> {
    let user_id = app
        .store
        .confirm_user_by_link(
            pool_id,
            &codes::link_digest(app.keys.digests(), token),
            app.clock.now(),
        )
        .await?
        .ok_or(Refusal::CodeMismatch)?;
    Ok(app
        .store
        .user_by_id(pool_id, &user_id)
        .await?
        .ok_or(AppError::NotFound("user"))?)
}

async fn reload(app: &Services, user: &User) -> Result<User, Refusal> {
    Ok(app
        .store
        .user_by_id(&user.pool_id, &user.user_id)
        .await?
        .ok_or(AppError::NotFound("user"))?)
}

/// Starts a password reset: mails a code if the account exists, may reset its
/// password and has a verified address to send it to, else restarts the name's
/// stand-in code. Answers the same either way; only a pool with
/// `PreventUserExistenceErrors` off tells an account without a verified address so,
/// as Cognito does.
pub async fn forgot_password(app: &Services, pool_id: &str, username: &str) -> Result<(), Refusal> {
    in_equal_time(async {
        count_code_request(app, pool_id, username).await?;
        match app.store.user_by_name(pool_id, username).await? {
            Some(user)
                if user.enabled
                    && matches!(
                        user.status,
                        UserStatus::Confirmed | UserStatus::ResetRequired
                    ) =>
            {
                if code_destination(&user, Purpose::Reset).is_some() {
                    return send_code(app, &user, Purpose::Reset, None).await;
                }
                let hide = app
                    .store
                    .pool_by_id(pool_id)
                    .await?
                    .is_none_or(|p| p.settings.prevent_user_existence_errors);
                if !hide {
                    return Err(Refusal::InvalidParameter(NO_VERIFIED_ADDRESS.into()));
                }
                stand_in(app, pool_id, username, Purpose::Reset).await
            }
            _ => stand_in(app, pool_id, username, Purpose::Reset).await,
        }
    })
    .await
}

/// Restarts the stand-in code of a name that is sent no code.
async fn stand_in(
    app: &Services,
    pool_id: &str,
    username: &str,
    purpose: Purpose,
) -> Result<(), Refusal> {
    Ok(codes::issue_stand_in(&app.store, pool_id, username, purpose, app.clock.now()).await?)
}

/// Finishes a password reset: the code, then the new password. Every sign-in of the
/// user is revoked, since whoever held the old password may hold tokens too.
pub async fn confirm_forgot_password(
    app: &Services,
    pool: &Pool,
    username: &str,
    code: &str,
    new_password: &str,
) -> Result<User, Refusal> {
    pool.settings
        .password_policy
        .check(new_password, username)
        .map_err(Refusal::InvalidPassword)?;
    let user = app.store.user_by_name(&pool.pool_id, username).await?;
    let now = app.clock.now();
    let user_id = user.as_ref().map(|u| u.user_id.as_str());
    let digest = codes::check_for_name(
        &app.store,
        app.keys.digests(),
        &pool.pool_id,
        username,
        user_id,
        Purpose::Reset,
        code,
        now,
    )
    .await??;
    // A digest comes only from a user's own code.
    let Some(user) = user else {
        return Err(Refusal::CodeMismatch);
    };
    let hash = password::hash(new_password).await.map_err(AppError::from)?;
    let srp = super::credentials::sealed_srp_verifier(app, &user, new_password).await?;
    // One transaction consumes the code, sets the password and revokes the user's
    // sign-ins: a crash never leaves the code used up and the old password in place.
    if !app
        .store
        .reset_password(&user.user_id, &digest, &hash, srp.as_deref(), now)
        .await?
    {
        return Err(Refusal::CodeMismatch);
    }
    throttle::record_success(
        &app.store,
        &throttle::keys(&pool.pool_id, &user.username, None),
    )
    .await?;
    reload(app, &user).await
}

/// Replaces a temporary password (`FORCE_CHANGE_PASSWORD`) with the user's own.
///
/// The challenge began when the temporary password was proven, possibly minutes ago,
/// at the user's credential version `challenged_at`: the user is read again, and an
/// administrator's disabling, a new password (temporary or not) or any other change of
/// status or credentials since then stops it before anything changes. The password is
/// written only while the version is still the challenge's, and the result is checked
/// once more, so a user disabled or reset while the password was being hashed gets no
/// sign-in either.
pub async fn set_required_password(
    app: &Services,
    pool: &Pool,
    user_id: &str,
    challenged_at: i64,
    new_password: &str,
) -> Result<User, Refusal> {
    let user = still_signing_in(
        app,
        pool,
        user_id,
        UserStatus::ForceChangePassword,
        challenged_at,
    )
    .await?;
    pool.settings
        .password_policy
        .check(new_password, &user.username)
        .map_err(Refusal::InvalidPassword)?;
    let status = UserStatus::Confirmed;
    let Some(version) =
        super::credentials::replace_password(app, &user, new_password, status, None).await?
    else {
        return Err(Refusal::BadCredentials);
    };
    still_signing_in(app, pool, user_id, status, version).await
}

/// The user as the database has it now, if it may still go on with a sign-in that
/// found it in `status` at credential version `version`: enabled, and unchanged since.
async fn still_signing_in(
    app: &Services,
    pool: &Pool,
    user_id: &str,
    status: UserStatus,
    version: i64,
) -> Result<User, Refusal> {
    match app.store.user_by_id(&pool.pool_id, user_id).await? {
        Some(now) if !now.enabled => Err(Refusal::Disabled),
        Some(now) if now.status == status && now.credential_version == version => Ok(now),
        _ => Err(Refusal::BadCredentials),
    }
}
