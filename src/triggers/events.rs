//! The events of the triggers cognate raises, shaped as Cognito sends them, and how
//! their answers are read back (Cognito's "Lambda trigger event" pages for pre
//! sign-up, post confirmation and pre token generation).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{Call, Trigger, invalid, raise};
use crate::error::{AppError, TriggerError};
use crate::model::groups::Group;
use crate::model::pool::PoolSettings;
use crate::model::users::User;
use crate::services::Services;

/// A map of strings as the event's JSON object (`null` when absent, as Cognito sends
/// `validationData` and `clientMetadata`).
fn strings(map: Option<&BTreeMap<String, String>>) -> Value {
    match map {
        Some(m) => json!(m),
        None => Value::Null,
    }
}

/// A user's `userAttributes` as Cognito sends them: the attributes with `sub` and
/// `cognito:user_status`.
pub fn user_attributes(user: &User) -> Value {
    let mut a: Map<String, Value> = user
        .attributes
        .iter()
        .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
        .collect();
    a.insert("sub".into(), user.user_id.clone().into());
    a.insert(
        "cognito:user_status".into(),
        serde_json::to_value(user.status).unwrap_or(Value::Null),
    );
    Value::Object(a)
}

/// What a pre sign-up trigger decided.
#[derive(Debug, Default)]
pub struct PreSignUp {
    pub auto_confirm_user: bool,
    pub auto_verify_email: bool,
    pub auto_verify_phone: bool,
}

impl PreSignUp {
    /// Marks the addresses the trigger vouched for as verified (only those the user
    /// has).
    pub fn apply_verification(&self, attributes: &mut BTreeMap<String, String>) {
        for (wanted, address, flag) in [
            (self.auto_verify_email, "email", "email_verified"),
            (
                self.auto_verify_phone,
                "phone_number",
                "phone_number_verified",
            ),
        ] {
            if wanted && attributes.contains_key(address) {
                attributes.insert(flag.into(), "true".into());
            }
        }
    }
}

/// Raises `PreSignUp` (`source`: `PreSignUp_SignUp`, `_AdminCreateUser`,
/// `_ExternalProvider`) before anything is created.
#[expect(
    clippy::too_many_arguments,
    reason = "the event's parts, as Cognito names them"
)]
pub async fn pre_sign_up(
    app: &Services,
    pool_id: &str,
    settings: &PoolSettings,
    source: &str,
    client_id: Option<&str>,
    username: &str,
    attributes: &BTreeMap<String, String>,
    validation_data: Option<&BTreeMap<String, String>>,
    client_metadata: Option<&BTreeMap<String, String>>,
) -> Result<PreSignUp, TriggerError> {
    let Some(r) = raise(
        app,
        Call {
            pool_id,
            settings,
            trigger: Trigger::PreSignUp,
            source,
            user_name: username,
            client_id,
            request: json!({
                "userAttributes": attributes,
                "validationData": strings(validation_data),
                "clientMetadata": strings(client_metadata),
            }),
            response: json!({
                "autoConfirmUser": false,
                "autoVerifyEmail": false,
                "autoVerifyPhone": false,
            }),
            version: "1",
        },
    )
    .await?
    else {
        return Ok(PreSignUp::default());
    };
    let flag = |key: &str| match r.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(invalid(Trigger::PreSignUp, "a flag is not a boolean")),
    };
    Ok(PreSignUp {
        auto_confirm_user: flag("autoConfirmUser")?,
        auto_verify_email: flag("autoVerifyEmail")?,
        auto_verify_phone: flag("autoVerifyPhone")?,
    })
}

