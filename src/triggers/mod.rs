//! Cognito's Lambda triggers (issue 16): a pool's `LambdaConfig` names, per trigger, a
//! target, and the shared operations (`flows`) raise the trigger there with Cognito's
//! event JSON and apply what comes back, as Cognito applies a Lambda's answer.
//!
//! A target is either
//! - a Lambda ARN (`arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`),
//!   invoked through the Lambda Invoke API (`POST /2015-03-31/functions/<name>/
//!   invocations`) at the operator's `--lambda-endpoint` (`sam local start-lambda`, or
//!   the runners in `tools/lambda_runner/`), or, without one, at AWS Lambda in the
//!   ARN's region when AWS credentials are set; requests are SigV4-signed whenever
//!   credentials are set, so one pool definition works locally and against AWS; or
//! - an `https://` URL, a webhook POSTed the same event JSON and answering with the
//!   event, signed as Standard Webhooks 1.0 (security matrix WH-01): `webhook-id` (one
//!   per delivery), `webhook-timestamp` (unix seconds) and `webhook-signature:
//!   v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`, the key being the pool's
//!   trigger secret `whsec_<base64 key>` (sealed with the master key at rest). Loopback,
//!   private, link-local and metadata addresses are refused when configured and when
//!   resolved at send time (WH-03, `crate::net_guard`); the development flag
//!   `--trigger-allow-private` allows loopback and private ones, over plain `http://`.
//!
//! Every invocation has Cognito's 5-second limit, a bounded answer, follows no
//! redirect, goes through a shared client (connections reused), is counted in
//! `/metrics` and kept in the pool's trigger log. A pool without triggers pays nothing: its settings are already loaded
//! by the operation, or cached here.

pub mod events;
pub mod target;

use std::time::Instant;

use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;

use crate::error::TriggerError;
use crate::model::pool::PoolSettings;
pub use crate::model::triggers::{LambdaConfig, PreTokenGenerationConfig, Trigger};
use crate::services::Services;
use crate::store::NewTriggerLog;
use target::Target;

/// The largest answer read from a target.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// What `callerContext.awsSdkVersion` says: Cognito's own value when the SDK is unknown.
const SDK_VERSION: &str = "aws-sdk-unknown-unknown";

/// The sealing context of a pool's trigger secret.
fn secret_context(pool_id: &str) -> String {
    format!("trigger-secret:{pool_id}")
}

/// One trigger invocation: what Cognito puts in the event.
pub struct Call<'a> {
    pub pool_id: &'a str,
    pub settings: &'a PoolSettings,
    pub trigger: Trigger,
    /// `triggerSource`, e.g. `PreSignUp_SignUp`.
    pub source: &'a str,
    pub user_name: &'a str,
    /// `callerContext.clientId`; Cognito's `CLIENT_ID_NOT_APPLICABLE` without one.
    pub client_id: Option<&'a str>,
    pub request: Value,
    pub response: Value,
    /// The event's `version`: `"1"`, or the pre token generation version.
    pub version: &'a str,
}

