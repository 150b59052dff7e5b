//! Signing in through the API (Cognito `InitiateAuth`, `AdminInitiateAuth`,
//! `RespondToAuthChallenge`, `AdminRespondToAuthChallenge`): `USER_PASSWORD_AUTH`,
//! `ADMIN_USER_PASSWORD_AUTH`, `USER_SRP_AUTH` with `PASSWORD_VERIFIER`,
//! `REFRESH_TOKEN_AUTH`, `NEW_PASSWORD_REQUIRED`, and `CUSTOM_AUTH` with `CUSTOM_CHALLENGE`
//! (`flows::custom_auth`). Each flow must be in the client's
//! `ExplicitAuthFlows`; clients with a secret must send `SECRET_HASH`. The tokens are
//! `/oauth2/token`'s, from the same claims builder, with the API's scope.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{ActionResult, CognitoError, parse, refusal_error};
use crate::clients::AppClient;
use crate::crypto::ct_eq;
use crate::flows;
use crate::flows::sign_in::{self, SignedIn};
use crate::state::Inner;
use crate::tokens::issue::Endpoint;
use crate::users::mfa::Factor;
use crate::users::{Refusal, User};

const NEW_PASSWORD_REQUIRED: &str = "NEW_PASSWORD_REQUIRED";
/// A challenge session's step while an authenticator is set up, and once it is proven.
pub(super) const MFA_SETUP: &str = "MFA_SETUP";
pub(super) const MFA_SETUP_VERIFIED: &str = "MFA_SETUP:verified";

