//! User migration (Cognito's `UserMigration` trigger): a name the pool does not have,
//! met at a password sign-in or a forgotten password, is offered to the pool's trigger,
//! which looks it up in the legacy directory and answers with the user's attributes;
//! cognate then creates the user under the name that was typed.
//!
//! Only flows that carry the password migrate at sign-in (`USER_PASSWORD_AUTH`,
//! `ADMIN_USER_PASSWORD_AUTH`, the hosted login page): never SRP, whose password never
//! reaches the server, and never a federated sign-in. A trigger that refuses (the
//! legacy directory does not know the name, or the password is wrong) is a failed
//! sign-in like any other: counted, and answered as an unknown name is.

use crate::error::{AppError, TriggerError};
use crate::services::Services;
use crate::triggers::{self, events::Migrated};
use crate::users::{self, Refusal, User, UserStatus};

use super::sign_in::{Attempt, failed};

/// `UserMigration_Authentication`: the user created from the trigger's answer, signed
/// in with the password just proven (or `RESET_REQUIRED`, without one, when the
/// trigger says so or the password fails the pool's policy); `None` when the pool has
/// no migration trigger.
pub async fn at_sign_in(
    app: &Services,
    attempt: &Attempt<'_>,
    password: &str,
    throttle_keys: &[String],
) -> Result<Option<User>, Refusal> {
    let Some(settings) = triggers::settings_of(app, attempt.pool_id).await? else {
        return Ok(None);
    };
    let answer = triggers::events::user_migration(
        app,
        &settings,
        attempt.pool_id,
        attempt.client_id,
        attempt.username,
        Some(password),
        attempt.client_metadata,
        None,
    )
    .await;
    let migrated = match answer {
        Ok(Some(m)) => m,
        Ok(None) => return Ok(None),
        Err(TriggerError::Validation { .. }) => return Err(failed(app, throttle_keys).await),
        Err(e) => return Err(AppError::from(e).into()),
    };
    // A legacy password the pool's policy refuses is not carried over: the user must
    // choose a new one, as after `RESET_REQUIRED`.
    let keeps_password = migrated.status == UserStatus::Confirmed
        && settings
            .password_policy
            .check(password, attempt.username)
            .is_ok();
    let password = keeps_password.then_some(password);
    create(app, attempt.pool_id, attempt.username, password, migrated).await
}

/// `UserMigration_ForgotPassword`: the user created `RESET_REQUIRED` from the
/// trigger's answer, so a reset code can be sent; `None` when the pool has no migration
/// trigger or the trigger refused (answered as an unknown name is).
pub async fn at_forgot_password(
    app: &Services,
    pool_id: &str,
    client_id: &str,
    username: &str,
    client_metadata: Option<&std::collections::BTreeMap<String, String>>,
) -> Result<Option<User>, Refusal> {
    let Some(settings) = triggers::settings_of(app, pool_id).await? else {
        return Ok(None);
    };
    let answer = triggers::events::user_migration(
        app,
        &settings,
        pool_id,
        client_id,
        username,
        None,
        None,
        client_metadata,
    )
    .await;
    match answer {
        Ok(Some(migrated)) => create(app, pool_id, username, None, migrated).await,
        Ok(None) | Err(TriggerError::Validation { .. }) => Ok(None),
        Err(e) => Err(AppError::from(e).into()),
    }
}

/// Creates the migrated user: with `password`, `CONFIRMED`; without, `RESET_REQUIRED`.
/// Attributes the pool refuses make the trigger's answer invalid, and nothing is
/// created. A user created meanwhile under the same name is left alone (`None`).
async fn create(
    app: &Services,
    pool_id: &str,
    username: &str,
    password: Option<&str>,
    migrated: Migrated,
) -> Result<Option<User>, Refusal> {
    let status = match password {
        Some(_) => UserStatus::Confirmed,
        None => UserStatus::ResetRequired,
    };
    match users::create(
        app,
        pool_id,
        username,
        password,
        status,
        migrated.attributes,
    )
    .await
    {
        Ok(user) => {
            tracing::info!(pool_id, user_id = %user.user_id, "user migrated by the pool's trigger");
            Ok(Some(user))
        }
        Err(AppError::Conflict(_)) => Ok(None),
        Err(AppError::Invalid(why)) => {
            Err(AppError::from(triggers::invalid(triggers::Trigger::UserMigration, &why)).into())
        }
        Err(e) => Err(e.into()),
    }
}