/// Raises `PostConfirmation` (`source`: `PostConfirmation_ConfirmSignUp`,
/// `_ConfirmForgotPassword`) after the user was confirmed, if the pool has that
/// trigger; its answer changes nothing, and the user stays confirmed if it fails, as on
/// Cognito (the caller is told).
pub async fn post_confirmation(
    app: &Services,
    source: &str,
    client_id: Option<&str>,
    user: &User,
    client_metadata: Option<&BTreeMap<String, String>>,
) -> Result<(), AppError> {
    let Some(settings) = super::settings_of(app, &user.pool_id).await? else {
        return Ok(());
    };
    raise(
        app,
        Call {
            pool_id: &user.pool_id,
            settings: &settings,
            trigger: Trigger::PostConfirmation,
            source,
            user_name: &user.username,
            client_id,
            request: json!({
                "userAttributes": user_attributes(user),
                "clientMetadata": strings(client_metadata),
            }),
            response: json!({}),
            version: "1",
        },
    )
    .await?;
    Ok(())
}

/// Raises `PreAuthentication_Authentication` before a sign-in's password (or SRP
/// proof) is checked. `user` is `None` for a name the pool does not have: then the
/// trigger fires only when the pool hides which names exist, with `userNotFound`, as
/// on Cognito. The caller's `ClientMetadata` arrives as `validationData`.
pub async fn pre_authentication(
    app: &Services,
    settings: &PoolSettings,
    pool_id: &str,
    client_id: &str,
    username: &str,
    user: Option<&User>,
    client_metadata: Option<&BTreeMap<String, String>>,
) -> Result<(), TriggerError> {
    let hides_names = settings.prevent_user_existence_errors;
    if user.is_none() && !hides_names {
        return Ok(());
    }
    let mut request = json!({
        "userAttributes": user.map_or_else(|| json!({}), user_attributes),
        "validationData": strings(client_metadata),
    });
    if hides_names {
        request["userNotFound"] = user.is_none().into();
    }
    raise(
        app,
        Call {
            pool_id,
            settings,
            trigger: Trigger::PreAuthentication,
            source: "PreAuthentication_Authentication",
            user_name: user.map_or(username, |u| u.username.as_str()),
            client_id: Some(client_id),
            request,
            response: json!({}),
            version: "1",
        },
    )
    .await?;
    Ok(())
}

/// Raises `PostAuthentication_Authentication` once a sign-in succeeded, before its
/// tokens are issued: a refusal stops the sign-in (nothing else is undone).
pub async fn post_authentication(
    app: &Services,
    settings: &PoolSettings,
    client_id: &str,
    user: &User,
    client_metadata: Option<&BTreeMap<String, String>>,
) -> Result<(), TriggerError> {
    raise(
        app,
        Call {
            pool_id: &user.pool_id,
            settings,
            trigger: Trigger::PostAuthentication,
            source: "PostAuthentication_Authentication",
            user_name: &user.username,
            client_id: Some(client_id),
            request: json!({
                "userAttributes": user_attributes(user),
                "newDeviceUsed": false,
                "clientMetadata": strings(client_metadata),
            }),
            response: json!({}),
            version: "1",
        },
    )
    .await?;
    Ok(())
}

/// What a user migration trigger returned: the user to create.
#[derive(Debug)]
pub struct Migrated {
    pub attributes: BTreeMap<String, String>,
    /// `CONFIRMED` (the default at sign-in) or `RESET_REQUIRED`.
    pub status: crate::model::users::UserStatus,
}