/// Runs an auth action. Failed sign-ins count against the username and, for the public
/// actions, the caller's address `addr`; an Admin* caller is the app's back end, whose
/// address says nothing about who is guessing.
pub async fn run(
    app: &Inner,
    addr: Option<IpAddr>,
    action: &str,
    request: &Value,
) -> Option<ActionResult> {
    Some(match action {
        "InitiateAuth" => initiate_auth(app, request, false, addr).await,
        "AdminInitiateAuth" => initiate_auth(app, request, true, None).await,
        "RespondToAuthChallenge" => respond_to_auth_challenge(app, request, false, addr).await,
        "AdminRespondToAuthChallenge" => respond_to_auth_challenge(app, request, true, None).await,
        "GetTokensFromRefreshToken" => get_tokens_from_refresh_token(app, request).await,
        _ => return None,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InitiateAuthRequest {
    auth_flow: String,
    #[serde(default)]
    auth_parameters: HashMap<String, String>,
    client_id: String,
    user_pool_id: Option<String>,
    /// For the pool's triggers.
    client_metadata: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RespondRequest {
    challenge_name: String,
    client_id: String,
    #[serde(default)]
    challenge_responses: HashMap<String, String>,
    session: Option<String>,
    user_pool_id: Option<String>,
    client_metadata: Option<BTreeMap<String, String>>,
}

/// The client an API call names; admin calls also name its pool.
pub async fn client_for(
    app: &Inner,
    client_id: &str,
    pool_id: Option<&str>,
) -> Result<AppClient, CognitoError> {
    let missing =
        || CognitoError::not_found(format!("User pool client {client_id} does not exist."));
    let client = app
        .store
        .client_anywhere(client_id)
        .await?
        .ok_or_else(missing)?;
    if pool_id.is_some_and(|p| p != client.pool_id) {
        return Err(missing());
    }
    Ok(client)
}

/// Checks `SECRET_HASH` = base64(HMAC-SHA256(secret, username + client_id)) for a
/// client with a secret (Cognito's rule); public clients send none.
pub async fn check_secret_hash(
    app: &Inner,
    client: &AppClient,
    username: &str,
    presented: Option<&str>,
) -> Result<(), CognitoError> {
    if client.is_public() {
        return Ok(());
    }
    let refused = || {
        CognitoError::not_authorized(format!(
            "Unable to verify secret hash for client {}",
            client.client_id
        ))
    };
    let presented = presented.ok_or_else(refused)?;
    let sealed = app
        .store
        .client_secret_sealed(&client.client_id)
        .await?
        .ok_or_else(refused)?;
    let secret = app
        .keys
        .master()
        .open(&client.client_id, &sealed)
        .map_err(|e| anyhow::anyhow!("unseal client secret: {e}"))?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(&secret).map_err(|e| anyhow::anyhow!("hmac: {e}"))?;
    mac.update(username.as_bytes());
    mac.update(client.client_id.as_bytes());
    let expected = STANDARD.encode(mac.finalize().into_bytes());
    if ct_eq(expected.as_bytes(), presented.as_bytes()) {
        Ok(())
    } else {
        Err(refused())
    }
}

fn require<'a>(params: &'a HashMap<String, String>, name: &str) -> Result<&'a str, CognitoError> {
    params
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| CognitoError::invalid(format!("Missing required parameter {name}")))
}

async fn initiate_auth(
    app: &Inner,
    request: &Value,
    admin: bool,
    addr: Option<IpAddr>,
) -> ActionResult {
    let r: InitiateAuthRequest = parse(request)?;
    if admin && r.user_pool_id.is_none() {
        return Err(CognitoError::invalid(
            "Missing required parameter UserPoolId",
        ));
    }
    let client = client_for(app, &r.client_id, r.user_pool_id.as_deref()).await?;
    let p = &r.auth_parameters;
    let flow = r.auth_flow.as_str();
    let needed = match (flow, admin) {
        ("USER_PASSWORD_AUTH", false) => "ALLOW_USER_PASSWORD_AUTH",
        ("ADMIN_USER_PASSWORD_AUTH" | "ADMIN_NO_SRP_AUTH", true) => {
            "ALLOW_ADMIN_USER_PASSWORD_AUTH"
        }
        ("USER_SRP_AUTH", _) => "ALLOW_USER_SRP_AUTH",
        ("REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN", _) => "ALLOW_REFRESH_TOKEN_AUTH",
        ("CUSTOM_AUTH", _) => "ALLOW_CUSTOM_AUTH",
        _ => {
            return Err(CognitoError::invalid(format!(
                "Unsupported auth flow {flow} for this action."
            )));
        }
    };
    if !client.explicit_auth_flows.iter().any(|f| f == needed) {
        return Err(CognitoError::invalid(format!(
            "{flow} flow not enabled for this client"
        )));
    }
    if needed == "ALLOW_REFRESH_TOKEN_AUTH" {
        return refresh(app, &client, p, r.client_metadata.as_ref()).await;
    }
    let attempt = attempt(app, &client, p, addr, r.client_metadata.as_ref()).await?;
    if needed == "ALLOW_USER_SRP_AUTH" {
        return start_srp(app, &attempt, p).await;
    }
    if needed == "ALLOW_CUSTOM_AUTH" {
        return start_custom(app, &client, &attempt, p).await;
    }
    let password = require(p, "PASSWORD")?;
    let outcome = sign_in::sign_in(app, &attempt, password).await;
    signed_in(
        app,
        &client,
        outcome.map_err(refusal_error)?,
        r.client_metadata.as_ref(),
    )
    .await
}

/// The sign-in attempt for the `USERNAME` of `params` (`AuthParameters` or
/// `ChallengeResponses`), once its `SECRET_HASH` checks for a client with a secret.
async fn attempt<'a>(
    app: &Inner,
    client: &'a AppClient,
    params: &'a HashMap<String, String>,
    addr: Option<IpAddr>,
    client_metadata: Option<&'a BTreeMap<String, String>>,
) -> Result<sign_in::Attempt<'a>, CognitoError> {
    let username = require(params, "USERNAME")?;
    let hash = params.get("SECRET_HASH").map(String::as_str);
    check_secret_hash(app, client, username, hash).await?;
    Ok(sign_in::Attempt {
        pool_id: &client.pool_id,
        client_id: &client.client_id,
        username,
        addr,
        client_metadata,
        hosted_page: false,
    })
}

