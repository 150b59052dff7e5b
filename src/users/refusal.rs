//! Why an account operation did not happen: one set of outcomes, which each surface
//! words its own way.

use super::codes::CodeError;
use super::schema::AttributeRefusal;
use crate::error::AppError;

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
    /// The new password repeats one of the pool's `PasswordHistorySize` last ones.
    #[error("the password was used before")]
    PasswordReused,
    /// A temporary password older than the pool's `TemporaryPasswordValidityDays`.
    #[error("the temporary password has expired")]
    TemporaryPasswordExpired,
    /// The pool lets only administrators reset passwords (`admin_only` recovery).
    #[error("only an administrator can reset the password")]
    RecoveryByAdminOnly,
    #[error("{0}")]
    InvalidParameter(String),
    /// An attribute the writer may not set (undeclared, immutable, not the client's).
    #[error(transparent)]
    Attribute(#[from] AttributeRefusal),
    #[error("invalid verification code")]
    CodeMismatch,
    #[error("the code has expired")]
    ExpiredCode,
    /// A right authenticator code that was accepted once already.
    #[error("the code was used already")]
    CodeUsed,
    /// The pool requires a second factor and the user has none it can use or set up.
    #[error("{0}")]
    MfaUnavailable(String),
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

impl Refusal {
    /// The auth event's failure reason for this refusal (a name, never the message,
    /// which may quote input).
    pub fn event_reason(&self) -> crate::events::Reason {
        use crate::events::Reason;
        match self {
            Refusal::BadCredentials => Reason::BadCredentials,
            Refusal::Throttled(_) => Reason::Throttled,
            Refusal::NotConfirmed => Reason::NotConfirmed,
            Refusal::Disabled => Reason::Disabled,
            Refusal::ResetRequired => Reason::ResetRequired,
            Refusal::UsernameExists => Reason::UsernameExists,
            Refusal::InvalidPassword(_) => Reason::InvalidPassword,
            Refusal::PasswordReused => Reason::PasswordReused,
            Refusal::TemporaryPasswordExpired => Reason::TemporaryPasswordExpired,
            Refusal::RecoveryByAdminOnly => Reason::NotAuthorized,
            Refusal::InvalidParameter(_) | Refusal::Attribute(_) => Reason::InvalidParameter,
            Refusal::CodeMismatch => Reason::CodeMismatch,
            Refusal::ExpiredCode | Refusal::CodeUsed => Reason::ExpiredCode,
            Refusal::MfaUnavailable(_) => Reason::MfaUnavailable,
            Refusal::TooManyAttempts | Refusal::MessageLimit(_) => Reason::TooManyAttempts,
            Refusal::MailFailed => Reason::DeliveryFailed,
            Refusal::Internal(_) => Reason::Internal,
        }
    }
}