/// Raises `UserMigration_Authentication` (with the password the user typed) or
/// `UserMigration_ForgotPassword` (without) for a name the pool does not have. `None`
/// when the pool has no such trigger.
#[expect(
    clippy::too_many_arguments,
    reason = "the event's parts, as Cognito names them"
)]
pub async fn user_migration(
    app: &Services,
    settings: &PoolSettings,
    pool_id: &str,
    client_id: &str,
    username: &str,
    password: Option<&str>,
    validation_data: Option<&BTreeMap<String, String>>,
    client_metadata: Option<&BTreeMap<String, String>>,
) -> Result<Option<Migrated>, TriggerError> {
    use crate::model::users::UserStatus;
    let source = if password.is_some() {
        "UserMigration_Authentication"
    } else {
        "UserMigration_ForgotPassword"
    };
    let mut request = json!({
        "validationData": strings(validation_data),
        "clientMetadata": strings(client_metadata),
    });
    if let Some(password) = password {
        request["password"] = password.into();
    }
    let Some(r) = raise(
        app,
        Call {
            pool_id,
            settings,
            trigger: Trigger::UserMigration,
            source,
            user_name: username,
            client_id: Some(client_id),
            request,
            response: json!({
                "userAttributes": null,
                "finalUserStatus": null,
                "messageAction": null,
                "desiredDeliveryMediums": null,
                "forceAliasCreation": null,
                "enableSMSMFA": null,
            }),
            version: "1",
        },
    )
    .await?
    else {
        return Ok(None);
    };
    let bad = |why: &str| invalid(Trigger::UserMigration, why);
    let attributes: BTreeMap<String, String> = match r.get("userAttributes") {
        Some(Value::Object(m)) if !m.is_empty() => m
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(bad("an attribute value is not a string")),
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(bad("userAttributes is required")),
    };
    // The user is the name that was typed: a trigger cannot choose another, nor a sub.
    if let Some(name) = ["sub", "username", "cognito:username", "cognito:user_status"]
        .into_iter()
        .find(|n| attributes.contains_key(*n))
    {
        return Err(bad(&format!("the attribute {name} cannot be set")));
    }
    let status = match (r.get("finalUserStatus").and_then(Value::as_str), password) {
        (None | Some("CONFIRMED"), Some(_)) => UserStatus::Confirmed,
        // Without a password only a reset can follow.
        (None | Some("RESET_REQUIRED"), None) | (Some("RESET_REQUIRED"), _) => {
            UserStatus::ResetRequired
        }
        _ => return Err(bad("finalUserStatus must be CONFIRMED or RESET_REQUIRED")),
    };
    // cognate sends a migrated user no welcome message, whatever `messageAction` says.
    match r.get("messageAction") {
        None | Some(Value::Null) => {}
        Some(Value::String(a)) if a == "SUPPRESS" || a == "RESEND" => {}
        Some(_) => return Err(bad("messageAction must be SUPPRESS or RESEND")),
    }
    if r.get("enableSMSMFA") == Some(&Value::Bool(true)) {
        return Err(bad("SMS MFA is not available"));
    }
    Ok(Some(Migrated { attributes, status }))
}

/// Claims a pre token generation trigger may not add, change or suppress: those that
/// make the token what it is (Cognito refuses them too).
pub const RESERVED_CLAIMS: &[&str] = &[
    "acr",
    "amr",
    "at_hash",
    "aud",
    "auth_time",
    "azp",
    "client_id",
    "cognito:username",
    "event_id",
    "exp",
    "iat",
    "identities",
    "iss",
    "jti",
    "nbf",
    "nonce",
    "origin_jti",
    "scope",
    "sub",
    "token_use",
    "username",
    "version",
];

/// One token's changes.
#[derive(Debug, Default, Clone)]
pub struct TokenChanges {
    pub add_or_override: Map<String, Value>,
    pub suppress: Vec<String>,
    pub scopes_to_add: Vec<String>,
    pub scopes_to_suppress: Vec<String>,
}

/// What a pre token generation trigger asked for.
#[derive(Debug, Default, Clone)]
pub struct ClaimsOverride {
    pub id: TokenChanges,
    /// Only from version 2 and 3 events.
    pub access: TokenChanges,
    /// `groupOverrideDetails.groupsToOverride`: replaces `cognito:groups`.
    pub groups: Option<Vec<String>>,
    pub iam_roles: Option<Vec<String>>,
    pub preferred_role: Option<String>,
}

