//! A sign-in's second step, shared by the API's challenges and the hosted pages: after
//! the password (by hash or SRP, or a new one chosen) the pool's `MfaConfiguration`
//! decides whether the user must also give a code, from an authenticator app
//! (`SOFTWARE_TOKEN_MFA`) or sent by e-mail (`EMAIL_OTP`), or first set an
//! authenticator up (`MFA_SETUP`). Federated sign-ins skip it, as on Cognito: the
//! provider authenticated them. Wrong codes are throttled per user like passwords.

use std::collections::BTreeMap;

use super::sign_in::{SignedIn, check_throttle, still_signing_in};
use crate::events::{Event, Kind};
use crate::pool::MfaConfiguration;
use crate::services::Services;
use crate::throttle;
use crate::users::code_mail::{self, Asker};
use crate::users::codes::{self, Purpose};
use crate::users::mfa::{self, CodeCheck, Factor};
use crate::users::{Refusal, User, UserStatus};

/// Who the sign-in is for, as the custom message trigger hears of it.
#[derive(Clone, Copy)]
pub struct Caller<'a> {
    pub client_id: &'a str,
    pub client_metadata: Option<&'a BTreeMap<String, String>>,
}

/// After the password was proven for `user`: tokens may follow, or the second factor
/// the pool asks for (an e-mailed code is sent now), or its setup.
pub async fn after_password(
    app: &Services,
    caller: Caller<'_>,
    user: User,
) -> Result<SignedIn, Refusal> {
    let Some(pool) = app.store.pool_by_id(&user.pool_id).await? else {
        return Ok(SignedIn::Ready(user));
    };
    let settings = &pool.settings.mfa;
    if settings.configuration == MfaConfiguration::Off {
        return Ok(SignedIn::Ready(user));
    }
    let factors = mfa::factors(app, &user).await?;
    let offered = |f: &Factor| match f {
        Factor::SoftwareToken => settings.software_token,
        Factor::Email => settings.email,
    };
    let chosen = factors
        .challenge()
        .filter(offered)
        .or_else(|| factors.enabled().into_iter().find(offered));
    let required = settings.configuration == MfaConfiguration::On;
    let factor = match chosen {
        Some(f) => f,
        None if !required => return Ok(SignedIn::Ready(user)),
        // Required, and nothing turned on: what the user has, else a setup.
        None if settings.software_token && factors.totp_verified() => Factor::SoftwareToken,
        None if settings.email && has_verified_email(&user) => Factor::Email,
        None if settings.software_token => return Ok(SignedIn::MfaSetup(user)),
        None => {
            return Err(Refusal::MfaUnavailable(
                "MFA is required, but the user has no verified email address for EMAIL_OTP \
                 and the pool offers no authenticator to set up."
                    .into(),
            ));
        }
    };
    if factor == Factor::Email {
        send_email_code(app, caller, &user).await?;
    }
    Ok(SignedIn::Mfa(user, factor))
}

fn has_verified_email(user: &User) -> bool {
    code_mail::code_destination(user, Purpose::Mfa).is_some()
}

/// Mails a sign-in code (Cognito's `CustomMessage_Authentication`).
async fn send_email_code(app: &Services, caller: Caller<'_>, user: &User) -> Result<(), Refusal> {
    let asker = Asker::new(
        "CustomMessage_Authentication",
        Some(caller.client_id),
        caller.client_metadata,
    );
    code_mail::send_code(app, user, Purpose::Mfa, None, asker).await
}

/// The throttle key of a user's second-factor attempts.
fn throttle_keys(user: &User) -> Vec<String> {
    vec![format!("mfa:{}:{}", user.pool_id, user.user_id)]
}

/// Checks the code for the challenge `factor` the user was given at credential version
/// `challenged_at`; the user, read again, when it is right. A user changed since (a new
/// password, disabled, signed out everywhere) gets no sign-in.
pub async fn answer(
    app: &Services,
    pool_id: &str,
    user_id: &str,
    challenged_at: i64,
    factor: Factor,
    code: &str,
) -> Result<User, Refusal> {
    let result: Result<User, Refusal> = async {
        let user =
            still_signing_in(app, pool_id, user_id, UserStatus::Confirmed, challenged_at).await?;
        let keys = throttle_keys(&user);
        check_throttle(app, &keys).await?;
        let refusal = match factor {
            Factor::SoftwareToken => match mfa::check_code(app, &user, code).await? {
                CodeCheck::Accepted => None,
                CodeCheck::Used => Some(Refusal::CodeUsed),
                CodeCheck::Mismatch | CodeCheck::NoAuthenticator => Some(Refusal::CodeMismatch),
            },
            Factor::Email => {
                let now = app.clock.now();
                codes::take(
                    &app.store,
                    app.keys.digests(),
                    &user.user_id,
                    Purpose::Mfa,
                    code,
                    now,
                )
                .await?
                .err()
                .map(Refusal::from)
            }
        };
        match refusal {
            None => {
                throttle::record_success(&app.store, &keys).await?;
                Ok(user)
            }
            Some(refusal) => {
                throttle::record_failure(&app.store, &keys, app.clock.now()).await?;
                Err(refusal)
            }
        }
    }
    .await;
    let event = Event::new(Kind::MfaChallenge, pool_id).user_sub(user_id);
    app.record(super::outcome(event, "", result.as_ref().map(Some)));
    result
}

