//! Codes sent by mail (sign-up, password reset, address verification): where each may
//! go, the caps on how many, answering in equal time, and the mail itself, with the
//! pool's custom message trigger (Cognito's `CustomMessage_*`) raised before the code
//! is issued, so a failing trigger leaves the previous code working.

use std::collections::BTreeMap;

use super::codes::{self, Purpose};
use super::{Refusal, User};
use crate::error::AppError;
use crate::mail::{Custom, MessageKind, Outgoing};
use crate::metrics::Throttle;
use crate::services::Services;
use crate::throttle;

/// Who asked for a message, for the custom message trigger: its `triggerSource`
/// (`CustomMessage_SignUp`, `_ResendCode`, …), the app client (`callerContext.clientId`)
/// and the caller's `ClientMetadata`.
#[derive(Clone, Copy, Debug)]
pub struct Asker<'a> {
    pub source: &'a str,
    pub client_id: Option<&'a str>,
    pub client_metadata: Option<&'a BTreeMap<String, String>>,
}

impl<'a> Asker<'a> {
    pub fn new(
        source: &'a str,
        client_id: Option<&'a str>,
        client_metadata: Option<&'a BTreeMap<String, String>>,
    ) -> Self {
        Asker {
            source,
            client_id,
            client_metadata,
        }
    }
}

/// Raises the pool's custom message trigger for a message to `user` (see
/// [`crate::triggers::events::custom_message`]); `with_link` when the message will carry
/// a one-click link. A message the trigger made invalid is the caller's
/// InvalidParameter, as on Cognito.
pub async fn custom_message(
    app: &Services,
    user: &User,
    asker: Asker<'_>,
    with_link: bool,
) -> Result<Option<Custom>, Refusal> {
    crate::triggers::events::custom_message(
        app,
        asker.source,
        asker.client_id,
        user,
        with_link,
        asker.client_metadata,
    )
    .await
    .map_err(|e| match e {
        AppError::Invalid(why) => Refusal::InvalidParameter(why),
        other => Refusal::Internal(other),
    })
}

/// Whether a message for `purpose` carries a one-click link: only a sign-up's, and
/// only when the caller has a page for it.
pub fn has_link(purpose: Purpose, link_template: Option<&str>) -> bool {
    purpose == Purpose::SignUp && link_template.is_some()
}

/// Cognito's refusal of a reset for an account without a verified address.
pub const NO_VERIFIED_ADDRESS: &str =
    "Cannot reset password for the user as there is no registered/verified email or phone_number";

/// An address masked as Cognito masks it (`a***@e***`).
pub fn masked_email(email: Option<&str>) -> String {
    email
        .and_then(|e| e.split_once('@'))
        .map(|(local, domain)| {
            format!(
                "{}***@{}***",
                &local[..local.chars().next().map_or(0, char::len_utf8)],
                &domain[..domain.chars().next().map_or(0, char::len_utf8)]
            )
        })
        .unwrap_or_default()
}

