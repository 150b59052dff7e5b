//! Password sign-in, shared by the hosted login page and the API's password and SRP
//! flows: throttling per username and address, the account's status, the new password
//! an administrator-created user must choose, and the token set an API sign-in opens.
//! Each surface words [`Refusal`] its own way.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::clients::AppClient;
use crate::crypto::{Secret, random_token};
use crate::error::AppError;
use crate::events::{Event, Kind};
use crate::metrics::{SignInFlow, SignInOutcome, Throttle};
use crate::pool::Pool;
use crate::services::Services;
use crate::throttle;
use crate::tokens::claims::ADMIN_SCOPE;
use crate::tokens::issue::{Endpoint, Session, TokenSet, issue};
use crate::triggers;
use crate::users::mfa::Factor;
use crate::users::{Refusal, User, UserStatus, credentials, password, srp};

use super::mfa::Caller;

/// A password sign-in's outcome when the password was right.
pub enum SignedIn {
    /// The user may have tokens.
    Ready(User),
    /// An administrator-created user must choose a password first.
    NewPasswordRequired(User),
    /// The pool asks for a code from this factor (an e-mailed one was sent).
    Mfa(User, Factor),
    /// The pool requires MFA and the user must set up an authenticator first.
    MfaSetup(User),
}

/// A sign-in attempt: the name, the app client and address it comes through, and the
/// `ClientMetadata` its caller passed to the pool's triggers.
#[derive(Clone, Copy)]
pub struct Attempt<'a> {
    pub pool_id: &'a str,
    pub client_id: &'a str,
    pub username: &'a str,
    pub addr: Option<IpAddr>,
    pub client_metadata: Option<&'a BTreeMap<String, String>>,
    /// From the hosted login page rather than the API (for `/metrics`' flow label).
    pub hosted_page: bool,
}

impl Attempt<'_> {
    fn throttle_keys(&self) -> Vec<String> {
        throttle::keys(self.pool_id, self.username, self.addr)
    }

    pub fn caller(&self) -> Caller<'_> {
        Caller {
            client_id: self.client_id,
            client_metadata: self.client_metadata,
        }
    }
}

/// Checks a username and password, throttling failures per username and address.
/// Unknown users and wrong passwords are indistinguishable, in message and in time.
/// The user comes with the credential version read with its password hash: whatever
/// the sign-in leads to (tokens, a session, a challenge) lives only while that version
/// is current, so a reset committing meanwhile ends it.
///
/// Raises `PreAuthentication_Authentication` before the password is checked, and for
/// a name the pool does not have, `UserMigration_Authentication` with the password
/// typed: the user the trigger vouches for is created and signed in.
pub async fn sign_in(
    app: &Services,
    attempt: &Attempt<'_>,
    password: &str,
) -> Result<SignedIn, Refusal> {
    let result = check_password(app, attempt, password).await;
    let flow = match attempt.hosted_page {
        true => SignInFlow::HostedPage,
        false => SignInFlow::Password,
    };
    record_sign_in(app, attempt, flow, result.as_ref());
    result
}

/// The `/metrics` outcome of a refused sign-in.
pub fn outcome_of(refusal: &Refusal) -> SignInOutcome {
    match refusal {
        Refusal::BadCredentials
        | Refusal::CodeMismatch
        | Refusal::ExpiredCode
        | Refusal::CodeUsed
        | Refusal::TooManyAttempts => SignInOutcome::Failure,
        Refusal::Throttled(_) => SignInOutcome::Throttled,
        Refusal::Internal(_) | Refusal::MailFailed => SignInOutcome::Error,
        _ => SignInOutcome::Refused,
    }
}

/// [`sign_in`], unrecorded.
async fn check_password(
    app: &Services,
    attempt: &Attempt<'_>,
    password: &str,
) -> Result<SignedIn, Refusal> {
    let keys = attempt.throttle_keys();
    check_throttle(app, &keys).await?;
    // No password is that long: refuse before spending a hash on it.
    if password.chars().count() > crate::pool::MAX_PASSWORD_LENGTH {
        return Err(failed(app, &keys).await);
    }
    let user = app
        .store
        .user_by_name(attempt.pool_id, attempt.username)
        .await?;
    pre_authentication(app, attempt, user.as_ref()).await?;
    if user.is_none()
        && let Some(migrated) = super::migration::at_sign_in(app, attempt, password, &keys).await?
    {
        return second_step(app, attempt, admit(app, &keys, migrated).await?).await;
    }
    let hash = user.as_ref().and_then(|u| u.password_hash.as_deref());
    let verified = password::verify(hash, password).await;
    match user {
        Some(user) if verified => {
            // An imported hash becomes the pool's argon2id; the sign-in goes on anyway.
            if let Err(e) = credentials::upgrade_hash(app, &user, password).await {
                tracing::warn!(pool_id = %user.pool_id, user_id = %user.user_id, error = %e, "replacing an imported password hash failed");
            }
            second_step(app, attempt, admit(app, &keys, user).await?).await
        }
        _ => Err(failed(app, &keys).await),
    }
}

