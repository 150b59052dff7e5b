//! A signed-in user's own attributes (`UpdateUserAttributes`, `DeleteUserAttributes`,
//! `GetUserAttributeVerificationCode`, `VerifyUserAttribute`).

use std::collections::BTreeMap;

use crate::clients::AppClient;
use crate::error::AppError;
use crate::mail::Custom;
use crate::services::Services;
use crate::users::code_mail::{
    Asker, code_destination, count_message, custom_message, issue_and_mail,
};
use crate::users::codes::{self, Purpose};
use crate::users::schema::{When, Writer};
use crate::users::{self, Refusal, User, reload};

/// Sets attributes of a signed-in user through their app client (`UpdateUserAttributes`):
/// only declared attributes the client may write, immutable ones never changed, and a
/// changed address no longer verified. One transaction writes them all. A changed
/// email address is then sent a verification code, as Cognito sends one; the address
/// it went to is returned (`None` if none went: the change stands, and
/// `GetUserAttributeVerificationCode` asks again).
///
/// The new address is in force at once, unverified: it cannot receive a password
/// reset until verified. In a pool that requires verification before an update
/// (Cognito's `AttributesRequireVerificationBeforeUpdate: ["email"]`) the old address
/// stays in force instead, and the new one is held until `VerifyUserAttribute` proves
/// it ([`users::hold_for_verification`]).
///
/// When a code will go out, `CustomMessage_UpdateUserAttribute` is raised (with
/// `client_metadata`) before anything is written, with the attributes as the change
/// leaves them: a failing trigger fails the call and changes nothing.
pub async fn update_own_attributes(
    app: &Services,
    user: &User,
    client: &AppClient,
    mut changes: BTreeMap<String, String>,
    client_metadata: Option<&BTreeMap<String, String>>,
) -> Result<Option<String>, Refusal> {
    for (name, value) in &changes {
        users::validate_attribute(name, value).map_err(Refusal::InvalidParameter)?;
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
    let pool = app
        .store
        .pool_by_id(&user.pool_id)
        .await?
        .ok_or(AppError::NotFound("user pool"))?;
    let held = users::hold_for_verification(&pool, &user.attributes, &mut changes);
    users::unverify_changed(&user.attributes, &mut changes);
    let sends =
        held.is_some() || changes.get("email_verified").map(String::as_str) == Some("false");
    let custom = if sends {
        let mut after = user.clone();
        after
            .attributes
            .extend(changes.iter().map(|(k, v)| (k.clone(), v.clone())));
        let asker = Asker::new(
            "CustomMessage_UpdateUserAttribute",
            Some(&client.client_id),
            client_metadata,
        );
        custom_message(app, &after, asker, false).await?
    } else {
        None
    };
    let now = app.clock.now();
    app.store
        .update_user_attributes(&user.pool_id, &user.user_id, &changes, &[], now)
        .await?;
    if let Some(address) = held {
        return hold_address(app, user, &address, custom.as_ref()).await;
    }
    if !sends {
        return Ok(None);
    }
    let user = reload(app, user).await?;
    let sent = async {
        let to = destination(app, &user).await?;
        count_message(app, &user).await?;
        issue_and_mail(app, &user, Purpose::VerifyEmail, &to, None, custom.as_ref()).await?;
        Ok::<_, Refusal>(to)
    };
    match sent.await {
        Ok(to) => Ok(Some(to)),
        Err(refusal) => {
            tracing::warn!(pool_id = %user.pool_id, user_id = %user.user_id, error = %refusal, "no verification code for a changed address");
            Ok(None)
        }
    }
}

/// Removes attributes of a signed-in user through their app client
/// (`DeleteUserAttributes`): only those the client may write, never a required one
/// ([`users::delete_attributes`]).
pub async fn delete_own_attributes(
    app: &Services,
    user: &User,
    client: &AppClient,
    names: &[String],
) -> Result<(), Refusal> {
    let pool = app
        .store
        .pool_by_id(&user.pool_id)
        .await?
        .ok_or(AppError::NotFound("user pool"))?;
    let writer = Writer::User {
        writable: &client.write_attributes,
    };
    users::delete_attributes(app, &pool, user, names, writer).await
}

/// Holds `address` as the user's pending email and mails it a code, with the custom
/// message already asked for; the address it went to (`None` if none went: the change
/// waits, and `GetUserAttributeVerificationCode` asks again).
pub async fn hold_address(
    app: &Services,
    user: &User,
    address: &str,
    custom: Option<&Custom>,
) -> Result<Option<String>, Refusal> {
    app.store
        .set_pending_attribute(&user.user_id, "email", address, app.clock.now())
        .await?;
    let sent = async {
        count_message(app, user).await?;
        issue_and_mail(app, user, Purpose::VerifyEmail, address, None, custom).await
    };
    match sent.await {
        Ok(()) => Ok(Some(address.to_string())),
        Err(refusal) => {
            tracing::warn!(pool_id = %user.pool_id, user_id = %user.user_id, error = %refusal, "no verification code for a pending address");
            Ok(None)
        }
    }
}

/// Mails a code verifying the user's address `name` (`GetUserAttributeVerificationCode`):
/// the pending one if a change waits for verification, else the current one; the
/// address it went to. Raises `CustomMessage_VerifyUserAttribute` (with the caller's
/// client and `client_metadata`) before the code is issued: a failing trigger fails the
/// call and leaves the previous code working.
pub async fn send_attribute_code(
    app: &Services,
    user: &User,
    name: &str,
    client_id: Option<&str>,
    client_metadata: Option<&BTreeMap<String, String>>,
) -> Result<String, Refusal> {
    verifiable(name)?;
    let to = destination(app, user).await?;
    count_message(app, user).await?;
    let asker = Asker::new(
        "CustomMessage_VerifyUserAttribute",
        client_id,
        client_metadata,
    );
    let custom = custom_message(app, user, asker, false).await?;
    issue_and_mail(app, user, Purpose::VerifyEmail, &to, None, custom.as_ref()).await?;
    Ok(to)
}

/// Where an email verification code goes: the pending address if a change waits for
/// verification, else the current one.
async fn destination(app: &Services, user: &User) -> Result<String, Refusal> {
    match app.store.pending_attribute(&user.user_id, "email").await? {
        Some(pending) => Ok(pending),
        None => code_destination(user, Purpose::VerifyEmail)
            .map(str::to_string)
            .ok_or_else(|| Refusal::InvalidParameter("the user has no email address".into())),
    }
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
/// the address only if it is still the one the code went to, or makes the pending
/// address the user's, verified, if the code went there.
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
