//! Codes sent by mail (sign-up, password reset, address verification): where each may
//! go, the caps on how many, answering in equal time, and the mail itself.

use super::codes::{self, Purpose};
use super::{Refusal, User};
use crate::mail::{MessageKind, Outgoing};
use crate::services::Services;
use crate::throttle;

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
    send_code_to(app, user, purpose, to, link_template).await
}

/// Issues a code for `purpose` and mails it to `to`, which the caller chose: the
/// address a pending change would set, which only the code can prove.
pub async fn send_code_to(
    app: &Services,
    user: &User,
    purpose: Purpose,
    to: &str,
    link_template: Option<&str>,
) -> Result<(), Refusal> {
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
pub async fn count_message(app: &Services, user: &User) -> Result<(), Refusal> {
    match throttle::allow_message(&app.store, &user.user_id, app.clock.now()).await? {
        Ok(()) => Ok(()),
        Err(wait) => Err(Refusal::MessageLimit(wait)),
    }
}

/// Mails an issued code (and its one-click link) to `to`.
pub async fn mail_code(
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

/// Counts a request for a code to `username` against the message cap, for every name
/// alike, so the cap does not tell real from unknown names.
pub async fn count_code_request(
    app: &Services,
    pool_id: &str,
    username: &str,
) -> Result<(), Refusal> {
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
