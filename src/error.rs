//! The application error and the OAuth JSON wire format (RFC 6749 §5.2); browsers' HTML
//! error page is the hosted pages' (`hosted_ui::pages`). 500 details are logged once,
//! here, and never sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::store::StoreError;

/// Errors above the store.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Invalid(String),
    #[error("not authorized")]
    NotAuthorized,
    #[error("already exists: {0}")]
    Conflict(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    /// A trigger stopped the operation (Cognito's `*LambdaException`s).
    #[error(transparent)]
    Trigger(#[from] TriggerError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Why a trigger stopped an operation, in Cognito's three kinds; each surface words
/// them (the API by [`TriggerError::exception`], the hosted pages by the message).
#[derive(Debug, Clone, thiserror::Error)]
pub enum TriggerError {
    /// The function refused: a Lambda error (`errorMessage`) or a webhook's 4xx/5xx
    /// answer. Its message is the function's own.
    #[error("{trigger} failed with error {message}.")]
    Validation {
        trigger: &'static str,
        message: String,
    },
    /// The target could not be reached, timed out, or is not allowed.
    #[error("{trigger} invocation failed due to error {reason}.")]
    Unexpected {
        trigger: &'static str,
        reason: String,
    },
    /// The target answered something that is not the event Cognito expects back.
    #[error("Unrecognizable lambda output")]
    InvalidResponse {
        trigger: &'static str,
        reason: String,
    },
}

impl TriggerError {
    /// Cognito's exception name.
    pub fn exception(&self) -> &'static str {
        match self {
            TriggerError::Validation { .. } => "UserLambdaValidationException",
            TriggerError::Unexpected { .. } => "UnexpectedLambdaException",
            TriggerError::InvalidResponse { .. } => "InvalidLambdaResponseException",
        }
    }

    /// The outcome as the trigger log and `/metrics` name it.
    pub fn outcome(&self) -> &'static str {
        match self {
            TriggerError::Validation { .. } => "refused",
            TriggerError::Unexpected { .. } => "unreachable",
            TriggerError::InvalidResponse { .. } => "invalid_response",
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => AppError::Conflict("a resource with that name"),
            other => AppError::Internal(other.into()),
        }
    }
}

impl AppError {
    /// True when the database is unavailable for a while (see
    /// [`StoreError::is_transient`]): the request may be retried, and nothing it asked
    /// for was granted.
    pub fn is_transient(&self) -> bool {
        let AppError::Internal(e) = self else {
            return false;
        };
        e.chain().any(|cause| {
            cause
                .downcast_ref::<StoreError>()
                .is_some_and(StoreError::is_transient)
                || cause
                    .downcast_ref::<sqlx::Error>()
                    .is_some_and(crate::store::is_transient)
                || cause.is::<crate::store::sessions::StoreUnavailable>()
        })
    }

    pub fn status(&self) -> StatusCode {
        if self.is_transient() {
            return StatusCode::SERVICE_UNAVAILABLE;
        }
        match self {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Invalid(_) => StatusCode::BAD_REQUEST,
            AppError::NotAuthorized => StatusCode::UNAUTHORIZED,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Trigger(_) => StatusCode::BAD_REQUEST,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message a user may see; internal details are logged instead.
    pub fn public_message(&self) -> String {
        match self {
            AppError::Internal(e) if self.is_transient() => {
                tracing::warn!(error = %format!("{e:#}"), "database unavailable");
                "The service is busy. Please try again in a moment.".into()
            }
            AppError::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "internal error");
                "Something went wrong on our side. Please try again.".into()
            }
            other => other.to_string(),
        }
    }
}

/// Seconds a client should wait after a 503 (the database was unavailable).
pub const RETRY_AFTER_SECONDS: u32 = 1;

/// Adds `Retry-After` to a 503.
pub fn retry_after(res: &mut Response) {
    if res.status() == StatusCode::SERVICE_UNAVAILABLE {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
    }
}

/// An OAuth error response (RFC 6749 §5.2; RFC 6750 §3 for bearer tokens).
#[derive(Debug)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
}

impl OAuthError {
    pub fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: description.into(),
        }
    }
    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", d)
    }
    pub fn invalid_client(d: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_client", d)
    }
    pub fn invalid_grant(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", d)
    }
    pub fn invalid_scope(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_scope", d)
    }
    pub fn unauthorized_client(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "unauthorized_client", d)
    }
    pub fn unsupported_grant_type(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "unsupported_grant_type", d)
    }
    pub fn invalid_token(d: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_token", d)
    }
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request",
            "unknown user pool",
        )
    }
}

impl From<AppError> for OAuthError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Internal(_) if e.is_transient() => {
                let description = e.public_message();
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    description,
                )
            }
            AppError::Internal(_) => {
                let description = e.public_message();
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    description,
                )
            }
            other => Self::invalid_request(other.to_string()),
        }
    }
}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        AppError::from(e).into()
    }
}

impl From<anyhow::Error> for OAuthError {
    fn from(e: anyhow::Error) -> Self {
        AppError::from(e).into()
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body =
            serde_json::json!({ "error": self.error, "error_description": self.description });
        let mut res = (self.status, axum::Json(body)).into_response();
        let h = res.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        match self.error {
            "invalid_client" => {
                h.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"cognate\""),
                );
            }
            "invalid_token" => {
                h.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_token\""),
                );
            }
            _ => {}
        }
        retry_after(&mut res);
        res
    }
}