impl ClaimsOverride {
    /// Applies the changes for one token (`id` or `access`) to its claims.
    pub fn apply(&self, claims: &mut Value, token_use: &str) {
        let Some(c) = claims.as_object_mut() else {
            return;
        };
        if let Some(groups) = &self.groups {
            if groups.is_empty() {
                c.remove("cognito:groups");
            } else {
                c.insert("cognito:groups".into(), json!(groups));
            }
        }
        if token_use == "id" {
            if let Some(roles) = &self.iam_roles {
                c.insert("cognito:roles".into(), json!(roles));
            }
            if let Some(role) = &self.preferred_role {
                c.insert("cognito:preferred_role".into(), json!(role));
            }
        }
        let changes = if token_use == "id" {
            &self.id
        } else {
            &self.access
        };
        for name in &changes.suppress {
            c.remove(name);
        }
        for (k, v) in &changes.add_or_override {
            c.insert(k.clone(), v.clone());
        }
        if token_use == "access"
            && (!changes.scopes_to_add.is_empty() || !changes.scopes_to_suppress.is_empty())
        {
            let mut scopes: Vec<String> = c
                .get("scope")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .split_whitespace()
                .filter(|s| !changes.scopes_to_suppress.iter().any(|x| x == s))
                .map(str::to_string)
                .collect();
            for s in &changes.scopes_to_add {
                if !scopes.contains(s) {
                    scopes.push(s.clone());
                }
            }
            c.insert("scope".into(), scopes.join(" ").into());
        }
    }
}

/// Raises `PreTokenGeneration` (`source`: `TokenGeneration_HostedAuth`,
/// `_Authentication`, `_NewPasswordChallenge`, `_RefreshTokens`) with the pool's event
/// version; `None` when the pool has no such trigger.
#[expect(
    clippy::too_many_arguments,
    reason = "the event's parts, as Cognito names them"
)]
pub async fn pre_token_generation(
    app: &Services,
    settings: &PoolSettings,
    source: &str,
    client_id: &str,
    user: &User,
    groups: &[Group],
    scopes: &[String],
    client_metadata: Option<&BTreeMap<String, String>>,
) -> Result<Option<ClaimsOverride>, TriggerError> {
    let config = &settings.lambda_config;
    if config.target(Trigger::PreTokenGeneration).is_none() {
        return Ok(None);
    }
    let version = config.pre_token_version();
    let mut request = json!({
        "userAttributes": user_attributes(user),
        "groupConfiguration": {
            "groupsToOverride": groups.iter().map(|g| g.group_name.as_str()).collect::<Vec<_>>(),
            "iamRolesToOverride": groups.iter().filter_map(|g| g.role_arn.as_deref()).collect::<Vec<_>>(),
            "preferredRole": groups.iter().filter(|g| g.role_arn.is_some())
                .min_by_key(|g| g.precedence.unwrap_or(i64::MAX))
                .and_then(|g| g.role_arn.clone()),
        },
        "clientMetadata": strings(client_metadata),
    });
    if version > 1 {
        request["scopes"] = json!(scopes);
    }
    let response = if version == 1 {
        json!({ "claimsOverrideDetails": null })
    } else {
        json!({ "claimsAndScopeOverrideDetails": null })
    };
    let version_text = version.to_string();
    let Some(r) = raise(
        app,
        Call {
            pool_id: &user.pool_id,
            settings,
            trigger: Trigger::PreTokenGeneration,
            source,
            user_name: &user.username,
            client_id: Some(client_id),
            request,
            response,
            version: &version_text,
        },
    )
    .await?
    else {
        return Ok(None);
    };
    read_override(&r, version).map(Some)
}

