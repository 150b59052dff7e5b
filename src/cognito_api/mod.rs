//! The Cognito JSON API: `POST /` with `X-Amz-Target:
//! AWSCognitoIdentityProviderService.<Action>` and an AWS JSON 1.1 body, shaped as
//! botocore's `cognito-idp` service model, so boto3, the AWS CLI, Amplify and pycognito
//! work unchanged with an `endpoint_url`. Actions the model marks as unauthenticated
//! (sign-in, sign-up, a user's own account) are open, as on AWS; every other action
//! needs an AWS Signature V4 from a configured key.

mod account;
mod admin_users;
mod auth;
mod auth_events;
mod fields;
mod import_jobs;
pub(crate) mod list_users;
mod management;
mod mfa;
mod paging;
mod resource_servers;
mod shapes;

use std::net::IpAddr;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::client_addr::ClientAddr;
use crate::error::AppError;
use crate::state::{AppState, Inner};
use crate::store::StoreError;
use crate::users::Refusal;
use crate::users::schema::AttributeRefusal;

/// The target prefix of every action.
const TARGET_PREFIX: &str = "AWSCognitoIdentityProviderService.";

/// Actions botocore's model marks as needing no signature (`authtype: none`).
pub const PUBLIC_ACTIONS: &[&str] = &[
    "AssociateSoftwareToken",
    "ChangePassword",
    "ConfirmForgotPassword",
    "ConfirmDevice",
    "ConfirmSignUp",
    "DeleteUser",
    "DeleteUserAttributes",
    "ForgetDevice",
    "ForgotPassword",
    "GetDevice",
    "GetUser",
    "GetTokensFromRefreshToken",
    "GetUserAttributeVerificationCode",
    "GetUserAuthFactors",
    "GlobalSignOut",
    "InitiateAuth",
    "ListDevices",
    "ResendConfirmationCode",
    "RespondToAuthChallenge",
    "RevokeToken",
    "SetUserMFAPreference",
    "SignUp",
    "UpdateDeviceStatus",
    "UpdateUserAttributes",
    "VerifySoftwareToken",
    "VerifyUserAttribute",
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", post(dispatch))
        .merge(import_jobs::routes())
}

/// An AWS JSON error: `{"__type": "...", "message": "..."}`, which SDKs raise as the
/// typed exception of that name.
#[derive(Debug)]
pub struct CognitoError {
    pub kind: &'static str,
    pub message: String,
    /// Seconds to wait (throttling), sent as `Retry-After`.
    pub retry_after: Option<i64>,
}

impl CognitoError {
    pub fn new(kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            retry_after: None,
        }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new("InvalidParameterException", message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new("ResourceNotFoundException", message)
    }
    pub fn not_authorized(message: impl Into<String>) -> Self {
        Self::new("NotAuthorizedException", message)
    }
    pub fn user_not_found() -> Self {
        Self::new("UserNotFoundException", "User does not exist.")
    }
}

/// Cognito's exception for each account-rule refusal.
pub fn refusal_error(refusal: Refusal) -> CognitoError {
    match refusal {
        Refusal::BadCredentials => CognitoError::not_authorized("Incorrect username or password."),
        Refusal::Throttled(wait) => CognitoError {
            retry_after: Some(wait),
            ..CognitoError::new(
                "TooManyRequestsException",
                format!("Too many failed attempts. Try again in {wait} seconds."),
            )
        },
        Refusal::NotConfirmed => {
            CognitoError::new("UserNotConfirmedException", "User is not confirmed.")
        }
        Refusal::Disabled => CognitoError::not_authorized("User is disabled."),
        Refusal::ResetRequired => CognitoError::new(
            "PasswordResetRequiredException",
            "Password reset required for the user",
        ),
        Refusal::UsernameExists => {
            CognitoError::new("UsernameExistsException", "User already exists")
        }
        Refusal::InvalidPassword(m) => CognitoError::new("InvalidPasswordException", m),
        Refusal::PasswordReused => password_reused(),
        Refusal::TemporaryPasswordExpired => CognitoError::not_authorized(
            "Temporary password has expired and must be reset by an administrator.",
        ),
        Refusal::RecoveryByAdminOnly => {
            CognitoError::not_authorized("Contact administrator to reset password.")
        }
        Refusal::InvalidParameter(m) => CognitoError::invalid(m),
        Refusal::Attribute(e) => attribute_error(&e),
        Refusal::CodeMismatch => CognitoError::new(
            "CodeMismatchException",
            "Invalid verification code provided, please try again.",
        ),
        Refusal::ExpiredCode => CognitoError::new(
            "ExpiredCodeException",
            "Invalid code provided, please request a code again.",
        ),
        Refusal::CodeUsed => CognitoError::new(
            "ExpiredCodeException",
            "Your software token has already been used once.",
        ),
        Refusal::MfaUnavailable(m) => CognitoError::new("InvalidUserPoolConfigurationException", m),
        Refusal::TooManyAttempts => CognitoError::new(
            "LimitExceededException",
            "Attempt limit exceeded, please try after some time.",
        ),
        Refusal::MessageLimit(wait) => CognitoError {
            retry_after: Some(wait),
            ..CognitoError::new(
                "LimitExceededException",
                "Attempt limit exceeded, please try after some time.",
            )
        },
        Refusal::MailFailed => CognitoError::new(
            "CodeDeliveryFailureException",
            "The message could not be sent; try again.",
        ),
        Refusal::Internal(e) => e.into(),
    }
}