/// Records a password sign-in's outcome: the user when the password was proven (a
/// second factor may follow, recorded as its own event), else the name typed and why
/// it failed; a throttled attempt as throttling.
fn record_sign_in(
    app: &Services,
    attempt: &Attempt<'_>,
    flow: SignInFlow,
    result: Result<&SignedIn, &Refusal>,
) {
    // A challenge after the first proof (a second factor, a new password) counts as
    // success, the proof having held.
    let outcome = match result {
        Ok(_) => SignInOutcome::Success,
        Err(refusal) => outcome_of(refusal),
    };
    app.metrics.sign_in(flow, outcome);
    let event = Event::new(Kind::SignIn, attempt.pool_id).client(attempt.client_id);
    app.record(super::outcome(
        event,
        attempt.username,
        result.map(|s| Some(s.user())),
    ));
}

impl SignedIn {
    /// The user whose password was proven.
    pub fn user(&self) -> &User {
        match self {
            SignedIn::Ready(user)
            | SignedIn::NewPasswordRequired(user)
            | SignedIn::Mfa(user, _)
            | SignedIn::MfaSetup(user) => user,
        }
    }
}

/// A proven password's sign-in goes on to the pool's second factor, if it asks for one.
async fn second_step(
    app: &Services,
    attempt: &Attempt<'_>,
    outcome: SignedIn,
) -> Result<SignedIn, Refusal> {
    match outcome {
        SignedIn::Ready(user) => super::mfa::after_password(app, attempt.caller(), user).await,
        other => Ok(other),
    }
}

/// Raises the pool's pre authentication trigger, if it has one, for the attempt.
pub async fn pre_authentication(
    app: &Services,
    attempt: &Attempt<'_>,
    user: Option<&User>,
) -> Result<(), AppError> {
    if let Some(settings) = triggers::settings_of(app, attempt.pool_id).await? {
        triggers::events::pre_authentication(
            app,
            &settings,
            attempt.pool_id,
            attempt.client_id,
            attempt.username,
            user,
            attempt.client_metadata,
        )
        .await?;
    }
    Ok(())
}

/// Raises the pool's post authentication trigger, if it has one: every sign-in that
/// succeeded passes here before its tokens or session are made, on every surface.
pub async fn post_authentication(
    app: &Services,
    client_id: &str,
    user: &User,
    client_metadata: Option<&BTreeMap<String, String>>,
) -> Result<(), AppError> {
    if let Some(settings) = triggers::settings_of(app, &user.pool_id).await? {
        triggers::events::post_authentication(app, &settings, client_id, user, client_metadata)
            .await?;
    }
    Ok(())
}

/// Refuses while any of `keys` is blocked.
pub async fn check_throttle(app: &Services, keys: &[String]) -> Result<(), Refusal> {
    match throttle::blocked_for(&app.store, keys, app.clock.now()).await? {
        Some(wait) => {
            app.metrics.throttled(Throttle::SignIn);
            Err(Refusal::Throttled(wait))
        }
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
        UserStatus::ForceChangePassword => {
            if temporary_password_expired(app, &user).await? {
                return Err(Refusal::TemporaryPasswordExpired);
            }
            Ok(SignedIn::NewPasswordRequired(user))
        }
        UserStatus::Unconfirmed => Err(Refusal::NotConfirmed),
        UserStatus::ResetRequired => Err(Refusal::ResetRequired),
        UserStatus::ExternalProvider => Err(Refusal::BadCredentials),
    }
}

/// Whether the user's temporary password is older than the pool's
/// `TemporaryPasswordValidityDays`: then only an administrator can give a new one.
async fn temporary_password_expired(app: &Services, user: &User) -> Result<bool, Refusal> {
    let Some(set_at) = user.password_set_at else {
        return Ok(false);
    };
    let days = match app.store.pool_by_id(&user.pool_id).await? {
        Some(pool) => i64::from(
            pool.settings
                .password_policy
                .temporary_password_validity_days,
        ),
        None => return Ok(false),
    };
    Ok(app.clock.now() >= set_at.saturating_add(days.saturating_mul(86_400)))
}