/// Raises `TokenGeneration_ClientCredentials` for a machine's access token: only with
/// the pool's pre token generation at `V3_0`, as on Cognito. The event's `userName`
/// is the client id, its user attributes and groups are empty.
pub async fn pre_token_client_credentials(
    app: &Services,
    settings: &PoolSettings,
    pool_id: &str,
    client_id: &str,
    scopes: &[String],
    client_metadata: Option<&BTreeMap<String, String>>,
) -> Result<Option<ClaimsOverride>, TriggerError> {
    if settings.lambda_config.pre_token_version() != 3 {
        return Ok(None);
    }
    let Some(r) = raise(
        app,
        Call {
            pool_id,
            settings,
            trigger: Trigger::PreTokenGeneration,
            source: "TokenGeneration_ClientCredentials",
            user_name: client_id,
            client_id: Some(client_id),
            request: json!({
                "userAttributes": {},
                "groupConfiguration": {
                    "groupsToOverride": [],
                    "iamRolesToOverride": [],
                    "preferredRole": null,
                },
                "scopes": scopes,
                "clientMetadata": strings(client_metadata),
            }),
            response: json!({ "claimsAndScopeOverrideDetails": null }),
            version: "3",
        },
    )
    .await?
    else {
        return Ok(None);
    };
    read_override(&r, 3).map(Some)
}

/// Reads a pre token generation answer of event `version`.
fn read_override(r: &Map<String, Value>, version: u8) -> Result<ClaimsOverride, TriggerError> {
    let bad = |why: &str| invalid(Trigger::PreTokenGeneration, why);
    let mut out = ClaimsOverride::default();
    let details = if version == 1 {
        r.get("claimsOverrideDetails")
    } else {
        r.get("claimsAndScopeOverrideDetails")
    };
    let details = match details {
        None | Some(Value::Null) => return Ok(out),
        Some(Value::Object(d)) => d,
        Some(_) => return Err(bad("the override details are not an object")),
    };
    if version == 1 {
        out.id = token_changes(details, false).map_err(|e| bad(&e))?;
    } else {
        for (key, changes, scopes) in [
            ("idTokenGeneration", &mut out.id, false),
            ("accessTokenGeneration", &mut out.access, true),
        ] {
            match details.get(key) {
                None | Some(Value::Null) => {}
                Some(Value::Object(t)) => {
                    *changes = token_changes(t, scopes).map_err(|e| bad(&e))?
                }
                Some(_) => return Err(bad("a token's changes are not an object")),
            }
        }
    }
    match details.get("groupOverrideDetails") {
        None | Some(Value::Null) => {}
        Some(Value::Object(g)) => {
            out.groups = string_list(g.get("groupsToOverride")).map_err(|e| bad(&e))?;
            out.iam_roles = string_list(g.get("iamRolesToOverride")).map_err(|e| bad(&e))?;
            out.preferred_role = match g.get("preferredRole") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => return Err(bad("preferredRole is not a string")),
            };
        }
        Some(_) => return Err(bad("groupOverrideDetails is not an object")),
    }
    Ok(out)
}

fn string_list(v: Option<&Value>) -> Result<Option<Vec<String>>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or("a list holds a non-string".to_string())
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err("a list is not an array".into()),
    }
}

fn token_changes(t: &Map<String, Value>, scopes: bool) -> Result<TokenChanges, String> {
    let mut c = TokenChanges::default();
    match t.get("claimsToAddOrOverride") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => c.add_or_override = m.clone(),
        Some(_) => return Err("claimsToAddOrOverride is not an object".into()),
    }
    c.suppress = string_list(t.get("claimsToSuppress"))?.unwrap_or_default();
    if scopes {
        c.scopes_to_add = string_list(t.get("scopesToAdd"))?.unwrap_or_default();
        c.scopes_to_suppress = string_list(t.get("scopesToSuppress"))?.unwrap_or_default();
    }
    if let Some(name) = c
        .add_or_override
        .keys()
        .chain(c.suppress.iter())
        .find(|k| RESERVED_CLAIMS.contains(&k.as_str()))
    {
        return Err(format!("the claim {name} cannot be changed"));
    }
    Ok(c)
}