/// Tokens for a ready user, or the challenge the sign-in goes on with.
async fn signed_in(
    app: &Inner,
    client: &AppClient,
    outcome: SignedIn,
    client_metadata: Option<&BTreeMap<String, String>>,
) -> ActionResult {
    let (name, user, parameters) = match outcome {
        SignedIn::Ready(user) => {
            return tokens(
                app,
                client,
                &user,
                "TokenGeneration_Authentication",
                client_metadata,
            )
            .await;
        }
        SignedIn::NewPasswordRequired(user) => {
            // What the client may read of the user (`ReadAttributes`).
            let schema = app.store.schema(&client.pool_id).await?;
            let attributes: serde_json::Map<String, Value> = user
                .attributes
                .iter()
                .filter(|(k, _)| schema.readable_by_client(&client.read_attributes, k))
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            let parameters = json!({
                "requiredAttributes": "[]",
                "userAttributes": Value::Object(attributes).to_string(),
            });
            (NEW_PASSWORD_REQUIRED, user, parameters)
        }
        SignedIn::Mfa(user, factor) => {
            let parameters = match factor {
                Factor::SoftwareToken => json!({}),
                Factor::Email => json!({
                    "CODE_DELIVERY_DELIVERY_MEDIUM": "EMAIL",
                    "CODE_DELIVERY_DESTINATION":
                        super::account::masked_email(user.attributes.get("email").map(String::as_str)),
                }),
            };
            (factor.as_str(), user, parameters)
        }
        SignedIn::MfaSetup(user) => (
            MFA_SETUP,
            user,
            json!({ "MFAS_CAN_SETUP": "[\"SOFTWARE_TOKEN_MFA\"]" }),
        ),
    };
    let mut parameters = parameters;
    parameters["USER_ID_FOR_SRP"] = json!(user.username);
    Ok(json!({
        "ChallengeName": name,
        "Session": seal_session(app, client, &user, name),
        "ChallengeParameters": parameters,
    }))
}

/// Signs the user in (`flows::sign_in::open_api_session`), in the API's words.
async fn tokens(
    app: &Inner,
    client: &AppClient,
    user: &User,
    source: &str,
    client_metadata: Option<&BTreeMap<String, String>>,
) -> ActionResult {
    let set = sign_in::open_api_session(app, client, user, source, client_metadata)
        .await
        .map_err(refusal_error)?;
    tracing::info!(pool_id = %client.pool_id, user_id = %user.user_id, "signed in through the API");
    Ok(json!({
        "ChallengeParameters": {},
        "AuthenticationResult": {
            "AccessToken": set.access_token,
            "ExpiresIn": set.expires_in,
            "TokenType": "Bearer",
            "RefreshToken": set.refresh_token,
            "IdToken": set.id_token,
        },
    }))
}

