//! Signing up and confirming the account, shared by the hosted sign-up pages and the
//! API's `SignUp`, `ResendConfirmationCode` and `ConfirmSignUp`.

use std::collections::BTreeMap;

use crate::clients::AppClient;
use crate::error::AppError;
use crate::events::{Event, Kind};
use crate::pool::Pool;
use crate::services::Services;
use crate::triggers;
use crate::users::code_mail::{
    Asker, count_code_request, count_message, custom_message, has_link, in_equal_time, mail_code,
    send_code, stand_in,
};
use crate::users::codes::{self, Purpose};
use crate::users::schema::{When, Writer};
use crate::users::{self, Refusal, User, UserStatus, is_email, password, reload};

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
/// `{token}` is replaced by the link's token). If the message cannot be sent, or the
/// pool's custom message trigger (`CustomMessage_SignUp`) fails, the user is removed
/// again, so the person can simply retry and no half-created user stays.
/// `validation_data` and `client_metadata` (the API's `ValidationData` and
/// `ClientMetadata`) reach the pre sign-up and custom message triggers.
#[expect(
    clippy::too_many_arguments,
    reason = "the shared sign-up operation of issue 14 takes these as one request"
)]
pub async fn sign_up(
    app: &Services,
    pool: &Pool,
    client: &AppClient,
    username: &str,
    password: &str,
    attributes: BTreeMap<String, String>,
    link_template: Option<&str>,
    hide_existing: bool,
    validation_data: Option<&BTreeMap<String, String>>,
    client_metadata: Option<&BTreeMap<String, String>>,
) -> Result<SignedUp, Refusal> {
    let result: Result<SignedUp, Refusal> = async {
        if !pool.settings.allow_self_signup {
            return Err(Refusal::InvalidParameter(
                "sign-up is not allowed in this user pool".into(),
            ));
        }
        users::validate_username(username).map_err(Refusal::InvalidParameter)?;
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
        pool.settings
            .check_required(&attributes)
            .map_err(Refusal::InvalidParameter)?;
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
        // PreSignUp_SignUp: before anything is created, so a refusal leaves nothing behind.
        let decided = triggers::events::pre_sign_up(
            app,
            &pool.pool_id,
            &pool.settings,
            "PreSignUp_SignUp",
            Some(&client.client_id),
            username,
            &attributes,
            validation_data,
            client_metadata,
        )
        .await
        .map_err(AppError::from)?;
        let mut attributes = attributes;
        decided.apply_verification(&mut attributes);
        let (status, purpose) = if decided.auto_confirm_user {
            (UserStatus::Confirmed, None)
        } else {
            (UserStatus::Unconfirmed, Some(Purpose::SignUp))
        };
        let (user, issued) = match users::create_with_code(
            app,
            &pool.pool_id,
            username,
            Some(password),
            status,
            attributes,
            purpose,
        )
        .await
        {
            Ok((user, Some(issued))) => (user, issued),
            // Confirmed by the trigger: no code to send.
            Ok((user, None)) => return Ok(SignedUp::Created(user)),
            Err(AppError::Conflict(_)) if pool.settings.prevent_user_existence_errors => {
                return Ok(SignedUp::Hidden);
            }
            Err(AppError::Conflict(_)) => return Err(Refusal::UsernameExists),
            Err(AppError::Invalid(why)) => return Err(Refusal::InvalidParameter(why)),
            Err(e) => return Err(e.into()),
        };
        count_message(app, &user).await?;
        // CustomMessage_SignUp: after the user exists (its event carries `sub` and status),
        // before the code is mailed; a failure removes the user as a failed mail does.
        let asker = Asker::new(
            "CustomMessage_SignUp",
            Some(&client.client_id),
            client_metadata,
        );
        let sent = async {
            let with_link = has_link(Purpose::SignUp, link_template);
            let custom = custom_message(app, &user, asker, with_link).await?;
            mail_code(
                app,
                &user,
                Purpose::SignUp,
                &email,
                &issued,
                link_template,
                custom.as_ref(),
            )
            .await
        }
        .await;
        if let Err(e) = sent {
            app.store.delete_user(&user.user_id).await?;
            return Err(e);
        }
        Ok(SignedUp::Created(user))
    }
    .await;
    let event = Event::new(Kind::SignUp, &pool.pool_id).client(&client.client_id);
    app.record(match &result {
        Ok(SignedUp::Created(user)) => super::outcome(event, username, Ok(Some(user))),
        Ok(SignedUp::Hidden) => super::outcome(event, username, Err(&Refusal::UsernameExists)),
        Err(refusal) => super::outcome(event, username, Err(refusal)),
    });
    result
}

