//! A user's own account through the API, with Cognito's public actions: `SignUp`,
//! `ConfirmSignUp`, `ResendConfirmationCode`, `ForgotPassword`, `ConfirmForgotPassword`
//! (by client id), and `GetUser`, `UpdateUserAttributes`, `DeleteUserAttributes`,
//! `GetUserAttributeVerificationCode`, `VerifyUserAttribute`, `ChangePassword`,
//! `GlobalSignOut`, `DeleteUser` (by access token), `RevokeToken` (by refresh token). The rules are
//! the hosted pages' (`flows`).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::{check_secret_hash, client_for};
use super::{ActionResult, CognitoError, parse, refusal_error, shapes};
use crate::clients::AppClient;
use crate::crypto::Secret;
use crate::events::{Event, Kind, Reason};
use crate::flows::{attributes, recovery, sign_up};
use crate::state::Inner;
use crate::tokens::claims::ADMIN_SCOPE;
use crate::tokens::verify;
use crate::users::{User, UserStatus, credentials, password};

pub async fn run(app: &Inner, action: &str, request: &Value) -> Option<ActionResult> {
    Some(match action {
        "SignUp" => sign_up(app, request).await,
        "ConfirmSignUp" => confirm_sign_up(app, request).await,
        "ResendConfirmationCode" => resend_confirmation_code(app, request).await,
        "ForgotPassword" => forgot_password(app, request).await,
        "ConfirmForgotPassword" => confirm_forgot_password(app, request).await,
        "GetUser" => get_user(app, request).await,
        "UpdateUserAttributes" => update_user_attributes(app, request).await,
        "DeleteUserAttributes" => delete_user_attributes(app, request).await,
        "GetUserAttributeVerificationCode" => {
            get_user_attribute_verification_code(app, request).await
        }
        "VerifyUserAttribute" => verify_user_attribute(app, request).await,
        "ChangePassword" => change_password(app, request).await,
        "GlobalSignOut" => global_sign_out(app, request).await,
        "DeleteUser" => delete_user(app, request).await,
        "RevokeToken" => revoke_token(app, request).await,
        _ => return None,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Attribute {
    name: String,
    #[serde(default)]
    value: String,
}

fn attribute_map(list: Vec<Attribute>) -> BTreeMap<String, String> {
    list.into_iter().map(|a| (a.name, a.value)).collect()
}

pub(super) use crate::users::code_mail::masked_email;

/// Where a sign-up's or verification's code went, masked ([`masked_email`]): the
/// caller just gave the address, or holds the account's token (or its password, for a
/// sign-in code), so its first letters tell nothing new.
fn delivery(user_email: Option<&str>) -> Value {
    json!({ "Destination": masked_email(user_email), "DeliveryMedium": "EMAIL", "AttributeName": "email" })
}

/// Where a code for an existing account went, for `ResendConfirmationCode` and
/// `ForgotPassword`: one fixed mask for every name, so whether an account exists, has an
/// address, or was sent anything at all does not show (`PreventUserExistenceErrors`;
/// Cognito's simulated destinations are plausible masks, this one reveals no letter).
fn undisclosed_delivery() -> Value {
    json!({ "Destination": "***@***", "DeliveryMedium": "EMAIL", "AttributeName": "email" })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SignUpRequest {
    client_id: String,
    secret_hash: Option<String>,
    username: String,
    password: String,
    #[serde(default)]
    user_attributes: Vec<Attribute>,
    /// Passed to the pre sign-up trigger.
    validation_data: Option<Vec<Attribute>>,
    /// Passed to the pre sign-up and custom message triggers.
    client_metadata: Option<BTreeMap<String, String>>,
}

async fn sign_up(app: &Inner, request: &Value) -> ActionResult {
    let r: SignUpRequest = parse(request)?;
    let client = client_for(app, &r.client_id, None).await?;
    check_secret_hash(app, &client, &r.username, r.secret_hash.as_deref()).await?;
    let pool = app
        .store
        .pool_by_id(&client.pool_id)
        .await?
        .ok_or_else(|| CognitoError::not_found("User pool does not exist."))?;
    let attributes = attribute_map(r.user_attributes);
    let email = attributes.get("email").cloned();
    let validation_data = r.validation_data.map(attribute_map);
    match sign_up::sign_up(
        app,
        &pool,
        &client,
        &r.username,
        &r.password,
        attributes,
        None,
        false,
        validation_data.as_ref(),
        r.client_metadata.as_ref(),
    )
    .await
    {
        Ok(sign_up::SignedUp::Created(user)) => {
            // A pre sign-up trigger may have confirmed the user: then nothing was sent.
            let confirmed = user.status == crate::users::UserStatus::Confirmed;
            let mut out = json!({ "UserConfirmed": confirmed, "UserSub": user.user_id });
            if !confirmed {
                out["CodeDeliveryDetails"] = delivery(email.as_deref());
            }
            Ok(out)
        }
        Ok(sign_up::SignedUp::Hidden) => Err(CognitoError::new(
            "UsernameExistsException",
            "User already exists",
        )),
        Err(refusal) => Err(refusal_error(refusal)),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CodeRequest {
    client_id: String,
    secret_hash: Option<String>,
    username: String,
    confirmation_code: Option<String>,
    password: Option<String>,
    /// Passed to the operation's triggers.
    client_metadata: Option<BTreeMap<String, String>>,
}

async fn confirm_sign_up(app: &Inner, request: &Value) -> ActionResult {
    let r: CodeRequest = parse(request)?;
    let client = client_for(app, &r.client_id, None).await?;
    check_secret_hash(app, &client, &r.username, r.secret_hash.as_deref()).await?;
    let code = r
        .confirmation_code
        .ok_or_else(|| CognitoError::invalid("Missing required parameter ConfirmationCode"))?;
    sign_up::confirm_sign_up(
        app,
        &client.pool_id,
        &r.username,
        &code,
        Some(&client.client_id),
        r.client_metadata.as_ref(),
    )
    .await
    .map_err(refusal_error)?;
    Ok(json!({}))
}

async fn resend_confirmation_code(app: &Inner, request: &Value) -> ActionResult {
    let r: CodeRequest = parse(request)?;
    let client = client_for(app, &r.client_id, None).await?;
    check_secret_hash(app, &client, &r.username, r.secret_hash.as_deref()).await?;
    sign_up::resend_sign_up_code(
        app,
        &client.pool_id,
        &r.username,
        None,
        Some(&client.client_id),
        r.client_metadata.as_ref(),
    )
    .await
    .map_err(refusal_error)?;
    Ok(json!({ "CodeDeliveryDetails": undisclosed_delivery() }))
}

async fn forgot_password(app: &Inner, request: &Value) -> ActionResult {
    let r: CodeRequest = parse(request)?;
    let client = client_for(app, &r.client_id, None).await?;
    check_secret_hash(app, &client, &r.username, r.secret_hash.as_deref()).await?;
    recovery::forgot_password(
        app,
        &client.pool_id,
        &client.client_id,
        &r.username,
        r.client_metadata.as_ref(),
    )
    .await
    .map_err(refusal_error)?;
    Ok(json!({ "CodeDeliveryDetails": undisclosed_delivery() }))
}

async fn confirm_forgot_password(app: &Inner, request: &Value) -> ActionResult {
    let r: CodeRequest = parse(request)?;
    let client = client_for(app, &r.client_id, None).await?;
    check_secret_hash(app, &client, &r.username, r.secret_hash.as_deref()).await?;
    let pool = app
        .store
        .pool_by_id(&client.pool_id)
        .await?
        .ok_or_else(|| CognitoError::not_found("User pool does not exist."))?;
    let code = r
        .confirmation_code
        .ok_or_else(|| CognitoError::invalid("Missing required parameter ConfirmationCode"))?;
    let password = r
        .password
        .ok_or_else(|| CognitoError::invalid("Missing required parameter Password"))?;
    recovery::confirm_forgot_password(
        app,
        &pool,
        Some(&client.client_id),
        &r.username,
        &code,
        &password,
        r.client_metadata.as_ref(),
    )
    .await
    .map_err(refusal_error)?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TokenRequest {
    access_token: String,
    #[serde(default)]
    user_attributes: Vec<Attribute>,
    previous_password: Option<String>,
    proposed_password: Option<String>,
    /// Passed to the custom message trigger.
    client_metadata: Option<BTreeMap<String, String>>,
}

/// Who presented an access token from the API.
pub(super) struct Caller {
    pub(super) user: User,
    /// The client the token was issued to.
    pub(super) client_id: String,
    /// The sign-in the token belongs to.
    origin_jti: String,
}

/// The user an access token from the API belongs to, the client it was issued to and
/// its sign-in. The pool comes from the token's issuer; the token must be valid,
/// unrevoked (its sign-in still at the user's credential version) and carry the API's
/// scope.
pub(super) async fn user_of_token(app: &Inner, token: &str) -> Result<Caller, CognitoError> {
    let invalid = || CognitoError::not_authorized("Invalid Access Token");
    let claims = verify::peek_claims(token).ok_or_else(invalid)?;
    let issuer = claims
        .get("iss")
        .and_then(Value::as_str)
        .ok_or_else(invalid)?;
    let pool_id = app
        .pool_of_issuer(issuer)
        .await?
        .filter(|p| crate::pool::is_pool_id(p))
        .ok_or_else(invalid)?;
    let claims = match verify::access_token(app, &pool_id, token).await {
        Ok(claims) => claims,
        Err(verify::Unverified::Refused) => return Err(invalid()),
        Err(verify::Unverified::Internal(e)) => return Err(e.into()),
    };
    let scopes = claims
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !scopes.split(' ').any(|s| s == ADMIN_SCOPE) {
        return Err(CognitoError::not_authorized(
            "Access Token does not have required scopes",
        ));
    }
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .ok_or_else(invalid)?;
    let claim = |name: &str| {
        claims
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(invalid)
    };
    let (client_id, origin_jti) = (claim("client_id")?, claim("origin_jti")?);
    let user = app
        .store
        .user_by_id(&pool_id, sub)
        .await?
        .filter(User::can_sign_in)
        .ok_or_else(invalid)?;
    Ok(Caller {
        user,
        client_id,
        origin_jti,
    })
}

/// The user an access token belongs to ([`user_of_token`]) and the client it was
/// issued to, whose `ReadAttributes` and `WriteAttributes` bound the call.
async fn user_and_client(app: &Inner, token: &str) -> Result<(User, AppClient), CognitoError> {
    let Caller {
        user, client_id, ..
    } = user_of_token(app, token).await?;
    let client = client_for(app, &client_id, Some(&user.pool_id)).await?;
    Ok((user, client))
}

/// `GetUser`: the attributes the token's client may read (`ReadAttributes`; never a
/// developer-only one), `sub` always.
async fn get_user(app: &Inner, request: &Value) -> ActionResult {
    let r: TokenRequest = parse(request)?;
    let (user, client) = user_and_client(app, &r.access_token).await?;
    let schema = app.store.schema(&user.pool_id).await?;
    let readable: Vec<String> = std::iter::once("sub".to_string())
        .chain(
            user.attributes
                .keys()
                .filter(|name| schema.readable_by_client(&client.read_attributes, name))
                .cloned(),
        )
        .collect();
    let mut out = json!({
        "Username": user.username,
        "UserAttributes": shapes::attributes(&user, Some(&readable)),
    });
    super::mfa::mfa_fields(&crate::users::mfa::factors(app, &user).await?, &mut out);
    Ok(out)
}

async fn update_user_attributes(app: &Inner, request: &Value) -> ActionResult {
    let r: TokenRequest = parse(request)?;
    let (user, client) = user_and_client(app, &r.access_token).await?;
    let sent = attributes::update_own_attributes(
        app,
        &user,
        &client,
        attribute_map(r.user_attributes),
        r.client_metadata.as_ref(),
    )
    .await
    .map_err(refusal_error)?;
    let details: Vec<Value> = sent.iter().map(|to| delivery(Some(to))).collect();
    Ok(json!({ "CodeDeliveryDetailsList": details }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteAttributesRequest {
    access_token: String,
    user_attribute_names: Vec<String>,
}

async fn delete_user_attributes(app: &Inner, request: &Value) -> ActionResult {
    let r: DeleteAttributesRequest = parse(request)?;
    let (user, client) = user_and_client(app, &r.access_token).await?;
    attributes::delete_own_attributes(app, &user, &client, &r.user_attribute_names)
        .await
        .map_err(refusal_error)?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VerificationRequest {
    access_token: String,
    attribute_name: String,
    code: Option<String>,
    /// Passed to the custom message trigger.
    client_metadata: Option<BTreeMap<String, String>>,
}

async fn get_user_attribute_verification_code(app: &Inner, request: &Value) -> ActionResult {
    let r: VerificationRequest = parse(request)?;
    let Caller {
        user, client_id, ..
    } = user_of_token(app, &r.access_token).await?;
    let to = attributes::send_attribute_code(
        app,
        &user,
        &r.attribute_name,
        Some(&client_id),
        r.client_metadata.as_ref(),
    )
    .await
    .map_err(refusal_error)?;
    Ok(json!({ "CodeDeliveryDetails": delivery(Some(&to)) }))
}

async fn verify_user_attribute(app: &Inner, request: &Value) -> ActionResult {
    let r: VerificationRequest = parse(request)?;
    let user = user_of_token(app, &r.access_token).await?.user;
    let code = r
        .code
        .ok_or_else(|| CognitoError::invalid("Missing required parameter Code"))?;
    attributes::verify_attribute(app, &user, &r.attribute_name, &code)
        .await
        .map_err(refusal_error)?;
    Ok(json!({}))
}

/// `ChangePassword`: the caller proves the current password and keeps its own sign-in;
/// every other sign-in of the user ends with the old password.
async fn change_password(app: &Inner, request: &Value) -> ActionResult {
    let r: TokenRequest = parse(request)?;
    let Caller {
        user, origin_jti, ..
    } = user_of_token(app, &r.access_token).await?;
    let result = change_own_password(app, &user, &origin_jti, r).await;
    let event = Event::new(Kind::PasswordChange, &user.pool_id).user(&user);
    app.record(match &result {
        Ok(_) => event,
        Err(e) => event.failed(failure_reason(e)),
    });
    result
}

/// The auth event's reason for a refused account call, by its exception.
fn failure_reason(e: &CognitoError) -> Reason {
    match e.kind {
        "NotAuthorizedException" => Reason::BadCredentials,
        "InvalidPasswordException" => Reason::InvalidPassword,
        "PasswordHistoryPolicyViolationException" => Reason::PasswordReused,
        "TooManyRequestsException" | "LimitExceededException" => Reason::TooManyAttempts,
        "InternalErrorException" => Reason::Internal,
        _ => Reason::InvalidParameter,
    }
}

async fn change_own_password(
    app: &Inner,
    user: &User,
    origin_jti: &str,
    r: TokenRequest,
) -> ActionResult {
    let previous = r.previous_password.unwrap_or_default();
    let proposed = r
        .proposed_password
        .ok_or_else(|| CognitoError::invalid("Missing required parameter ProposedPassword"))?;
    if !password::verify(user.password_hash.as_deref(), &previous).await {
        return Err(CognitoError::not_authorized(
            "Incorrect username or password.",
        ));
    }
    let pool = app
        .store
        .pool_by_id(&user.pool_id)
        .await?
        .ok_or_else(|| CognitoError::not_found("User pool does not exist."))?;
    pool.settings
        .password_policy
        .check(&proposed, &user.username)
        .map_err(|m| CognitoError::new("InvalidPasswordException", m))?;
    if credentials::is_reused(app, &pool, user, &proposed).await? {
        return Err(super::password_reused());
    }
    let status = UserStatus::Confirmed;
    // Only over the password just proven: a reset that came in between wins.
    credentials::replace_password(app, user, &proposed, status, Some(origin_jti))
        .await?
        .ok_or_else(|| CognitoError::not_authorized("Incorrect username or password."))?;
    Ok(json!({}))
}

async fn global_sign_out(app: &Inner, request: &Value) -> ActionResult {
    let r: TokenRequest = parse(request)?;
    let user = user_of_token(app, &r.access_token).await?.user;
    app.store
        .revoke_user_families(&user.user_id, app.clock.now())
        .await?;
    app.record(Event::new(Kind::GlobalSignOut, &user.pool_id).user(&user));
    Ok(json!({}))
}

/// `DeleteUser`: the caller's own account, with every sign-in it has.
async fn delete_user(app: &Inner, request: &Value) -> ActionResult {
    let r: TokenRequest = parse(request)?;
    let user = user_of_token(app, &r.access_token).await?.user;
    crate::users::delete(app, &user).await?;
    tracing::info!(pool_id = %user.pool_id, user_id = %user.user_id, "user deleted their own account");
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RevokeRequest {
    token: String,
    client_id: String,
    client_secret: Option<String>,
    revoke_associated_sessions: Option<String>,
}

async fn revoke_token(app: &Inner, request: &Value) -> ActionResult {
    let r: RevokeRequest = parse(request)?;
    // `NONE`, Cognito's default, revokes the token's own sign-in, as cognate does.
    match r.revoke_associated_sessions.as_deref() {
        None | Some("NONE") => {}
        Some("LINKED") => {
            return Err(CognitoError::invalid(
                "RevokeAssociatedSessions LINKED is not supported by cognate: revoking a \
                 token does not end the hosted-login session it came through.",
            ));
        }
        Some(other) => {
            return Err(CognitoError::invalid(format!(
                "RevokeAssociatedSessions {other:?} must be NONE or LINKED."
            )));
        }
    }
    let client = client_for(app, &r.client_id, None).await?;
    if !client.is_public()
        && !r
            .client_secret
            .as_deref()
            .is_some_and(|s| client.verify_secret(s))
    {
        return Err(CognitoError::not_authorized(
            "Client authentication failed.",
        ));
    }
    if !client.enable_token_revocation {
        return Err(CognitoError::new(
            "UnsupportedOperationException",
            "Token revocation is not enabled for this app client.",
        ));
    }
    if let Some(family) = app
        .store
        .family_of_refresh_token(&app.keys.digests().secret(Secret::RefreshToken, &r.token))
        .await?
    {
        if family.client_id != client.client_id {
            return Err(CognitoError::new(
                "UnauthorizedException",
                "The token was not issued to this client.",
            ));
        }
        app.store
            .revoke_family(&family.origin_jti, app.clock.now())
            .await?;
        app.record(
            Event::new(Kind::Revocation, &family.pool_id)
                .client(&family.client_id)
                .user_sub(&family.user_id),
        );
    }
    Ok(json!({}))
}