/// The longest `emailMessage` a custom message trigger may return; a longer one is
/// ignored and the pool's own message sent, as Cognito does.
pub const MAX_CUSTOM_MESSAGE_CHARS: usize = 20_000;

/// The pattern Cognito's validation message names when a custom `emailMessage` lacks
/// the code placeholder.
const EMAIL_BODY_PATTERN: &str =
    r"[\p{L}\p{M}\p{S}\p{N}\p{P}\s*]*\{####\}[\p{L}\p{M}\p{S}\p{N}\p{P}\s*]*";

/// Raises `CustomMessage` (`source`: `CustomMessage_SignUp`, `_ResendCode`,
/// `_ForgotPassword`, `_UpdateUserAttribute`, `_VerifyUserAttribute`,
/// `_AdminCreateUser`) before a code or temporary password is mailed to `user`;
/// `None` when the pool has no such trigger. The event carries Cognito's placeholders
/// (`codeParameter` `{####}`, `usernameParameter` `{username}` for an invitation only,
/// `linkParameter` `{##Click Here##}` when the message has a one-click link), never
/// the code itself, which is issued only after the trigger answered.
///
/// The answer is applied as Cognito applies it: `emailSubject` replaces the subject,
/// `emailMessage` the message, and a message without `{####}` (for an invitation, or
/// without `{username}`) fails the operation with Cognito's InvalidParameterException
/// ([`AppError::Invalid`]); one longer than [`MAX_CUSTOM_MESSAGE_CHARS`] is ignored.
/// `smsMessage` is not used: cognate sends no SMS.
pub async fn custom_message(
    app: &Services,
    source: &str,
    client_id: Option<&str>,
    user: &User,
    with_link: bool,
    client_metadata: Option<&BTreeMap<String, String>>,
) -> Result<Option<crate::mail::Custom>, AppError> {
    use crate::mail::{CODE_PLACEHOLDER, Custom, LINK_PLACEHOLDER, USERNAME_PLACEHOLDER};
    let Some(settings) = super::settings_of(app, &user.pool_id).await? else {
        return Ok(None);
    };
    let invitation = source == "CustomMessage_AdminCreateUser";
    let Some(r) = raise(
        app,
        Call {
            pool_id: &user.pool_id,
            settings: &settings,
            trigger: Trigger::CustomMessage,
            source,
            user_name: &user.username,
            client_id,
            request: json!({
                "userAttributes": user_attributes(user),
                "codeParameter": CODE_PLACEHOLDER,
                "linkParameter": if with_link { Some(LINK_PLACEHOLDER) } else { None },
                "usernameParameter": if invitation { Some(USERNAME_PLACEHOLDER) } else { None },
                "clientMetadata": strings(client_metadata),
            }),
            response: json!({
                "smsMessage": null,
                "emailMessage": null,
                "emailSubject": null,
            }),
            version: "1",
        },
    )
    .await?
    else {
        return Ok(None);
    };
    let text = |key: &str| match r.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(Trigger::CustomMessage, "a message is not a string")),
    };
    let subject = text("emailSubject")?;
    let mut message = text("emailMessage")?;
    text("smsMessage")?;
    if let Some(m) = &message {
        if m.chars().count() > MAX_CUSTOM_MESSAGE_CHARS {
            tracing::warn!(
                pool_id = %user.pool_id,
                source,
                "the custom message is longer than 20,000 characters; the pool's own is sent"
            );
            message = None;
        } else if !m.contains(CODE_PLACEHOLDER) {
            return Err(AppError::Invalid(format!(
                "1 validation error detected: Value '{m}' at 'emailBody' failed to satisfy \
                 constraint: Member must satisfy regular expression pattern: {EMAIL_BODY_PATTERN}"
            )));
        } else if invitation && !m.contains(USERNAME_PLACEHOLDER) {
            return Err(AppError::Invalid(format!(
                "1 validation error detected: Value '{m}' at 'emailBody' failed to satisfy \
                 constraint: Member must contain {USERNAME_PLACEHOLDER} and {CODE_PLACEHOLDER}"
            )));
        }
    }
    Ok(Some(Custom { subject, message }))
}

