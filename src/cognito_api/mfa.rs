//! A user's second factors through the API: `AssociateSoftwareToken` and
//! `VerifySoftwareToken` (with an access token, or with the session of a sign-in's
//! `MFA_SETUP` challenge), `SetUserMFAPreference` and `AdminSetUserMFAPreference`,
//! `AdminDeleteSoftwareToken`, `GetUserAuthFactors` and `AdminGetUserAuthFactors`. The
//! rules are `flows::mfa`'s.

use serde::Deserialize;
use serde_json::{Value, json};

use super::account::user_of_token;
use super::auth::{MFA_SETUP, MFA_SETUP_VERIFIED, client_for, open_session, seal_session};
use super::{ActionResult, CognitoError, parse, refusal_error};
use crate::clients::AppClient;
use crate::flows::mfa::{self as mfa_flow, Preference};
use crate::state::Inner;
use crate::users::mfa::{self, Factors};
use crate::users::{User, admin};

pub async fn run(app: &Inner, action: &str, request: &Value) -> Option<ActionResult> {
    Some(match action {
        "AssociateSoftwareToken" => associate_software_token(app, request).await,
        "VerifySoftwareToken" => verify_software_token(app, request).await,
        "SetUserMFAPreference" => set_user_mfa_preference(app, request).await,
        "AdminSetUserMFAPreference" => admin_set_user_mfa_preference(app, request).await,
        "AdminDeleteSoftwareToken" => admin_delete_software_token(app, request).await,
        "GetUserAuthFactors" => get_user_auth_factors(app, request).await,
        "AdminGetUserAuthFactors" => admin_get_user_auth_factors(app, request).await,
        _ => return None,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SoftwareTokenRequest {
    access_token: Option<String>,
    session: Option<String>,
    user_code: Option<String>,
}

/// Who sets up an authenticator: the holder of an access token, or a sign-in in its
/// `MFA_SETUP` challenge (the session also names the app client).
enum Enroller {
    Token(User),
    Setup {
        user: User,
        client: Box<AppClient>,
        challenged_at: i64,
    },
}

/// The enroller a request names by exactly one of `AccessToken` and `Session`. A
/// session must be an `MFA_SETUP` challenge's, for a user who still has no factor on:
/// the password alone never replaces an authenticator in use.
async fn enroller(
    app: &Inner,
    r: &SoftwareTokenRequest,
    step: &str,
) -> Result<Enroller, CognitoError> {
    match (&r.access_token, &r.session) {
        (Some(token), None) => Ok(Enroller::Token(user_of_token(app, token).await?.user)),
        (None, Some(session)) => {
            let client_id = super::auth::session_client_id(app, session).ok_or_else(|| {
                CognitoError::not_authorized("Invalid session for the user, session is expired.")
            })?;
            let client = client_for(app, &client_id, None).await?;
            let (user, challenged_at) = open_session(app, &client, session, step).await?;
            if !mfa_flow::may_set_up(app, &user)
                .await
                .map_err(refusal_error)?
            {
                return Err(CognitoError::not_authorized(
                    "Invalid session for the user.",
                ));
            }
            Ok(Enroller::Setup {
                user,
                client: Box::new(client),
                challenged_at,
            })
        }
        _ => Err(CognitoError::invalid(
            "Exactly one of AccessToken and Session is required.",
        )),
    }
}

async fn associate_software_token(app: &Inner, request: &Value) -> ActionResult {
    let r: SoftwareTokenRequest = parse(request)?;
    match enroller(app, &r, MFA_SETUP).await? {
        Enroller::Token(user) => {
            let secret = mfa::associate(app, &user).await?;
            Ok(json!({ "SecretCode": secret }))
        }
        Enroller::Setup { user, client, .. } => {
            let secret = mfa::associate(app, &user).await?;
            Ok(json!({
                "SecretCode": secret,
                "Session": seal_session(app, &client, &user, MFA_SETUP),
            }))
        }
    }
}

/// Cognito's refusal of a wrong first code.
fn enable_failed(e: CognitoError) -> CognitoError {
    if e.kind == "CodeMismatchException" {
        CognitoError::new(
            "EnableSoftwareTokenMFAException",
            "Code mismatch and fail enable Software Token MFA",
        )
    } else {
        e
    }
}

async fn verify_software_token(app: &Inner, request: &Value) -> ActionResult {
    let r: SoftwareTokenRequest = parse(request)?;
    let code = r
        .user_code
        .clone()
        .ok_or_else(|| CognitoError::invalid("Missing required parameter UserCode"))?;
    match enroller(app, &r, MFA_SETUP).await? {
        Enroller::Token(user) => {
            mfa_flow::verify_software_token(app, &user, &code, false)
                .await
                .map_err(|e| enable_failed(refusal_error(e)))?;
            Ok(json!({ "Status": "SUCCESS" }))
        }
        Enroller::Setup {
            user,
            client,
            challenged_at,
        } => {
            if user.credential_version != challenged_at {
                return Err(CognitoError::not_authorized(
                    "Invalid session for the user, session is expired.",
                ));
            }
            mfa_flow::verify_software_token(app, &user, &code, true)
                .await
                .map_err(|e| enable_failed(refusal_error(e)))?;
            Ok(json!({
                "Status": "SUCCESS",
                "Session": seal_session(app, &client, &user, MFA_SETUP_VERIFIED),
            }))
        }
    }
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "PascalCase")]
struct MfaSettings {
    enabled: Option<bool>,
    preferred_mfa: Option<bool>,
}

impl From<Option<MfaSettings>> for Preference {
    fn from(s: Option<MfaSettings>) -> Self {
        let s = s.unwrap_or_default();
        Preference {
            enabled: s.enabled,
            preferred: s.preferred_mfa,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PreferenceRequest {
    access_token: Option<String>,
    user_pool_id: Option<String>,
    username: Option<String>,
    #[serde(rename = "SMSMfaSettings")]
    sms_mfa_settings: Option<MfaSettings>,
    software_token_mfa_settings: Option<MfaSettings>,
    email_mfa_settings: Option<MfaSettings>,
}

async fn set_preference(app: &Inner, user: &User, r: &PreferenceRequest) -> ActionResult {
    if r.sms_mfa_settings
        .is_some_and(|s| s.enabled == Some(true) || s.preferred_mfa == Some(true))
    {
        return Err(CognitoError::invalid(
            "SMS MFA is not supported by cognate (it sends no SMS): use SOFTWARE_TOKEN_MFA or EMAIL_OTP.",
        ));
    }
    mfa_flow::set_preference(
        app,
        user,
        r.software_token_mfa_settings.into(),
        r.email_mfa_settings.into(),
    )
    .await
    .map_err(refusal_error)?;
    Ok(json!({}))
}

async fn set_user_mfa_preference(app: &Inner, request: &Value) -> ActionResult {
    let r: PreferenceRequest = parse(request)?;
    let token = r
        .access_token
        .as_deref()
        .ok_or_else(|| CognitoError::invalid("Missing required parameter AccessToken"))?;
    let user = user_of_token(app, token).await?.user;
    set_preference(app, &user, &r).await
}

/// The user an admin request names (`UserPoolId`, `Username`).
async fn named_user(
    app: &Inner,
    pool_id: Option<&str>,
    username: Option<&str>,
) -> Result<User, CognitoError> {
    let pool_id =
        pool_id.ok_or_else(|| CognitoError::invalid("Missing required parameter UserPoolId"))?;
    let username =
        username.ok_or_else(|| CognitoError::invalid("Missing required parameter Username"))?;
    let pool =
        app.store.pool_by_id(pool_id).await?.ok_or_else(|| {
            CognitoError::not_found(format!("User pool {pool_id} does not exist."))
        })?;
    Ok(admin::user(app, &pool, username).await?)
}

async fn admin_set_user_mfa_preference(app: &Inner, request: &Value) -> ActionResult {
    let r: PreferenceRequest = parse(request)?;
    let user = named_user(app, r.user_pool_id.as_deref(), r.username.as_deref()).await?;
    set_preference(app, &user, &r).await
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminUserRequest {
    user_pool_id: Option<String>,
    username: Option<String>,
}

/// `AdminDeleteSoftwareToken`: the user lost the authenticator; they set up a new one.
async fn admin_delete_software_token(app: &Inner, request: &Value) -> ActionResult {
    let r: AdminUserRequest = parse(request)?;
    let user = named_user(app, r.user_pool_id.as_deref(), r.username.as_deref()).await?;
    mfa::delete_software_token(app, &user).await?;
    Ok(json!({}))
}

/// `UserMFASettingList` and `PreferredMfaSetting`, each only when set, as Cognito
/// leaves them out (for `GetUser`, `AdminGetUser` and the auth-factor actions).
pub(super) fn mfa_fields(factors: &Factors, out: &mut Value) {
    let on: Vec<&str> = factors.enabled().into_iter().map(|f| f.as_str()).collect();
    if !on.is_empty() {
        out["UserMFASettingList"] = json!(on);
    }
    if let Some(preferred) = factors.preferred() {
        out["PreferredMfaSetting"] = json!(preferred.as_str());
    }
}

async fn auth_factors(app: &Inner, user: &User) -> ActionResult {
    let factors = mfa::factors(app, user).await?;
    let mut configured = Vec::new();
    if user.password_hash.is_some() {
        configured.push("PASSWORD");
    }
    if factors.enabled().contains(&mfa::Factor::Email) {
        configured.push("EMAIL_OTP");
    }
    let mut out = json!({ "Username": user.username, "ConfiguredUserAuthFactors": configured });
    mfa_fields(&factors, &mut out);
    Ok(out)
}

async fn get_user_auth_factors(app: &Inner, request: &Value) -> ActionResult {
    let r: SoftwareTokenRequest = parse(request)?;
    let token = r
        .access_token
        .as_deref()
        .ok_or_else(|| CognitoError::invalid("Missing required parameter AccessToken"))?;
    let user = user_of_token(app, token).await?.user;
    auth_factors(app, &user).await
}

async fn admin_get_user_auth_factors(app: &Inner, request: &Value) -> ActionResult {
    let r: AdminUserRequest = parse(request)?;
    let user = named_user(app, r.user_pool_id.as_deref(), r.username.as_deref()).await?;
    auth_factors(app, &user).await
}