/// A new password that repeats a recent one (`PasswordHistorySize`).
pub fn password_reused() -> CognitoError {
    CognitoError::new(
        "PasswordHistoryPolicyViolationException",
        "Password has previously been used.",
    )
}

/// An attribute write refused, in Cognito's words and exceptions.
pub fn attribute_error(refusal: &AttributeRefusal) -> CognitoError {
    match refusal {
        AttributeRefusal::NotWritable(_) => {
            CognitoError::not_authorized("A client attempted to write unauthorized attribute")
        }
        AttributeRefusal::Immutable(name) => CognitoError::invalid(format!(
            "Invalid user attributes: {name}: Attribute cannot be updated. (changing an immutable attribute)"
        )),
        AttributeRefusal::Undeclared(name) => CognitoError::invalid(format!(
            "Attributes did not conform to the schema: Type for attribute {{{name}}} could not be determined"
        )),
        AttributeRefusal::OutOfBounds(name, why) => CognitoError::invalid(format!(
            "Invalid user attributes: {name}: the value is {why}."
        )),
    }
}

impl From<AppError> for CognitoError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound("user") => Self::user_not_found(),
            AppError::NotFound(what) => Self::not_found(format!("{what} not found")),
            AppError::Invalid(m) => Self::invalid(m),
            AppError::NotAuthorized => Self::not_authorized("Not authorized."),
            AppError::Conflict(what) => Self::invalid(format!("{what} already exists")),
            AppError::Forbidden(m) => Self::not_authorized(m),
            AppError::Trigger(t) => Self::new(t.exception(), t.to_string()),
            // AWS's retryable 500; `Retry-After` when the database was unavailable.
            AppError::Internal(_) => Self {
                retry_after: e
                    .is_transient()
                    .then_some(crate::error::RETRY_AFTER_SECONDS.into()),
                ..Self::new("InternalErrorException", e.public_message())
            },
        }
    }
}

impl From<StoreError> for CognitoError {
    fn from(e: StoreError) -> Self {
        AppError::from(e).into()
    }
}

impl From<anyhow::Error> for CognitoError {
    fn from(e: anyhow::Error) -> Self {
        AppError::from(e).into()
    }
}

impl IntoResponse for CognitoError {
    fn into_response(self) -> Response {
        let status = if self.kind == "InternalErrorException" {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::BAD_REQUEST
        };
        let body = serde_json::json!({ "__type": self.kind, "message": self.message });
        let mut res = (status, body.to_string()).into_response();
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-amz-json-1.1"),
        );
        h.insert("x-amzn-errortype", HeaderValue::from_static(self.kind));
        if let Some(wait) = self.retry_after {
            h.insert(header::RETRY_AFTER, HeaderValue::from(wait.max(1)));
        }
        res
    }
}

/// Parses an action's request into its typed shape.
pub fn parse<T: DeserializeOwned>(body: &Value) -> Result<T, CognitoError> {
    serde_json::from_value(body.clone())
        .map_err(|e| CognitoError::invalid(format!("1 validation error detected: {e}")))
}

/// What an action answers.
pub type ActionResult = Result<Value, CognitoError>;

async fn dispatch(
    State(app): State<AppState>,
    ClientAddr(addr): ClientAddr,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    // Answers carry tokens, sessions and user attributes: never cached (finding PR-10).
    crate::oauth::token::no_store(answer(&app, addr, &uri, &headers, body).await)
}

async fn answer(
    app: &AppState,
    addr: Option<IpAddr>,
    uri: &Uri,
    headers: &HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(e) => {
            let mut res = CognitoError::new(
                "SerializationException",
                "The request body could not be read (at most 64 KiB).",
            )
            .into_response();
            *res.status_mut() = e.status();
            return res;
        }
    };
    match handle(app, addr, uri, headers, &body).await {
        Ok(value) => {
            let mut res = value.to_string().into_response();
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-amz-json-1.1"),
            );
            res
        }
        Err(e) => e.into_response(),
    }
}

