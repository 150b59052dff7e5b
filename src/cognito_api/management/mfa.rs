//! `SetUserPoolMfaConfig` and `GetUserPoolMfaConfig`. MFA is not available yet, so
//! `MfaConfiguration` is `OFF` and stays so: `ON` and `OPTIONAL`, and any factor
//! setting that would turn a factor on, are refused with `InvalidParameterException`.
//! The factor blocks that turn nothing on (software tokens `Enabled: false`, WebAuthn's
//! relying party, the email-MFA message) are kept as sent and reported back, each only
//! when set, as Cognito reports them.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{existing_pool, not_found_as, pool_not_found};
use crate::cognito_api::{ActionResult, CognitoError, parse};
use crate::pool::{self, PoolSettings};
use crate::state::Inner;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SetUserPoolMfaConfigRequest {
    user_pool_id: String,
    mfa_configuration: Option<String>,
    software_token_mfa_configuration: Option<SoftwareTokenMfaConfig>,
    sms_mfa_configuration: Option<SmsMfaConfig>,
    email_mfa_configuration: Option<EmailMfaConfig>,
    web_authn_configuration: Option<WebAuthnConfiguration>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct SoftwareTokenMfaConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    enabled: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct SmsMfaConfig {
    sms_authentication_message: Option<String>,
    /// Only an empty one gets here (`fields.json` refuses any other).
    #[serde(rename = "SmsConfiguration")]
    _sms_configuration: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct EmailMfaConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<String>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct WebAuthnConfiguration {
    #[serde(skip_serializing_if = "Option::is_none")]
    relying_party_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_verification: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    factor_configuration: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UserPoolIdRequest {
    user_pool_id: String,
}

/// MFA is a later issue; until then nothing may turn it on.
fn not_yet(what: &str) -> CognitoError {
    CognitoError::invalid(format!(
        "{what} is not supported yet: MFA is not available, so MfaConfiguration must be OFF."
    ))
}

fn as_sent(value: &impl Serialize) -> Result<Value, CognitoError> {
    serde_json::to_value(value).map_err(|e| CognitoError::from(anyhow::anyhow!("{e}")))
}

/// The answer both actions give: `OFF`, and each factor block that is set.
fn mfa_config(s: &PoolSettings) -> Value {
    let r = &s.reported;
    let mut v = json!({ "MfaConfiguration": "OFF" });
    for (key, value) in [
        (
            "SoftwareTokenMfaConfiguration",
            &r.software_token_mfa_configuration,
        ),
        ("WebAuthnConfiguration", &r.web_authn_configuration),
        ("EmailMfaConfiguration", &r.email_mfa_configuration),
    ] {
        if let Some(value) = value {
            v[key] = value.clone();
        }
    }
    if let Some(message) = &r.sms_authentication_message {
        v["SmsMfaConfiguration"] = json!({ "SmsAuthenticationMessage": message });
    }
    v
}

pub(super) async fn set_user_pool_mfa_config(app: &Inner, request: &Value) -> ActionResult {
    let req: SetUserPoolMfaConfigRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    match req.mfa_configuration.as_deref() {
        None | Some("OFF") => {}
        Some(other) => return Err(not_yet(&format!("MfaConfiguration {other:?}"))),
    }
    if req
        .software_token_mfa_configuration
        .as_ref()
        .is_some_and(|c| c.enabled == Some(true))
    {
        return Err(not_yet("SoftwareTokenMfaConfiguration Enabled true"));
    }
    let mut sms_message = None;
    // SmsMfaConfiguration.SmsConfiguration is refused with the other fields cognate
    // does not take (`fields.json`).
    if let Some(sms) = &req.sms_mfa_configuration {
        sms_message = sms
            .sms_authentication_message
            .clone()
            .filter(|m| !m.is_empty());
    }
    if let Some(w) = &req.web_authn_configuration
        && !matches!(
            w.user_verification.as_deref(),
            None | Some("required" | "preferred")
        )
    {
        return Err(CognitoError::invalid(
            "WebAuthnConfiguration UserVerification must be required or preferred.",
        ));
    }
    // Like Cognito's, the action sets each factor block: one not sent is cleared.
    let software = req
        .software_token_mfa_configuration
        .as_ref()
        .map(as_sent)
        .transpose()?;
    let web_authn = req
        .web_authn_configuration
        .as_ref()
        .map(as_sent)
        .transpose()?;
    let email = req
        .email_mfa_configuration
        .as_ref()
        .map(as_sent)
        .transpose()?;
    let updated = pool::update(app, &pool.pool_id, move |s| {
        s.reported.software_token_mfa_configuration = software;
        s.reported.web_authn_configuration = web_authn;
        s.reported.email_mfa_configuration = email;
        if sms_message.is_some() {
            s.reported.sms_authentication_message = sms_message;
        }
    })
    .await
    .map_err(|e| not_found_as(e, || pool_not_found(&req.user_pool_id)))?;
    Ok(mfa_config(&updated.settings))
}

pub(super) async fn get_user_pool_mfa_config(app: &Inner, request: &Value) -> ActionResult {
    let req: UserPoolIdRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    Ok(mfa_config(&pool.settings))
}