/// Raises `call.trigger` if the pool has a target for it: `None` when it has none (and
/// nothing was done), else the `response` object of the event the target returned.
pub async fn raise(
    app: &Services,
    call: Call<'_>,
) -> Result<Option<Map<String, Value>>, TriggerError> {
    let Some(target) = call.settings.lambda_config.target(call.trigger) else {
        return Ok(None);
    };
    let region = call.pool_id.split('_').next().unwrap_or("us-east-1");
    let event = json!({
        "version": call.version,
        "triggerSource": call.source,
        "region": region,
        "userPoolId": call.pool_id,
        "userName": call.user_name,
        "callerContext": {
            "awsSdkVersion": SDK_VERSION,
            "clientId": call.client_id.unwrap_or("CLIENT_ID_NOT_APPLICABLE"),
        },
        "request": call.request,
        "response": call.response,
    });
    let started = Instant::now();
    let result = invoke(app, &call, target, &event).await;
    let took = started.elapsed();
    let duration_ms = i64::try_from(took.as_millis()).unwrap_or(i64::MAX);
    let outcome = match &result {
        Ok(_) => "ok",
        Err(e) => e.outcome(),
    };
    app.metrics.trigger_call(call.source, outcome, took);
    let (answer, error) = match &result {
        Ok(returned) => (Some(redact(returned)), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let answer = answer.map(|a| a.to_string());
    let sent = redact(&event).to_string();
    let entry = NewTriggerLog {
        pool_id: call.pool_id,
        at: app.clock.now(),
        trigger_source: call.source,
        user_name: call.user_name,
        client_id: call.client_id,
        target,
        duration_ms,
        outcome,
        error: error.as_deref(),
        request: &sent,
        response: answer.as_deref(),
    };
    if let Err(e) = app
        .store
        .insert_trigger_log(&entry, LOG_KEPT_PER_POOL)
        .await
    {
        // The log is for operators; the operation goes on without it.
        tracing::warn!(error = %e, pool_id = call.pool_id, "trigger log not written");
    }
    let returned = result?;
    match returned.get("response") {
        None | Some(Value::Null) => Ok(Some(Map::new())),
        Some(Value::Object(r)) => Ok(Some(r.clone())),
        Some(_) => Err(invalid(call.trigger, "`response` is not an object")),
    }
}

/// The pool's settings if it has any trigger (from the store's pool cache).
pub async fn settings_of(
    app: &Services,
    pool_id: &str,
) -> Result<Option<std::sync::Arc<PoolSettings>>, crate::store::StoreError> {
    let pool = app.store.pool_cached(pool_id).await?;
    Ok(pool
        .filter(|p| !p.settings.lambda_config.is_empty())
        .map(|p| std::sync::Arc::new(p.settings.clone())))
}

/// How many invocations the trigger log keeps per pool; older ones are dropped.
pub const LOG_KEPT_PER_POOL: i64 = 1000;

pub fn invalid(trigger: Trigger, reason: &str) -> TriggerError {
    TriggerError::InvalidResponse {
        trigger: trigger.as_str(),
        reason: reason.to_string(),
    }
}

fn unexpected(trigger: Trigger, reason: impl Into<String>) -> TriggerError {
    TriggerError::Unexpected {
        trigger: trigger.as_str(),
        reason: reason.into(),
    }
}

/// Sends the event to `target` and returns the event it answered with.
async fn invoke(
    app: &Services,
    call: &Call<'_>,
    target: &str,
    event: &Value,
) -> Result<Value, TriggerError> {
    let trigger = call.trigger;
    let body = event.to_string();
    let allow_private = app.triggers.allow_private;
    let target = Target::parse(target, allow_private).map_err(|e| unexpected(trigger, e))?;
    let request = match &target {
        Target::Lambda {
            function,
            qualifier,
            region,
        } => {
            let credentials = app.triggers.aws_credentials.as_ref();
            let endpoint = match (&app.triggers.lambda_endpoint, credentials) {
                (Some(endpoint), _) => endpoint.clone(),
                (None, Some(_)) => format!("https://lambda.{region}.amazonaws.com"),
                (None, None) => {
                    return Err(unexpected(
                        trigger,
                        "no Lambda endpoint (--lambda-endpoint) and no AWS credentials are configured",
                    ));
                }
            };
            // Names and qualifiers are letters, digits, `-` and `_` (or `$LATEST`).
            let mut url = format!("{endpoint}/2015-03-31/functions/{function}/invocations");
            if let Some(q) = qualifier {
                url.push_str("?Qualifier=");
                url.push_str(&q.replace('$', "%24"));
            }
            let mut request = app
                .triggers
                .http
                .post(&url)
                .header("X-Amz-Invocation-Type", "RequestResponse");
            if let Some(c) = credentials {
                let signer = crate::sigv4::Signer {
                    access_key_id: &c.access_key_id,
                    secret_access_key: &c.secret_access_key,
                    session_token: c.session_token.as_deref(),
                    region,
                    service: "lambda",
                };
                let signed = signer
                    .sign_post(
                        &url,
                        &[
                            ("content-type", "application/json"),
                            ("x-amz-invocation-type", "RequestResponse"),
                        ],
                        body.as_bytes(),
                        app.clock.now(),
                    )
                    .map_err(|e| {
                        unexpected(trigger, format!("the request could not be signed: {e}"))
                    })?;
                for (name, value) in signed {
                    request = request.header(name, value);
                }
            }
            request
        }
        Target::Webhook(url) => {
            // Literal addresses were checked by `Target::parse`; names are checked by the
            // webhook client's resolver, whose addresses are the ones connected to.
            let secrets = open_secrets(app, call.pool_id, call.settings);
            if secrets.is_empty() {
                return Err(unexpected(trigger, "the pool has no trigger secret"));
            }
            let id = format!("msg_{}", uuid::Uuid::new_v4().simple());
            let t = app.clock.now();
            let signatures: Vec<String> = secrets
                .iter()
                .map(|s| signature(s, &id, t, &body))
                .collect();
            app.triggers
                .webhook_http
                .post(url.as_str())
                .header("webhook-id", &id)
                .header("webhook-timestamp", t.to_string())
                .header("webhook-signature", signatures.join(" "))
                .header("X-Cognate-Trigger-Source", call.source)
        }
    };
    let response = request
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| {
            unexpected(
                trigger,
                if e.is_timeout() {
                    "TimeoutError".to_string()
                } else {
                    "the target could not be reached".to_string()
                },
            )
        })?;
    let status = response.status();
    let function_error = response.headers().contains_key("x-amz-function-error");
    let bytes = read_bounded(response).await.map_err(|e| match e {
        Bounded::TooLarge => invalid(trigger, "the answer is too large"),
        Bounded::Failed(timeout) => unexpected(
            trigger,
            if timeout {
                "TimeoutError"
            } else {
                "the answer was cut off"
            },
        ),
    })?;
    let is_lambda = matches!(target, Target::Lambda { .. });
    if is_lambda && !status.is_success() {
        // The Invoke API itself failed (no such function, …).
        return Err(unexpected(
            trigger,
            format!("the Lambda endpoint answered {}", status.as_u16()),
        ));
    }
    if function_error || !status.is_success() {
        return Err(TriggerError::Validation {
            trigger: trigger.as_str(),
            message: error_message(&bytes),
        });
    }
    let returned: Value =
        serde_json::from_slice(&bytes).map_err(|_| invalid(trigger, "the answer is not JSON"))?;
    if !returned.is_object() {
        return Err(invalid(trigger, "the answer is not the event"));
    }
    Ok(returned)
}

enum Bounded {
    TooLarge,
    Failed(bool),
}

async fn read_bounded(mut response: reqwest::Response) -> Result<Vec<u8>, Bounded> {
    let mut out = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if out.len() + chunk.len() > MAX_RESPONSE_BYTES {
                    return Err(Bounded::TooLarge);
                }
                out.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(out),
            Err(e) => return Err(Bounded::Failed(e.is_timeout())),
        }
    }
}