/// `MFA_SETUP`'s end: the user proved a new authenticator during this sign-in
/// (`VerifySoftwareToken` with the challenge's session), so tokens may follow.
pub async fn finish_setup(
    app: &Services,
    pool_id: &str,
    user_id: &str,
    challenged_at: i64,
) -> Result<User, Refusal> {
    let user =
        still_signing_in(app, pool_id, user_id, UserStatus::Confirmed, challenged_at).await?;
    if mfa::factors(app, &user)
        .await?
        .enabled()
        .contains(&Factor::SoftwareToken)
    {
        Ok(user)
    } else {
        Err(Refusal::CodeMismatch)
    }
}

/// Whether a sign-in's password alone may set up an authenticator for `user`: only
/// while the user has no factor on, so a password never replaces an authenticator in
/// use (`MFA_SETUP`'s `AssociateSoftwareToken` and the hosted enrolment page).
pub async fn may_set_up(app: &Services, user: &User) -> Result<bool, Refusal> {
    Ok(mfa::factors(app, user).await?.enabled().is_empty())
}

/// `MFA_SETUP`'s user, for a step begun at credential version `challenged_at`: still
/// signing in, and allowed to set an authenticator up ([`may_set_up`]).
pub async fn setting_up(
    app: &Services,
    pool_id: &str,
    user_id: &str,
    challenged_at: i64,
) -> Result<User, Refusal> {
    let user =
        still_signing_in(app, pool_id, user_id, UserStatus::Confirmed, challenged_at).await?;
    if may_set_up(app, &user).await? {
        Ok(user)
    } else {
        Err(Refusal::BadCredentials)
    }
}

/// Proves a new authenticator with its first code (`VerifySoftwareToken`). During a
/// sign-in's `MFA_SETUP` (`enable`) it is turned on at once, as Cognito does; with an
/// access token it is only verified, for `SetUserMFAPreference` to turn on. Throttled
/// like answers.
pub async fn verify_software_token(
    app: &Services,
    user: &User,
    code: &str,
    enable: bool,
) -> Result<(), Refusal> {
    let result: Result<(), Refusal> = async {
        let keys = throttle_keys(user);
        check_throttle(app, &keys).await?;
        match mfa::verify_pending(app, user, code, enable).await? {
        CodeCheck::Accepted => {
            throttle::record_success(&app.store, &keys).await?;
            Ok(())
        }
        CodeCheck::NoAuthenticator => Err(Refusal::InvalidParameter(
            "No software token was associated with the user: call AssociateSoftwareToken first."
                .into(),
        )),
        _ => {
            throttle::record_failure(&app.store, &keys, app.clock.now()).await?;
            Err(Refusal::CodeMismatch)
        }
    }
    }
    .await;
    let event = Event::new(Kind::MfaEnrolment, &user.pool_id);
    app.record(super::outcome(event, "", result.as_ref().map(|()| Some(user))).user(user));
    result
}

/// A user's choice of factors (`SetUserMFAPreference`): `None` leaves a factor as it is.
#[derive(Clone, Copy, Debug, Default)]
pub struct Preference {
    pub enabled: Option<bool>,
    pub preferred: Option<bool>,
}

/// Sets which factors the user has on and prefers, by Cognito's rules: a factor must be
/// ready (a verified authenticator, a verified address and the pool's e-mail factor),
/// a preferred one must be on, and a pool that requires MFA keeps at least one on.
pub async fn set_preference(
    app: &Services,
    user: &User,
    software_token: Preference,
    email: Preference,
) -> Result<(), Refusal> {
    let pool = app
        .store
        .pool_by_id(&user.pool_id)
        .await?
        .ok_or_else(|| Refusal::InvalidParameter("User pool does not exist.".into()))?;
    let factors = mfa::factors(app, user).await?;
    let now_on = factors.enabled();
    let totp_on = software_token
        .enabled
        .unwrap_or(now_on.contains(&Factor::SoftwareToken));
    let email_on = email.enabled.unwrap_or(now_on.contains(&Factor::Email));
    let invalid = |m: &str| Err(Refusal::InvalidParameter(m.into()));
    if totp_on && !factors.totp_verified() {
        return invalid("User has not verified software token mfa");
    }
    if email.enabled == Some(true) && !pool.settings.mfa.email {
        return invalid("Email MFA is not enabled for this user pool.");
    }
    if email_on && !has_verified_email(user) {
        return invalid("User does not have a verified email address for EMAIL_OTP.");
    }
    if pool.settings.mfa.configuration == MfaConfiguration::On && !totp_on && !email_on {
        return invalid("MFA is required for this user pool: one MFA method must stay enabled.");
    }
    let mut preferred = factors.preferred();
    for (factor, pref, on) in [
        (Factor::SoftwareToken, software_token, totp_on),
        (Factor::Email, email, email_on),
    ] {
        match pref.preferred {
            Some(true) if !on => {
                return invalid("A preferred MFA method must be enabled.");
            }
            Some(true) => preferred = Some(factor),
            Some(false) if preferred == Some(factor) => preferred = None,
            _ => {}
        }
        if !on && preferred == Some(factor) {
            preferred = None;
        }
    }
    app.store
        .set_mfa_preference(
            &user.pool_id,
            &user.user_id,
            totp_on,
            email_on,
            preferred.map(Factor::as_str),
        )
        .await?;
    Ok(())
}
