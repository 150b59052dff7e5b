//! Console operators (issue 20): the admin console's own accounts, never pool users.
//! Each has a name, an argon2id password (the users' hashing, in its bounded slots) and
//! an authenticator (TOTP, the users' code: SHA-1, six digits, 30-second steps, each
//! step good once) whose key is sealed with the master key. A sign-in needs all three
//! and is throttled like a pool user's; it starts a session stored in the database
//! under a keyed digest of the cookie's random value, so every instance knows it.

use std::net::IpAddr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;

use crate::error::AppError;
use crate::services::Services;
use crate::store::{ConsoleSessionRow, OperatorRow};
use crate::users::{mfa, password};

/// A session unused this long is over.
pub const IDLE_TIMEOUT: i64 = 30 * 60;
/// A session this old is over, however busy.
pub const LIFETIME: i64 = 12 * 60 * 60;
/// How recent a password-and-code step must be for a destructive action.
pub const REAUTH_WINDOW: i64 = 5 * 60;
/// The shortest operator password.
pub const MIN_PASSWORD: usize = 12;
/// The issuer an authenticator app shows beside the operator's name.
const ISSUER: &str = "cognate console";

/// A new operator's authenticator, shown once.
#[derive(Serialize)]
pub struct NewOperator {
    pub name: String,
    /// The authenticator key in base32.
    pub totp_secret: String,
    pub otpauth_uri: String,
}

impl std::fmt::Debug for NewOperator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewOperator")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// An operator as listed.
#[derive(Debug, Serialize)]
pub struct OperatorSummary {
    pub name: String,
    pub created_at: i64,
    pub last_sign_in_at: Option<i64>,
}

/// The key names are compared under: trimmed, lower case.
fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

fn seal_context(operator_id: &str) -> String {
    format!("console-totp:{operator_id}")
}

/// Creates an operator with `password` and a new authenticator.
pub async fn create(app: &Services, name: &str, password: &str) -> Result<NewOperator, AppError> {
    let name = name.trim();
    let valid = !name.is_empty()
        && name.chars().count() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if !valid {
        return Err(AppError::Invalid(
            "an operator name is 1 to 64 letters, digits, '.', '_', '-' or '@'".into(),
        ));
    }
    if password.chars().count() < MIN_PASSWORD {
        return Err(AppError::Invalid(format!(
            "an operator password has at least {MIN_PASSWORD} characters"
        )));
    }
    let operator_id = uuid::Uuid::new_v4().to_string();
    let key = mfa::new_key();
    let sealed = STANDARD.encode(app.keys.master().seal(&seal_context(&operator_id), &key));
    let row = OperatorRow {
        operator_id,
        name: name.to_string(),
        password_hash: password::hash(password).await?,
        totp_secret: sealed,
        created_at: app.clock.now(),
        last_sign_in_at: None,
    };
    app.store
        .insert_operator(&row, &name_key(name))
        .await
        .map_err(|e| match AppError::from(e) {
            AppError::Conflict(_) => AppError::Conflict("an operator with that name"),
            other => other,
        })?;
    let secret = mfa::base32(&key);
    let otpauth_uri = mfa::otpauth_uri(&secret, ISSUER, name)
        .ok_or_else(|| anyhow::anyhow!("otpauth URI of a new key"))?;
    Ok(NewOperator {
        name: name.to_string(),
        totp_secret: secret,
        otpauth_uri,
    })
}

/// Every operator.
pub async fn list(app: &Services) -> Result<Vec<OperatorSummary>, AppError> {
    Ok(app
        .store
        .operators()
        .await?
        .into_iter()
        .map(|o| OperatorSummary {
            name: o.name,
            created_at: o.created_at,
            last_sign_in_at: o.last_sign_in_at,
        })
        .collect())
}

/// Deletes an operator and ends its sessions.
pub async fn delete(app: &Services, name: &str) -> Result<(), AppError> {
    match app.store.delete_operator(&name_key(name)).await? {
        true => Ok(()),
        false => Err(AppError::NotFound("operator")),
    }
}

/// How a sign-in (or re-authentication) fared.
#[derive(Debug)]
pub enum Outcome {
    /// Name, password and code were right (a sign-in: the new session's cookie value).
    Accepted(String),
    /// Something was wrong; which is not said.
    Refused,
    /// Too many failures: try again after this many seconds.
    Throttled(i64),
}