/// The message of a function's error: Lambda's `errorMessage`, a webhook's `message`
/// or `errorMessage`, or its plain-text body (cut to 512 characters).
fn error_message(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        for key in ["errorMessage", "message", "error"] {
            if let Some(m) = v.get(key).and_then(Value::as_str) {
                return m.chars().take(512).collect();
            }
        }
        if let Some(m) = v.as_str() {
            return m.chars().take(512).collect();
        }
    }
    String::from_utf8_lossy(body)
        .trim()
        .chars()
        .take(512)
        .collect()
}

/// The prefix of a Standard Webhooks secret; the rest is the key, in base64.
const SECRET_PREFIX: &str = "whsec_";

/// The HMAC key of a secret: `whsec_<base64>` decoded, else the secret's bytes.
fn signing_key(secret: &str) -> Vec<u8> {
    use base64::Engine;
    secret
        .strip_prefix(SECRET_PREFIX)
        .and_then(|k| base64::engine::general_purpose::STANDARD.decode(k).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec())
}

/// Standard Webhooks 1.0's `webhook-signature` value (security matrix WH-01):
/// `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> String {
    use base64::Engine;
    let mut mac = Hmac::<Sha256>::new_from_slice(&signing_key(secret)).expect("any key length");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

/// How long deliveries are also signed with the secret a rotation replaced.
pub const ROTATION_OVERLAP_SECONDS: i64 = 24 * 3600;

/// A sealed secret, opened.
fn open_sealed(app: &Services, pool_id: &str, sealed: &str) -> Option<String> {
    use base64::Engine;
    let sealed = base64::engine::general_purpose::STANDARD
        .decode(sealed)
        .ok()?;
    let plain = app
        .keys
        .master()
        .open(&secret_context(pool_id), &sealed)
        .ok()?;
    String::from_utf8(plain).ok()
}

/// The secrets deliveries are signed with: the pool's, and the one it replaced while
/// the rotation is younger than [`ROTATION_OVERLAP_SECONDS`] (WH-01).
pub fn open_secrets(app: &Services, pool_id: &str, settings: &PoolSettings) -> Vec<String> {
    let overlapping = settings
        .trigger_secret_rotated_at
        .is_some_and(|at| app.clock.now() < at.saturating_add(ROTATION_OVERLAP_SECONDS));
    let previous = settings
        .previous_trigger_secret
        .as_deref()
        .filter(|_| overlapping);
    [settings.trigger_secret.as_deref(), previous]
        .into_iter()
        .flatten()
        .filter_map(|sealed| open_sealed(app, pool_id, sealed))
        .collect()
}

/// Makes a new trigger secret for the pool, seals it into `settings` and returns it;
/// the secret it replaces stays in use beside it for [`ROTATION_OVERLAP_SECONDS`].
pub fn new_secret(app: &Services, pool_id: &str, settings: &mut PoolSettings) -> String {
    use base64::Engine;
    let secret = format!(
        "{SECRET_PREFIX}{}",
        base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>())
    );
    let sealed = app
        .keys
        .master()
        .seal(&secret_context(pool_id), secret.as_bytes());
    let replaced = settings
        .trigger_secret
        .replace(base64::engine::general_purpose::STANDARD.encode(sealed));
    if replaced.is_some() {
        settings.previous_trigger_secret = replaced;
        settings.trigger_secret_rotated_at = Some(app.clock.now());
    }
    secret
}