/// One challenge of a custom sign-in as the challenge triggers see it (Cognito's
/// `ChallengeResult` in `request.session`), oldest first.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChallengeResult {
    pub challenge_name: String,
    pub challenge_result: bool,
    /// The create trigger's name for a `CUSTOM_CHALLENGE`; absent when it gave none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge_metadata: Option<String>,
}

/// Who a custom sign-in is for, as the three challenge triggers are told.
pub struct ChallengeSubject<'a> {
    pub pool_id: &'a str,
    pub settings: &'a PoolSettings,
    pub client_id: &'a str,
    /// The user's name, or the name asked for when there is no such user.
    pub user_name: &'a str,
    /// `None` for a name without an account (only with `PreventUserExistenceErrors`).
    pub user: Option<&'a User>,
    pub client_metadata: Option<&'a BTreeMap<String, String>>,
}

impl ChallengeSubject<'_> {
    /// Raises one of the challenge triggers (event version `1`) with the request
    /// members all three get: `userAttributes` (none for an unknown user),
    /// `clientMetadata` when the caller sent any, and `userNotFound`, which Cognito sets
    /// only when the pool prevents user existence errors.
    async fn raise(
        &self,
        app: &Services,
        trigger: Trigger,
        source: &str,
        mut request: Map<String, Value>,
        response: Value,
    ) -> Result<Option<Map<String, Value>>, TriggerError> {
        request.insert(
            "userAttributes".into(),
            self.user.map_or_else(|| json!({}), user_attributes),
        );
        if let Some(m) = self.client_metadata {
            request.insert("clientMetadata".into(), json!(m));
        }
        if self.settings.prevent_user_existence_errors {
            request.insert("userNotFound".into(), self.user.is_none().into());
        }
        raise(
            app,
            Call {
                pool_id: self.pool_id,
                settings: self.settings,
                trigger,
                source,
                user_name: self.user_name,
                client_id: Some(self.client_id),
                request: Value::Object(request),
                response,
                version: "1",
            },
        )
        .await
    }
}

/// What a define auth challenge trigger decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChallengeDecision {
    /// `failAuthentication`: the sign-in fails (it wins over `issueTokens`).
    Fail,
    /// `issueTokens`: the user has passed.
    IssueTokens,
    /// `challengeName`: the next challenge to present.
    Challenge(String),
}

/// Raises `DefineAuthChallenge_Authentication` with the challenges so far; `None` when
/// the pool has no such trigger.
pub async fn define_auth_challenge(
    app: &Services,
    subject: &ChallengeSubject<'_>,
    session: &[ChallengeResult],
) -> Result<Option<ChallengeDecision>, TriggerError> {
    let trigger = Trigger::DefineAuthChallenge;
    let mut request = Map::new();
    request.insert("session".into(), json!(session));
    let Some(r) = subject
        .raise(
            app,
            trigger,
            "DefineAuthChallenge_Authentication",
            request,
            json!({ "challengeName": null, "issueTokens": null, "failAuthentication": null }),
        )
        .await?
    else {
        return Ok(None);
    };
    let flag = |key: &str| match r.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(invalid(trigger, &format!("{key} is not a boolean"))),
    };
    if flag("failAuthentication")? {
        return Ok(Some(ChallengeDecision::Fail));
    }
    if flag("issueTokens")? {
        return Ok(Some(ChallengeDecision::IssueTokens));
    }
    match r.get("challengeName") {
        Some(Value::String(name)) if !name.is_empty() => {
            Ok(Some(ChallengeDecision::Challenge(name.clone())))
        }
        None | Some(Value::Null) | Some(Value::String(_)) => Err(invalid(
            trigger,
            "neither issueTokens, failAuthentication nor a challengeName",
        )),
        Some(_) => Err(invalid(trigger, "challengeName is not a string")),
    }
}