/// Checks name, password and a current code (used up when right), counting failures
/// under the throttle's keys. The operator on success.
async fn check(
    app: &Services,
    name: &str,
    password: &str,
    code: &str,
    address: Option<IpAddr>,
) -> Result<Result<OperatorRow, Outcome>, AppError> {
    let keys = crate::throttle::console_keys(name, address);
    let now = app.clock.now();
    if let Some(wait) = crate::throttle::blocked_for(&app.store, &keys, now).await? {
        return Ok(Err(Outcome::Throttled(wait)));
    }
    let operator = app.store.operator_by_name(&name_key(name)).await?;
    // An unknown name still verifies a dummy hash: the time does not tell.
    let password_ok = password::verify(
        operator.as_ref().map(|o| o.password_hash.as_str()),
        password,
    )
    .await;
    let accepted = match operator {
        Some(operator) if password_ok && code_ok(app, &operator, code, now).await? => {
            Some(operator)
        }
        _ => None,
    };
    match accepted {
        Some(operator) => {
            crate::throttle::record_success(&app.store, &keys).await?;
            Ok(Ok(operator))
        }
        None => {
            crate::throttle::record_failure(&app.store, &keys, now).await?;
            Ok(Err(Outcome::Refused))
        }
    }
}

/// Whether `code` is the operator's current code, not used before (and uses it up).
async fn code_ok(
    app: &Services,
    operator: &OperatorRow,
    code: &str,
    now: i64,
) -> Result<bool, AppError> {
    let sealed = STANDARD
        .decode(&operator.totp_secret)
        .map_err(|e| anyhow::anyhow!("stored operator key: {e}"))?;
    let key = app
        .keys
        .master()
        .open(&seal_context(&operator.operator_id), &sealed)
        .map_err(|e| anyhow::anyhow!("unseal operator key: {e}"))?;
    let Some(step) = mfa::matching_step(&key, code, now) else {
        return Ok(false);
    };
    Ok(app
        .store
        .use_operator_totp_step(&operator.operator_id, step)
        .await?)
}

/// The digest a session's cookie value is stored under.
fn session_digest(app: &Services, token: &str) -> String {
    hex::encode(
        app.keys
            .digests()
            .keyed_digest("at-rest:console-session", &[token.as_bytes()]),
    )
}

/// Signs an operator in: on success a new session (never one the browser brought,
/// so a planted cookie value cannot become signed in).
pub async fn sign_in(
    app: &Services,
    name: &str,
    password: &str,
    code: &str,
    address: Option<IpAddr>,
) -> Result<Outcome, AppError> {
    let operator = match check(app, name, password, code, address).await? {
        Ok(operator) => operator,
        Err(outcome) => return Ok(outcome),
    };
    let token = crate::crypto::random_token(32);
    app.store
        .insert_console_session(
            &session_digest(app, &token),
            &operator.operator_id,
            app.clock.now(),
        )
        .await?;
    Ok(Outcome::Accepted(token))
}

/// A signed-in console session.
#[derive(Debug, Clone)]
pub struct Session {
    digest: String,
    pub operator_id: String,
    /// The operator's name.
    pub name: String,
    /// When the operator last gave password and code.
    pub reauth_at: i64,
}

impl Session {
    /// Whether a destructive action may run without asking again.
    pub fn recently_authenticated(&self, now: i64) -> bool {
        now - self.reauth_at <= REAUTH_WINDOW
    }
}

/// The live session whose cookie value is `token`, marked as used; `None` for an
/// unknown, idle or expired one (which is deleted).
pub async fn session(app: &Services, token: &str) -> Result<Option<Session>, AppError> {
    if token.is_empty() {
        return Ok(None);
    }
    let digest = session_digest(app, token);
    let Some(row) = app.store.console_session(&digest).await? else {
        return Ok(None);
    };
    let now = app.clock.now();
    if is_stale(&row, now) {
        app.store
            .delete_console_session(&digest, now - IDLE_TIMEOUT, now - LIFETIME)
            .await?;
        return Ok(None);
    }
    app.store.touch_console_session(&digest, now).await?;
    Ok(Some(Session {
        digest,
        operator_id: row.operator_id,
        name: row.name,
        reauth_at: row.reauth_at,
    }))
}

fn is_stale(row: &ConsoleSessionRow, now: i64) -> bool {
    now - row.seen_at > IDLE_TIMEOUT || now - row.created_at > LIFETIME
}

/// Asks the session's operator for password and code again (before a destructive
/// action); on success the session counts as recently authenticated.
pub async fn reauthenticate(
    app: &Services,
    session: &Session,
    password: &str,
    code: &str,
    address: Option<IpAddr>,
) -> Result<Outcome, AppError> {
    match check(app, &session.name, password, code, address).await? {
        Ok(operator) if operator.operator_id == session.operator_id => {}
        Ok(_) => return Ok(Outcome::Refused),
        Err(outcome) => return Ok(outcome),
    }
    app.store
        .reauth_console_session(&session.digest, app.clock.now())
        .await?;
    Ok(Outcome::Accepted(String::new()))
}

/// Ends the session (and sweeps stale ones).
pub async fn sign_out(app: &Services, session: &Session) -> Result<(), AppError> {
    let now = app.clock.now();
    app.store
        .delete_console_session(&session.digest, now - IDLE_TIMEOUT, now - LIFETIME)
        .await?;
    Ok(())
}