/// Sends a new sign-up code if the user is still unconfirmed; otherwise restarts the
/// name's stand-in code, so neither the answer nor later wrong codes reveal whether the
/// account exists or its state (`PreventUserExistenceErrors`). Raises
/// `CustomMessage_ResendCode` for an account sent a code; a failing trigger fails the
/// call and leaves the previous code working (only an existing account can fail so,
/// as on Cognito).
pub async fn resend_sign_up_code(
    app: &Services,
    pool_id: &str,
    username: &str,
    link_template: Option<&str>,
    client_id: Option<&str>,
    client_metadata: Option<&BTreeMap<String, String>>,
) -> Result<(), Refusal> {
    let asker = Asker::new("CustomMessage_ResendCode", client_id, client_metadata);
    in_equal_time(async {
        count_code_request(app, pool_id, username).await?;
        match app.store.user_by_name(pool_id, username).await? {
            Some(user)
                if user.status == UserStatus::Unconfirmed
                    && user.attributes.contains_key("email") =>
            {
                send_code(app, &user, Purpose::SignUp, link_template, asker).await
            }
            _ => stand_in(app, pool_id, username, Purpose::SignUp).await,
        }
    })
    .await
}

/// Confirms a sign-up with its code.
pub async fn confirm_sign_up(
    app: &Services,
    pool_id: &str,
    username: &str,
    code: &str,
    client_id: Option<&str>,
    client_metadata: Option<&BTreeMap<String, String>>,
) -> Result<User, Refusal> {
    let result: Result<User, Refusal> = async {
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
        let user = reload(app, &user).await?;
        post_confirmation(app, &user, client_id, client_metadata).await?;
        Ok(user)
    }
    .await;
    let event = Event::new(Kind::ConfirmSignUp, pool_id).client(client_id.unwrap_or_default());
    app.record(super::outcome(event, username, result.as_ref().map(Some)));
    result
}

/// Raises `PostConfirmation_ConfirmSignUp` for a user just confirmed.
async fn post_confirmation(
    app: &Services,
    user: &User,
    client_id: Option<&str>,
    client_metadata: Option<&BTreeMap<String, String>>,
) -> Result<(), Refusal> {
    triggers::events::post_confirmation(
        app,
        "PostConfirmation_ConfirmSignUp",
        client_id,
        user,
        client_metadata,
    )
    .await
    .map_err(Refusal::Internal)
}

/// Confirms a sign-up from the one-click link in its email.
pub async fn confirm_by_link(app: &Services, pool_id: &str, token: &str) -> Result<User, Refusal> {
    let result: Result<User, Refusal> = async {
        let user_id = app
            .store
            .confirm_user_by_link(
                pool_id,
                &codes::link_digest(app.keys.digests(), token),
                app.clock.now(),
            )
            .await?
            .ok_or(Refusal::CodeMismatch)?;
        let user = app
            .store
            .user_by_id(pool_id, &user_id)
            .await?
            .ok_or(AppError::NotFound("user"))?;
        post_confirmation(app, &user, None, None).await?;
        Ok(user)
    }
    .await;
    let event = Event::new(Kind::ConfirmSignUp, pool_id);
    app.record(super::outcome(event, "", result.as_ref().map(Some)));
    result
}