/// The largest `privateChallengeParameters` (as JSON) and `challengeMetadata` a create
/// trigger may give: both travel, sealed, in the session the caller holds.
pub const MAX_PRIVATE_CHALLENGE_BYTES: usize = 8 * 1024;
/// See [`MAX_PRIVATE_CHALLENGE_BYTES`].
pub const MAX_CHALLENGE_METADATA_BYTES: usize = 1024;

/// A challenge a create auth challenge trigger made.
#[derive(Debug, Clone, Default)]
pub struct CreatedChallenge {
    /// Shown to the caller in `ChallengeParameters`.
    pub public: BTreeMap<String, String>,
    /// Kept from the caller, for the verify trigger.
    pub private: BTreeMap<String, String>,
    pub metadata: Option<String>,
}

/// Raises `CreateAuthChallenge_Authentication` for the challenge `challenge_name`;
/// `None` when the pool has no such trigger.
pub async fn create_auth_challenge(
    app: &Services,
    subject: &ChallengeSubject<'_>,
    challenge_name: &str,
    session: &[ChallengeResult],
) -> Result<Option<CreatedChallenge>, TriggerError> {
    let trigger = Trigger::CreateAuthChallenge;
    let mut request = Map::new();
    request.insert("challengeName".into(), challenge_name.into());
    request.insert("session".into(), json!(session));
    let Some(r) = subject
        .raise(
            app,
            trigger,
            "CreateAuthChallenge_Authentication",
            request,
            json!({
                "publicChallengeParameters": null,
                "privateChallengeParameters": null,
                "challengeMetadata": null,
            }),
        )
        .await?
    else {
        return Ok(None);
    };
    let bad = |why: &str| invalid(trigger, why);
    let params = |key: &str| -> Result<BTreeMap<String, String>, TriggerError> {
        match r.get(key) {
            None | Some(Value::Null) => Ok(BTreeMap::new()),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    _ => Err(bad(&format!("{key} holds a value that is not a string"))),
                })
                .collect(),
            Some(_) => Err(bad(&format!("{key} is not an object"))),
        }
    };
    let created = CreatedChallenge {
        public: params("publicChallengeParameters")?,
        private: params("privateChallengeParameters")?,
        metadata: match r.get("challengeMetadata") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(bad("challengeMetadata is not a string")),
        },
    };
    if json!(created.private).to_string().len() > MAX_PRIVATE_CHALLENGE_BYTES {
        return Err(bad("privateChallengeParameters is too large"));
    }
    if created
        .metadata
        .as_ref()
        .is_some_and(|m| m.len() > MAX_CHALLENGE_METADATA_BYTES)
    {
        return Err(bad("challengeMetadata is too large"));
    }
    Ok(Some(created))
}

/// Raises `VerifyAuthChallengeResponse_Authentication` with the caller's answer and
/// the challenge's private parameters: whether the answer is correct (a missing or
/// null `answerCorrect` is not); `None` when the pool has no such trigger.
pub async fn verify_auth_challenge_response(
    app: &Services,
    subject: &ChallengeSubject<'_>,
    private: &BTreeMap<String, String>,
    answer: &str,
) -> Result<Option<bool>, TriggerError> {
    let trigger = Trigger::VerifyAuthChallengeResponse;
    let mut request = Map::new();
    request.insert("privateChallengeParameters".into(), json!(private));
    request.insert("challengeAnswer".into(), answer.into());
    let Some(r) = subject
        .raise(
            app,
            trigger,
            "VerifyAuthChallengeResponse_Authentication",
            request,
            json!({ "answerCorrect": null }),
        )
        .await?
    else {
        return Ok(None);
    };
    match r.get("answerCorrect") {
        None | Some(Value::Null) => Ok(Some(false)),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(invalid(trigger, "answerCorrect is not a boolean")),
    }
}