/// Where a code for `purpose` may go: a password reset only to a verified address
/// (an unverified one may be anybody's, set with a stolen token), the others to the
/// address they verify.
pub fn code_destination(user: &User, purpose: Purpose) -> Option<&str> {
    let email = user.attributes.get("email").map(String::as_str);
    match purpose {
        Purpose::Reset | Purpose::Mfa => email
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
    asker: Asker<'_>,
) -> Result<(), Refusal> {
    let Some(to) = code_destination(user, purpose) else {
        return Err(Refusal::InvalidParameter(match purpose {
            Purpose::Reset => NO_VERIFIED_ADDRESS.into(),
            _ => "the user has no email address".into(),
        }));
    };
    send_code_to(app, user, purpose, to, link_template, asker).await
}

/// Issues a code for `purpose` and mails it to `to`, which the caller chose: the
/// address a pending change would set, which only the code can prove. The custom
/// message trigger runs between counting the message and issuing the code.
pub async fn send_code_to(
    app: &Services,
    user: &User,
    purpose: Purpose,
    to: &str,
    link_template: Option<&str>,
    asker: Asker<'_>,
) -> Result<(), Refusal> {
    count_message(app, user).await?;
    let custom = custom_message(app, user, asker, has_link(purpose, link_template)).await?;
    issue_and_mail(app, user, purpose, to, link_template, custom.as_ref()).await
}

/// Issues a code for `purpose` and mails it to `to` with the custom message already
/// asked for (the message was counted by the caller).
pub async fn issue_and_mail(
    app: &Services,
    user: &User,
    purpose: Purpose,
    to: &str,
    link_template: Option<&str>,
    custom: Option<&Custom>,
) -> Result<(), Refusal> {
    let issued = codes::issue(
        &app.store,
        app.keys.digests(),
        &user.user_id,
        purpose,
        to,
        app.clock.now(),
    )
    .await?;
    mail_code(app, user, purpose, to, &issued, link_template, custom).await
}

/// Counts a code message against the user's cap, before its code is issued, so a
/// refused resend leaves the previous code working.
pub async fn count_message(app: &Services, user: &User) -> Result<(), Refusal> {
    match throttle::allow_message(&app.store, &user.user_id, app.clock.now()).await? {
        Ok(()) => Ok(()),
        Err(wait) => {
            app.metrics.throttled(Throttle::Messages);
            Err(Refusal::MessageLimit(wait))
        }
    }
}

/// Mails an issued code (and its one-click link) to `to`, with a custom message
/// trigger's subject and message when given.
pub async fn mail_code(
    app: &Services,
    user: &User,
    purpose: Purpose,
    to: &str,
    issued: &codes::Issued,
    link_template: Option<&str>,
    custom: Option<&Custom>,
) -> Result<(), Refusal> {
    let now = app.clock.now();
    let link = match (link_template, &issued.link_token) {
        (Some(template), Some(token)) => Some(template.replace("{token}", token)),
        _ => None,
    };
    let kind = match purpose {
        Purpose::SignUp | Purpose::VerifyEmail => MessageKind::Verification,
        Purpose::Reset => MessageKind::Reset,
        Purpose::Mfa => MessageKind::Mfa,
    };
    let message = Outgoing {
        pool_id: &user.pool_id,
        to,
        kind,
        username: &user.username,
        code: &issued.code,
        link: link.as_deref(),
    };
    let sent = app
        .mail
        .send_custom(&app.store, &message, custom, now)
        .await;
    app.metrics.mail(message.kind.as_str(), sent.is_ok());
    sent.map_err(|e| {
        tracing::warn!(pool_id = %user.pool_id, user_id = %user.user_id, error = %e, "sending a code failed");
        Refusal::MailFailed
    })
}

/// Counts a request for a code to `username` against the message cap, for every name
/// alike, so the cap does not tell real from unknown names.
pub async fn count_code_request(
    app: &Services,
    pool_id: &str,
    username: &str,
) -> Result<(), Refusal> {
    match throttle::allow_code_request(&app.store, pool_id, username, app.clock.now()).await? {
        Ok(()) => Ok(()),
        Err(wait) => {
            app.metrics.throttled(Throttle::Messages);
            Err(Refusal::MessageLimit(wait))
        }
    }
}

/// The least time an answer that may or may not send a code takes.
const CODE_ANSWER_TIME: std::time::Duration = std::time::Duration::from_millis(100);

/// Runs `work`, then waits out the rest of [`CODE_ANSWER_TIME`], so writing and
/// sending a code (for an existing account) and doing nothing (for an unknown one)
/// take the same time. A mail server slower than that still shows; the answer itself
/// never differs.
pub async fn in_equal_time<T>(work: impl std::future::Future<Output = T>) -> T {
    let deadline = tokio::time::Instant::now() + CODE_ANSWER_TIME;
    let out = work.await;
    tokio::time::sleep_until(deadline).await;
    out
}

/// Restarts the stand-in code of a name that is sent no code.
pub async fn stand_in(
    app: &Services,
    pool_id: &str,
    username: &str,
    purpose: Purpose,
) -> Result<(), Refusal> {
    Ok(codes::issue_stand_in(&app.store, pool_id, username, purpose, app.clock.now()).await?)
}