/// `REFRESH_TOKEN_AUTH`: new ID and access tokens from the directory as it is now, by
/// the same rules as `/oauth2/token` (`flows::refresh`); the refresh token stays valid
/// and none is returned. A client that rotates its refresh tokens must use
/// `GetTokensFromRefreshToken`, as on Cognito: this flow has no way to hand back the
/// new token.
async fn refresh(
    app: &Inner,
    client: &AppClient,
    p: &HashMap<String, String>,
    client_metadata: Option<&BTreeMap<String, String>>,
) -> ActionResult {
    if client.refresh_token_rotation {
        return Err(CognitoError::not_authorized(
            "Refresh token rotation is enabled for this app client: use GetTokensFromRefreshToken.",
        ));
    }
    let token = require(p, "REFRESH_TOKEN")?;
    let found = flows::refresh::find(app, client, token)
        .await
        .map_err(refresh_error)?;
    if !client.is_public() {
        // Cognito computes this SECRET_HASH with the user's username or sub.
        let hash = p.get("SECRET_HASH").map(String::as_str);
        if check_secret_hash(app, client, &found.user.username, hash)
            .await
            .is_err()
        {
            check_secret_hash(app, client, &found.user.user_id, hash).await?;
        }
    }
    let result = redeem_refresh(app, client, found, client_metadata).await?;
    Ok(json!({ "ChallengeParameters": {}, "AuthenticationResult": result }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetTokensFromRefreshTokenRequest {
    refresh_token: String,
    client_id: String,
    client_secret: Option<String>,
    client_metadata: Option<BTreeMap<String, String>>,
}

/// `GetTokensFromRefreshToken`: a refresh by `flows::refresh`, with rotation and reuse
/// detection when the client rotates (a rotated-out token presented again, after the
/// client's grace period, revokes the sign-in and is `RefreshTokenReuseException`). A
/// client with a secret sends it as `ClientSecret`.
async fn get_tokens_from_refresh_token(app: &Inner, request: &Value) -> ActionResult {
    let r: GetTokensFromRefreshTokenRequest = parse(request)?;
    let client = client_for(app, &r.client_id, None).await?;
    if !client.is_public()
        && !r
            .client_secret
            .as_deref()
            .is_some_and(|secret| client.verify_secret(secret))
    {
        return Err(CognitoError::not_authorized(format!(
            "Unable to verify secret for client {}",
            client.client_id
        )));
    }
    let found = flows::refresh::find(app, &client, &r.refresh_token)
        .await
        .map_err(refresh_error)?;
    let result = redeem_refresh(app, &client, found, r.client_metadata.as_ref()).await?;
    Ok(json!({ "AuthenticationResult": result }))
}

/// Uses a found refresh token for the sign-in's whole grant; the API's
/// `AuthenticationResult`, with the new refresh token when the client rotates.
async fn redeem_refresh(
    app: &Inner,
    client: &AppClient,
    found: flows::refresh::Presented,
    client_metadata: Option<&BTreeMap<String, String>>,
) -> Result<Value, CognitoError> {
    let scopes = found.granted();
    let set = flows::refresh::redeem(app, client, found, &scopes, Endpoint::Api, client_metadata)
        .await
        .map_err(refresh_error)?;
    let mut result = json!({
        "AccessToken": set.access_token,
        "ExpiresIn": set.expires_in,
        "TokenType": "Bearer",
        "IdToken": set.id_token,
    });
    if let Some(rotated) = set.refresh_token {
        result["RefreshToken"] = rotated.into();
    }
    Ok(result)
}

fn refresh_error(refusal: flows::refresh::RefreshRefusal) -> CognitoError {
    use flows::refresh::RefreshRefusal;
    match refusal {
        RefreshRefusal::Invalid => CognitoError::not_authorized("Invalid Refresh Token"),
        RefreshRefusal::Reused => CognitoError::new(
            "RefreshTokenReuseException",
            "Refresh Token has been revoked",
        ),
        RefreshRefusal::Internal(e) => e.into(),
    }
}

/// `USER_SRP_AUTH`: the `PASSWORD_VERIFIER` challenge (`flows::sign_in::start_srp`).
/// `USERNAME`/`USER_ID_FOR_SRP` echo the name's SRP identity for every name, real or
/// not, so the answer's fields do not tell whether the account exists.
async fn start_srp(
    app: &Inner,
    attempt: &sign_in::Attempt<'_>,
    p: &HashMap<String, String>,
) -> ActionResult {
    let srp_a = require(p, "SRP_A")?;
    let (challenge, identity) =
        sign_in::start_srp(app, attempt, srp_a)
            .await
            .map_err(|e| match e {
                sign_in::SrpRefusal::BadA => CognitoError::invalid("SRP_A is not valid."),
                sign_in::SrpRefusal::Refused(refusal) => refusal_error(refusal),
            })?;
    Ok(json!({
        "ChallengeName": "PASSWORD_VERIFIER",
        "ChallengeParameters": {
            "SALT": challenge.salt,
            "SRP_B": challenge.srp_b,
            "SECRET_BLOCK": challenge.secret_block,
            "USERNAME": identity,
            "USER_ID_FOR_SRP": identity,
        },
    }))
}

async fn respond_to_auth_challenge(
    app: &Inner,
    request: &Value,
    admin: bool,
    addr: Option<IpAddr>,
) -> ActionResult {
    let r: RespondRequest = parse(request)?;
    if admin && r.user_pool_id.is_none() {
        return Err(CognitoError::invalid(
            "Missing required parameter UserPoolId",
        ));
    }
    let client = client_for(app, &r.client_id, r.user_pool_id.as_deref()).await?;
    let c = &r.challenge_responses;
    let attempt = attempt(app, &client, c, addr, r.client_metadata.as_ref()).await?;
    let session = || {
        r.session
            .as_deref()
            .ok_or_else(|| CognitoError::invalid("Missing required parameter Session"))
    };
    match r.challenge_name.as_str() {
        "PASSWORD_VERIFIER" => password_verifier(app, &client, c, &attempt).await,
        "CUSTOM_CHALLENGE" => {
            let session = session()?;
            let answer = require(c, "ANSWER")?;
            let step = flows::custom_auth::respond(app, &client, &attempt, session, answer).await;
            custom_step(app, &client, &attempt, step).await
        }
        NEW_PASSWORD_REQUIRED => {
            let (user, challenged_at) =
                open_session(app, &client, session()?, NEW_PASSWORD_REQUIRED).await?;
            same_user(&user, &attempt)?;
            let pool = app
                .store
                .pool_by_id(&client.pool_id)
                .await?
                .ok_or_else(|| CognitoError::not_found("User pool does not exist."))?;
            let new_password = require(c, "NEW_PASSWORD")?;
            let outcome = sign_in::set_required_password(
                app,
                attempt.caller(),
                &pool,
                &user.user_id,
                challenged_at,
                new_password,
            )
            .await
            .map_err(session_refusal)?;
            let source = "TokenGeneration_NewPasswordChallenge";
            match outcome {
                SignedIn::Ready(user) => {
                    tokens(app, &client, &user, source, r.client_metadata.as_ref()).await
                }
                other => signed_in(app, &client, other, r.client_metadata.as_ref()).await,
            }
        }
        name @ ("SOFTWARE_TOKEN_MFA" | "EMAIL_OTP" | MFA_SETUP) => {
            let user = match Factor::parse(name) {
                Some(factor) => {
                    let (user, challenged_at) =
                        open_session(app, &client, session()?, name).await?;
                    same_user(&user, &attempt)?;
                    let code = require(c, &format!("{name}_CODE"))?;
                    flows::mfa::answer(
                        app,
                        &client.pool_id,
                        &user.user_id,
                        challenged_at,
                        factor,
                        code,
                    )
                    .await
                }
                // Only a session VerifySoftwareToken returned after a right first code.
                None => {
                    let (user, challenged_at) =
                        open_session(app, &client, session()?, MFA_SETUP_VERIFIED).await?;
                    same_user(&user, &attempt)?;
                    flows::mfa::finish_setup(app, &client.pool_id, &user.user_id, challenged_at)
                        .await
                }
            }
            .map_err(session_refusal)?;
            tokens(
                app,
                &client,
                &user,
                "TokenGeneration_Authentication",
                r.client_metadata.as_ref(),
            )
            .await
        }
        other => Err(CognitoError::invalid(format!(
            "Unsupported challenge {other}."
        ))),
    }
}

/// A challenge answered for another user than its session's is refused.
fn same_user(user: &User, attempt: &sign_in::Attempt<'_>) -> Result<(), CognitoError> {
    if user.username.eq_ignore_ascii_case(attempt.username) {
        Ok(())
    } else {
        Err(CognitoError::not_authorized(
            "Invalid session for the user.",
        ))
    }
}

/// A challenge's refusal; one overtaken by a change of the user's password or status
/// means the session no longer stands for the credential it proved.
fn session_refusal(refusal: Refusal) -> CognitoError {
    match refusal {
        Refusal::BadCredentials => expired_session(),
        other => refusal_error(other),
    }
}

/// `PASSWORD_VERIFIER`: every parameter is required before the user is looked up, then
/// `flows::sign_in::verify_srp` checks the proof.
async fn password_verifier(
    app: &Inner,
    client: &AppClient,
    c: &HashMap<String, String>,
    attempt: &sign_in::Attempt<'_>,
) -> ActionResult {
    let secret_block = require(c, "PASSWORD_CLAIM_SECRET_BLOCK")?;
    let timestamp = require(c, "TIMESTAMP")?;
    let signature = require(c, "PASSWORD_CLAIM_SIGNATURE")?;
    let proof = sign_in::SrpProof {
        secret_block,
        timestamp,
        signature,
    };
    let outcome = sign_in::verify_srp(app, attempt, &proof)
        .await
        .map_err(refusal_error)?;
    signed_in(app, client, outcome, attempt.client_metadata).await
}

/// `CUSTOM_AUTH` (`flows::custom_auth::start`). The password-first variant (`SRP_A`,
/// then `PASSWORD_VERIFIER`) is not implemented, and is refused as such.
async fn start_custom(
    app: &Inner,
    client: &AppClient,
    attempt: &sign_in::Attempt<'_>,
    p: &HashMap<String, String>,
) -> ActionResult {
    if p.contains_key("SRP_A") {
        return Err(CognitoError::invalid(
            "SRP_A in CUSTOM_AUTH (a custom flow that begins with the password) is not supported by cognate: leave SRP_A out and let DefineAuthChallenge ask for CUSTOM_CHALLENGE.",
        ));
    }
    let step = flows::custom_auth::start(app, client, attempt).await;
    custom_step(app, client, attempt, step).await
}

/// A custom sign-in's step in the API's words: tokens, or the next `CUSTOM_CHALLENGE`
/// with the create trigger's public parameters and `USERNAME` (as the caller sent it,
/// for real and unknown names alike).
async fn custom_step(
    app: &Inner,
    client: &AppClient,
    attempt: &sign_in::Attempt<'_>,
    step: Result<flows::custom_auth::Step, flows::custom_auth::CustomRefusal>,
) -> ActionResult {
    use flows::custom_auth::{CustomRefusal, Step};
    match step {
        Ok(Step::Ready(user)) => {
            tokens(
                app,
                client,
                &user,
                "TokenGeneration_Authentication",
                attempt.client_metadata,
            )
            .await
        }
        Ok(Step::Challenge {
            session,
            mut parameters,
        }) => {
            parameters.insert("USERNAME".into(), attempt.username.into());
            Ok(json!({
                "ChallengeName": "CUSTOM_CHALLENGE",
                "Session": session,
                "ChallengeParameters": parameters,
            }))
        }
        Err(CustomRefusal::NotConfigured) => Err(CognitoError::invalid(
            "Custom auth lambda trigger is not configured for the user pool.",
        )),
        Err(CustomRefusal::UserNotFound) => Err(CognitoError::user_not_found()),
        Err(CustomRefusal::InvalidSession) => Err(expired_session()),
        Err(CustomRefusal::WrongUser) => Err(CognitoError::not_authorized(
            "Invalid session for the user.",
        )),
        Err(CustomRefusal::Refused(refusal)) => Err(refusal_error(refusal)),
    }
}

/// What a challenge session carries, sealed with the master key so any instance can
/// continue it and nobody can forge one.
#[derive(Serialize, Deserialize)]
struct ChallengeSession {
    pool_id: String,
    client_id: String,
    user_id: String,
    expires_at: i64,
    /// The user's credential version when the password was proven: any change of the
    /// password or status since ends the challenge. Sessions sealed before it existed
    /// have none and are refused.
    #[serde(default)]
    credential_version: Option<i64>,
    /// The challenge the session answers (`NEW_PASSWORD_REQUIRED`, `SOFTWARE_TOKEN_MFA`,
    /// `EMAIL_OTP`, `MFA_SETUP`, `MFA_SETUP:verified`), so a session given for one step
    /// cannot answer another. Sessions sealed before it existed were all for a new
    /// password.
    #[serde(default)]
    step: Option<String>,
}

/// Seals a challenge session for `user` at the step `step`.
pub(super) fn seal_session(app: &Inner, client: &AppClient, user: &User, step: &str) -> String {
    let s = ChallengeSession {
        step: Some(step.to_string()),
        pool_id: client.pool_id.clone(),
        client_id: client.client_id.clone(),
        user_id: user.user_id.clone(),
        // The client's `AuthSessionValidity`, in minutes.
        expires_at: app.clock.now() + client.auth_session_validity * 60,
        credential_version: Some(user.credential_version),
    };
    let plain = serde_json::to_vec(&s).expect("a session serialises");
    URL_SAFE_NO_PAD.encode(app.keys.master().seal("auth-session", &plain))
}

fn expired_session() -> CognitoError {
    CognitoError::not_authorized("Invalid session for the user, session is expired.")
}

/// What a sealed session says, if the seal holds.
fn unseal_session(app: &Inner, session: &str) -> Option<ChallengeSession> {
    let sealed = URL_SAFE_NO_PAD.decode(session).ok()?;
    let plain = app.keys.master().open("auth-session", &sealed).ok()?;
    serde_json::from_slice(&plain).ok()
}

/// The app client a challenge session was given through (for the actions that take a
/// session without a `ClientId`).
pub(super) fn session_client_id(app: &Inner, session: &str) -> Option<String> {
    unseal_session(app, session).map(|s| s.client_id)
}

/// The user a challenge session for the step `step` is for, and the credential
/// version it proved.
pub(super) async fn open_session(
    app: &Inner,
    client: &AppClient,
    session: &str,
    step: &str,
) -> Result<(User, i64), CognitoError> {
    let invalid = expired_session;
    let s = unseal_session(app, session).ok_or_else(invalid)?;
    let Some(version) = s.credential_version else {
        return Err(invalid());
    };
    let sealed_step = s.step.as_deref().unwrap_or(NEW_PASSWORD_REQUIRED);
    if sealed_step != step
        || s.client_id != client.client_id
        || s.pool_id != client.pool_id
        || s.expires_at <= app.clock.now()
    {
        return Err(invalid());
    }
    let user = app
        .store
        .user_by_id(&s.pool_id, &s.user_id)
        .await?
        .ok_or_else(invalid)?;
    Ok((user, version))
}
