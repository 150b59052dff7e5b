//! Password reset by a code to a verified address, shared by the hosted
//! forgot-password pages and the API's `ForgotPassword` and `ConfirmForgotPassword`.

use std::collections::BTreeMap;

use crate::error::AppError;
use crate::events::{Event, Kind};
use crate::pool::{AccountRecovery, Pool};
use crate::services::Services;
use crate::throttle;
use crate::triggers;
use crate::users::code_mail::{
    Asker, NO_VERIFIED_ADDRESS, code_destination, count_code_request, in_equal_time, send_code,
    stand_in,
};
use crate::users::codes::{self, Purpose};
use crate::users::{Refusal, User, UserStatus, credentials, password, reload};

/// Starts a password reset: mails a code if the account exists, may reset its
/// password and has a verified address to send it to, else restarts the name's
/// stand-in code. Answers the same either way; only a pool with
/// `PreventUserExistenceErrors` off tells an account without a verified address so,
/// as Cognito does.
///
/// A pool whose passwords only administrators reset (`admin_only`) refuses every name
/// alike, before anything is looked up or counted.
///
/// A name the pool does not have is offered to the pool's user migration trigger
/// (`UserMigration_ForgotPassword`); the user it vouches for is created
/// `RESET_REQUIRED` and sent a code like any other. The code's message raises
/// `CustomMessage_ForgotPassword` with `client_metadata`; a failing trigger fails the
/// call and leaves any previous code working (only an account sent a code can fail
/// so, as on Cognito).
pub async fn forgot_password(
    app: &Services,
    pool_id: &str,
    client_id: &str,
    username: &str,
    client_metadata: Option<&BTreeMap<String, String>>,
) -> Result<(), Refusal> {
    let result: Result<(), Refusal> = async {
        let asker = Asker::new(
            "CustomMessage_ForgotPassword",
            Some(client_id),
            client_metadata,
        );
        if app
            .store
            .pool_by_id(pool_id)
            .await?
            .is_some_and(|p| p.settings.account_recovery == AccountRecovery::AdminOnly)
        {
            return Err(Refusal::RecoveryByAdminOnly);
        }
        in_equal_time(async {
            count_code_request(app, pool_id, username).await?;
            let user = match app.store.user_by_name(pool_id, username).await? {
                Some(user) => Some(user),
                None => {
                    super::migration::at_forgot_password(
                        app,
                        pool_id,
                        client_id,
                        username,
                        client_metadata,
                    )
                    .await?
                }
            };
            match user {
                Some(user)
                    if user.enabled
                        && matches!(
                            user.status,
                            UserStatus::Confirmed | UserStatus::ResetRequired
                        ) =>
                {
                    if code_destination(&user, Purpose::Reset).is_some() {
                        return send_code(app, &user, Purpose::Reset, None, asker).await;
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
    .await;
    let event = Event::new(Kind::ForgotPassword, pool_id).client(client_id);
    app.record(super::outcome(
        event,
        username,
        result.as_ref().map(|()| None),
    ));
    result
}

/// Finishes a password reset: the code, then the new password. Every sign-in of the
/// user is revoked, since whoever held the old password may hold tokens too. Raises
/// `PostConfirmation_ConfirmForgotPassword` afterwards, at every reset, as Cognito does
/// (a post confirmation handler that means "new user" must check `triggerSource`).
pub async fn confirm_forgot_password(
    app: &Services,
    pool: &Pool,
    client_id: Option<&str>,
    username: &str,
    code: &str,
    new_password: &str,
    client_metadata: Option<&BTreeMap<String, String>>,
) -> Result<User, Refusal> {
    let result: Result<User, Refusal> = async {
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
        // Only now, with the code proven: the answer tells of the user's past passwords.
        if credentials::is_reused(app, pool, &user, new_password).await? {
            return Err(Refusal::PasswordReused);
        }
        let hash = password::hash(new_password).await.map_err(AppError::from)?;
        let srp = credentials::sealed_srp_verifier(app, &user, new_password).await?;
        // One transaction consumes the code, sets the password and revokes the user's
        // sign-ins: a crash never leaves the code used up and the old password in place.
        if !app
            .store
            .reset_password(
                &user.user_id,
                &digest,
                &hash,
                srp.as_deref(),
                credentials::history_keep(&pool.settings.password_policy),
                now,
            )
            .await?
        {
            return Err(Refusal::CodeMismatch);
        }
        throttle::record_success(
            &app.store,
            &throttle::keys(&pool.pool_id, &user.username, None),
        )
        .await?;
        let user = reload(app, &user).await?;
        triggers::events::post_confirmation(
            app,
            "PostConfirmation_ConfirmForgotPassword",
            client_id,
            &user,
            client_metadata,
        )
        .await?;
        Ok(user)
    }
    .await;
    let event =
        Event::new(Kind::PasswordReset, &pool.pool_id).client(client_id.unwrap_or_default());
    app.record(super::outcome(event, username, result.as_ref().map(Some)));
    result
}