/// Replaces a temporary password (`FORCE_CHANGE_PASSWORD`) with the user's own.
///
/// The challenge began when the temporary password was proven, possibly minutes ago,
/// at the user's credential version `challenged_at`: the user is read again, and an
/// administrator's disabling, a new password (temporary or not) or any other change of
/// status or credentials since then stops it before anything changes. The password is
/// written only while the version is still the challenge's, and the result is checked
/// once more, so a user disabled or reset while the password was being hashed gets no
/// sign-in either. The sign-in then goes on to the pool's second factor.
pub async fn set_required_password(
    app: &Services,
    caller: Caller<'_>,
    pool: &Pool,
    user_id: &str,
    challenged_at: i64,
    new_password: &str,
) -> Result<SignedIn, Refusal> {
    let result: Result<SignedIn, Refusal> = async {
        let user = still_signing_in(
            app,
            &pool.pool_id,
            user_id,
            UserStatus::ForceChangePassword,
            challenged_at,
        )
        .await?;
        pool.settings
            .password_policy
            .check(new_password, &user.username)
            .map_err(Refusal::InvalidPassword)?;
        if credentials::is_reused(app, pool, &user, new_password).await? {
            return Err(Refusal::PasswordReused);
        }
        let status = UserStatus::Confirmed;
        let Some(version) =
            credentials::replace_password(app, &user, new_password, status, None).await?
        else {
            return Err(Refusal::BadCredentials);
        };
        let user = still_signing_in(app, &pool.pool_id, user_id, status, version).await?;
        super::mfa::after_password(app, caller, user).await
    }
    .await;
    // The temporary password replaced by the user's own is a password change.
    let event = Event::new(Kind::PasswordChange, &pool.pool_id)
        .client(caller.client_id)
        .user_sub(user_id);
    app.record(super::outcome(
        event,
        "",
        result.as_ref().map(|s| Some(s.user())),
    ));
    result
}

/// The user as the database has it now, if it may still go on with a sign-in that
/// found it in `status` at credential version `version`: enabled, and unchanged since.
pub(super) async fn still_signing_in(
    app: &Services,
    pool_id: &str,
    user_id: &str,
    status: UserStatus,
    version: i64,
) -> Result<User, Refusal> {
    match app.store.user_by_id(pool_id, user_id).await? {
        Some(now) if !now.enabled => Err(Refusal::Disabled),
        Some(now) if now.status == status && now.credential_version == version => Ok(now),
        _ => Err(Refusal::BadCredentials),
    }
}

/// Opens an API sign-in (`InitiateAuth`, `RespondToAuthChallenge`): raises post
/// authentication, then a new sign-in family with a refresh token, and its tokens with
/// the API's scope (pre token generation as `source`: `TokenGeneration_Authentication`,
/// or `_NewPasswordChallenge` after a new password), if the user's credentials are
/// still those the sign-in proved (`user.credential_version`).
pub async fn open_api_session(
    app: &Services,
    client: &AppClient,
    user: &User,
    source: &str,
    client_metadata: Option<&BTreeMap<String, String>>,
) -> Result<TokenSet, Refusal> {
    post_authentication(app, &client.client_id, user, client_metadata).await?;
    let origin_jti = uuid::Uuid::new_v4().to_string();
    let scopes = vec![ADMIN_SCOPE.to_string()];
    let auth_time = app.clock.now();
    let claims_override =
        super::pre_token::claims_override(app, client, user, &scopes, source, client_metadata)
            .await?;
    let mut set = issue(
        app,
        &Session {
            endpoint: Endpoint::Api,
            client,
            user,
            scopes: &scopes,
            auth_time,
            origin_jti: &origin_jti,
            nonce: None,
            claims_override: claims_override.as_ref(),
        },
    )
    .await?;
    let refresh = random_token(48);
    let opened = app
        .store
        .insert_family(
            &origin_jti,
            &client.pool_id,
            &client.client_id,
            &user.user_id,
            ADMIN_SCOPE,
            auth_time,
            auth_time + client.refresh_token_validity,
            &app.keys.digests().secret(Secret::RefreshToken, &refresh),
            user.credential_version,
        )
        .await?;
    if !opened {
        // The password changed (or the user was signed out everywhere) after it was
        // checked: the credential this sign-in proved is no longer the user's.
        return Err(Refusal::BadCredentials);
    }
    set.refresh_token = Some(refresh);
    super::record_issued(app, client, Some(user), crate::events::Grant::Api);
    Ok(set)
}