async fn handle(
    app: &AppState,
    addr: Option<IpAddr>,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> ActionResult {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            CognitoError::new("UnknownOperationException", "Missing X-Amz-Target header.")
        })?;
    let action = target.strip_prefix(TARGET_PREFIX).ok_or_else(|| {
        CognitoError::new(
            "UnknownOperationException",
            format!("Unknown target {target:?}."),
        )
    })?;
    if !is_json(headers) {
        return Err(CognitoError::new(
            "SerializationException",
            "The Content-Type must be application/x-amz-json-1.1.",
        ));
    }
    let caller = match PUBLIC_ACTIONS.contains(&action) {
        true => None,
        false => Some(authenticate(app, uri, headers, body)?),
    };
    let request: Value = if body.is_empty() {
        Value::Object(Default::default())
    } else {
        serde_json::from_slice(body).map_err(|_| {
            CognitoError::new(
                "SerializationException",
                "The request body is not valid JSON.",
            )
        })?
    };
    if !request.is_object() {
        return Err(CognitoError::new(
            "SerializationException",
            "The request body must be a JSON object.",
        ));
    }
    let result = run(app, addr, action, &request).await;
    if let Some(access_key_id) = caller
        && let Some(action) = fields::known_action(action)
        && changes_something(action)
    {
        record_admin_change(app, access_key_id, action, &request, &result);
    }
    result
}

/// Whether a signed action may change something (everything but reads): those are
/// recorded as admin changes. An administrator's sign-in for a user is the user's
/// sign-in, recorded as such by the flow.
fn changes_something(action: &str) -> bool {
    const READS: [&str; 5] = ["Describe", "List", "Get", "AdminGet", "AdminList"];
    const SIGN_INS: [&str; 2] = ["AdminInitiateAuth", "AdminRespondToAuthChallenge"];
    !READS.iter().any(|prefix| action.starts_with(prefix)) && !SIGN_INS.contains(&action)
}

/// Records an admin change: which key ran which action on which object (the request's
/// identifying member: user name, client id, group, provider…), and whether it passed.
/// Only identifier members are read, never a password or secret.
fn record_admin_change(
    app: &AppState,
    access_key_id: String,
    action: &'static str,
    request: &Value,
    result: &ActionResult,
) {
    const TARGETS: [&str; 8] = [
        "Username",
        "ClientId",
        "GroupName",
        "ProviderName",
        "Identifier",
        "Domain",
        "ClientName",
        "PoolName",
    ];
    let member = |name: &str| request.get(name).and_then(Value::as_str);
    let target = TARGETS.iter().find_map(|name| member(name));
    let mut event = crate::events::Event::admin(
        crate::events::Actor::ApiKey(access_key_id),
        action,
        member("UserPoolId"),
        target,
    );
    if let Err(e) = result {
        event = event.failed(match e.kind {
            "ResourceNotFoundException" | "UserNotFoundException" => {
                crate::events::Reason::NotFound
            }
            "InternalErrorException" => crate::events::Reason::Internal,
            _ => crate::events::Reason::InvalidParameter,
        });
    }
    app.record(event);
}

/// Whether the body is declared as AWS JSON (1.1 as the SDKs send, 1.0, or plain JSON).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            let v = v.trim();
            [
                "application/x-amz-json-1.1",
                "application/x-amz-json-1.0",
                "application/json",
            ]
            .iter()
            .any(|t| v.eq_ignore_ascii_case(t))
        })
}

/// Checks the caller's Signature V4 for the actions that need one.
/// The caller's access key id.
fn authenticate(
    app: &Inner,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<String, CognitoError> {
    let query = uri.query().unwrap_or_default();
    match app
        .api_auth
        .verify("POST", uri.path(), query, headers, body, app.clock.now())
    {
        Ok(caller) => {
            tracing::debug!(access_key_id = %caller.access_key_id, "signed API call");
            Ok(caller.access_key_id.to_string())
        }
        Err(e) => {
            let (kind, message) = e.aws_error();
            Err(CognitoError::new(kind, message))
        }
    }
}

/// Runs one action; `addr` (the caller's address) counts failed sign-ins. Members the
/// action does not take are refused first ([`fields`]), so nothing changes.
async fn run(app: &AppState, addr: Option<IpAddr>, action: &str, request: &Value) -> ActionResult {
    let Value::Object(members) = request else {
        return Err(CognitoError::new(
            "SerializationException",
            "The request body must be a JSON object.",
        ));
    };
    fields::check(action, members)?;
    if let Some(result) = auth::run(app, addr, action, request).await {
        return result;
    }
    if let Some(result) = account::run(app, action, request).await {
        return result;
    }
    if let Some(result) = mfa::run(app, action, request).await {
        return result;
    }
    if let Some(result) = management::run(app, action, request).await {
        return result;
    }
    if let Some(result) = admin_users::run(app, action, request).await {
        return result;
    }
    if let Some(result) = resource_servers::run(app, action, request).await {
        return result;
    }
    if let Some(result) = import_jobs::run(app, action, request).await {
        return result;
    }
    if let Some(result) = auth_events::run(app, action, request).await {
        return result;
    }
    Err(fields::not_implemented(action))
}
