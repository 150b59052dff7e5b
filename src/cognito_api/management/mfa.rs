//! `SetUserPoolMfaConfig` and `GetUserPoolMfaConfig`: `MfaConfiguration` (`OFF`, `ON`,
//! `OPTIONAL`) and the factors it offers, authenticator apps
//! (`SoftwareTokenMfaConfiguration.Enabled`) and codes by e-mail
//! (`EmailMfaConfiguration`, whose `Message` and `Subject` are the mail's). SMS MFA is
//! refused: cognate sends no SMS. The factor blocks are reported back as sent, each
//! only when set, as Cognito reports them (Terraform diffs against invented ones).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{existing_pool, not_found_as, pool_not_found};
use crate::cognito_api::{ActionResult, CognitoError, parse};
use crate::mail::Override;
use crate::pool::{self, MfaConfiguration, MfaSettings, PoolSettings};
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

/// A pool that asks for a second factor must offer one.
pub(in crate::cognito_api) fn check_mode(
    mode: MfaConfiguration,
    mfa: &MfaSettings,
) -> Result<(), CognitoError> {
    if mode != MfaConfiguration::Off && !mfa.software_token && !mfa.email {
        return Err(CognitoError::invalid(format!(
            "MfaConfiguration {} needs a factor: enable SoftwareTokenMfaConfiguration or \
             EmailMfaConfiguration (SMS MFA is not available in cognate).",
            mode.as_str()
        )));
    }
    Ok(())
}

/// The e-mailed code's message: Cognito's rules (`{####}` in the message, a subject
/// of at most 140 characters), a default subject when only the message is sent.
fn email_message(c: &EmailMfaConfig) -> Result<Option<Override>, CognitoError> {
    let Some(body) = c.message.clone().filter(|m| !m.is_empty()) else {
        return Ok(None);
    };
    let o = Override {
        subject: c
            .subject
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "Your sign-in code".into()),
        body,
    };
    o.check(crate::mail::MessageKind::Mfa)
        .map_err(|e| CognitoError::invalid(format!("EmailMfaConfiguration: {e}")))?;
    Ok(Some(o))
}

fn as_sent(value: &impl Serialize) -> Result<Value, CognitoError> {
    serde_json::to_value(value).map_err(|e| CognitoError::from(anyhow::anyhow!("{e}")))
}

/// The answer both actions give: the mode, and each factor block that is set.
fn mfa_config(s: &PoolSettings) -> Value {
    let r = &s.reported;
    let mut v = json!({ "MfaConfiguration": s.mfa.configuration.as_str() });
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
    let mode = match req.mfa_configuration.as_deref() {
        None | Some("OFF") => MfaConfiguration::Off,
        Some("ON") => MfaConfiguration::On,
        Some("OPTIONAL") => MfaConfiguration::Optional,
        Some(other) => {
            return Err(CognitoError::invalid(format!(
                "MfaConfiguration {other:?} must be OFF, ON or OPTIONAL."
            )));
        }
    };
    let mfa = MfaSettings {
        configuration: mode,
        software_token: req
            .software_token_mfa_configuration
            .as_ref()
            .is_some_and(|c| c.enabled == Some(true)),
        email: req.email_mfa_configuration.is_some(),
    };
    check_mode(mode, &mfa)?;
    let email_override = match &req.email_mfa_configuration {
        Some(c) => email_message(c)?,
        None => None,
    };
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
        s.mfa = mfa;
        s.messages.mfa = email_override;
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