/// Why an SRP sign-in could not start.
pub enum SrpRefusal {
    /// `SRP_A` is not a valid public value.
    BadA,
    Refused(Refusal),
}

/// `USER_SRP_AUTH`'s first step, after pre authentication: the `PASSWORD_VERIFIER`
/// challenge and the SRP identity to name in it (SRP never migrates a user: the
/// password never reaches the server). A name without a verifier (no such user, or none kept) is answered
/// from [`credentials::stand_in_verifier`], so nothing in the answer (its fields, their
/// forms, a salt stable per name) or its cost reveals whether the account exists
/// (`PreventUserExistenceErrors`).
pub async fn start_srp(
    app: &Services,
    attempt: &Attempt<'_>,
    srp_a: &str,
) -> Result<(srp::Challenge, String), SrpRefusal> {
    let refused = |e: AppError| SrpRefusal::Refused(e.into());
    if let Err(refusal) = check_throttle(app, &attempt.throttle_keys()).await {
        record_sign_in(app, attempt, SignInFlow::Srp, Err(&refusal));
        return Err(SrpRefusal::Refused(refusal));
    }
    let (user, credential) = srp_credential(app, attempt.pool_id, attempt.username)
        .await
        .map_err(refused)?;
    pre_authentication(app, attempt, user.as_ref())
        .await
        .map_err(refused)?;
    let pool_id = attempt.pool_id;
    let challenge = srp::start(
        app.keys.master(),
        pool_id,
        &credential.identity,
        &credential.verifier,
        srp_a,
        app.clock.now(),
    )
    .map_err(|_| SrpRefusal::BadA)?;
    Ok((challenge, credential.identity))
}

/// The client's answer to `PASSWORD_VERIFIER`.
pub struct SrpProof<'a> {
    pub secret_block: &'a str,
    pub timestamp: &'a str,
    pub signature: &'a str,
}

/// Checks the client's SRP proof. A name without a verifier runs the same arithmetic
/// against its stand-in, so real and unknown users get the same errors in the same
/// time, and the same failures are counted.
pub async fn verify_srp(
    app: &Services,
    attempt: &Attempt<'_>,
    proof: &SrpProof<'_>,
) -> Result<SignedIn, Refusal> {
    let result = check_srp_proof(app, attempt, proof).await;
    record_sign_in(app, attempt, SignInFlow::Srp, result.as_ref());
    result
}

/// [`verify_srp`], unrecorded.
async fn check_srp_proof(
    app: &Services,
    attempt: &Attempt<'_>,
    proof: &SrpProof<'_>,
) -> Result<SignedIn, Refusal> {
    let keys = attempt.throttle_keys();
    check_throttle(app, &keys).await?;
    let pool_id = attempt.pool_id;
    let (user, credential) = srp_credential(app, pool_id, attempt.username).await?;
    let proven = srp::verify(
        app.keys.master(),
        pool_id,
        &credential.identity,
        &credential.verifier,
        proof.secret_block,
        proof.timestamp,
        proof.signature,
        app.clock.now(),
    )
    .is_ok();
    match user {
        Some(user) if proven => second_step(app, attempt, admit(app, &keys, user).await?).await,
        _ => Err(failed(app, &keys).await),
    }
}

/// The verifier SRP runs against for `username`, with the user only when it is the
/// user's own: for every other name (no such user, no password, SRP off) a stand-in,
/// found with the same work, which can never sign anyone in.
async fn srp_credential(
    app: &Services,
    pool_id: &str,
    username: &str,
) -> Result<(Option<User>, credentials::SrpCredential), AppError> {
    let user = app.store.user_by_name(pool_id, username).await?;
    let own = match &user {
        Some(u) => credentials::srp_verifier(app, u).await?,
        None => {
            // The read a real user costs, so the time does not tell either.
            app.store.srp_verifier("").await?;
            None
        }
    };
    Ok(match own {
        Some(credential) => (user, credential),
        None => {
            let identity = credentials::srp_identity(username);
            let verifier = credentials::stand_in_verifier(app.keys.master(), pool_id, &identity);
            (None, credentials::SrpCredential { verifier, identity })
        }
    })
}