/// Gives the pool a trigger secret if one of its targets is a webhook and it has none.
pub fn ensure_secret(app: &Services, pool_id: &str, settings: &mut PoolSettings) {
    let has_webhook = settings
        .lambda_config
        .targets()
        .iter()
        .any(|(_, t)| matches!(Target::parse(t, true), Ok(Target::Webhook(_))));
    if has_webhook && settings.trigger_secret.is_none() {
        new_secret(app, pool_id, settings);
    }
}

/// Checks every target of a `LambdaConfig`; the message names the field.
/// `allow_private` is the development flag (`--trigger-allow-private`).
pub fn check_config(config: &LambdaConfig, allow_private: bool) -> Result<(), String> {
    for (field, value) in config.targets() {
        Target::parse(value, allow_private).map_err(|e| format!("LambdaConfig.{field}: {e}"))?;
    }
    if let Some(c) = &config.pre_token_generation_config {
        if !["V1_0", "V2_0", "V3_0"].contains(&c.lambda_version.as_str()) {
            return Err(format!(
                "LambdaConfig.PreTokenGenerationConfig.LambdaVersion {:?} must be V1_0, V2_0 or V3_0",
                c.lambda_version
            ));
        }
        if config
            .pre_token_generation
            .as_ref()
            .is_some_and(|p| *p != c.lambda_arn)
        {
            return Err(
                "LambdaConfig.PreTokenGeneration and PreTokenGenerationConfig.LambdaArn must be the same"
                    .into(),
            );
        }
    }
    Ok(())
}

/// Keys whose values the trigger log never keeps.
fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["password", "code", "token", "secret", "answer"]
        .iter()
        .any(|s| k.contains(s))
}

/// The value with every password, code, token, secret and challenge answer replaced.
pub fn redact(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    // A challenge's private parameters hold its answer, whatever
                    // their names.
                    let whole = k == "privateChallengeParameters" && v.is_object();
                    let v = if whole || (is_secret_key(k) && !v.is_null() && !v.is_object()) {
                        Value::from("<redacted>")
                    } else {
                        redact(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Standard Webhooks 1.0 vectors: the one published with the reference libraries
    // (svix), checked independently with python3's hmac module.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: i64 = 1614265330;
    const BODY: &str = r#"{"test": 2432232314}"#;
    const EXPECTED: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    // Matrix: WH-01
    #[test]
    fn signatures_follow_standard_webhooks() {
        assert_eq!(signature(SECRET, ID, TIMESTAMP, BODY), EXPECTED);
    }

    #[test]
    fn a_tampered_body_id_or_timestamp_or_a_wrong_secret_changes_the_signature() {
        assert_ne!(
            signature(SECRET, ID, TIMESTAMP, r#"{"test": 2432232315}"#),
            EXPECTED
        );
        assert_ne!(signature(SECRET, "msg_other", TIMESTAMP, BODY), EXPECTED);
        assert_ne!(signature(SECRET, ID, TIMESTAMP + 1, BODY), EXPECTED);
        assert_ne!(
            signature(
                "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                ID,
                TIMESTAMP,
                BODY
            ),
            EXPECTED
        );
    }

    #[test]
    fn passwords_codes_and_tokens_are_redacted() {
        let v = json!({"request": {"password": "p", "codeParameter": "{####}",
            "userAttributes": {"email": "a@b.c"}, "clientMetadata": {"x": "y"}}});
        let r = redact(&v);
        assert_eq!(r["request"]["password"], "<redacted>");
        assert_eq!(r["request"]["codeParameter"], "<redacted>");
        assert_eq!(r["request"]["userAttributes"]["email"], "a@b.c");
    }

    #[test]
    fn a_challenges_private_parameters_and_answer_are_redacted() {
        let v = json!({"request": {"privateChallengeParameters": {"otp": "123456"},
            "challengeAnswer": "123456"},
            "response": {"privateChallengeParameters": {"otp": "123456"},
            "publicChallengeParameters": {"hint": "mail"}}});
        let r = redact(&v);
        assert_eq!(r["request"]["privateChallengeParameters"], "<redacted>");
        assert_eq!(r["request"]["challengeAnswer"], "<redacted>");
        assert_eq!(r["response"]["privateChallengeParameters"], "<redacted>");
        assert_eq!(r["response"]["publicChallengeParameters"]["hint"], "mail");
    }

    #[test]
    fn error_messages_come_from_lambda_errors_webhook_bodies_and_text() {
        assert_eq!(
            error_message(br#"{"errorMessage":"no","errorType":"Exception"}"#),
            "no"
        );
        assert_eq!(error_message(br#"{"message":"nope"}"#), "nope");
        assert_eq!(error_message(b"plain refusal\n"), "plain refusal");
    }
}
