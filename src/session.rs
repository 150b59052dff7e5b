//! What the hosted-UI session remembers: per pool, who signed in and when, and the
//! short-lived steps of the account pages (a sign-up awaiting its code, a reset in
//! progress, a required new password, a second factor, a notice for the next page).
//! The session lives in the database (tower-sessions), so any instance can read it.

use std::collections::HashMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::error::AppError;
use crate::services::Services;
use crate::store::sessions::StoreUnavailable;
use crate::users::User;

const SIGNED_IN: &str = "signed_in";

/// Where the hosted pages' CSRF tokens live (`hosted_ui::csrf`), one per pool.
pub const CSRF_KEY: &str = "csrf_by_pool";

/// The session cookie's name over plain http (development).
pub const COOKIE: &str = "cognate_session";
/// … and behind TLS: the `__Host-` prefix makes browsers refuse the cookie unless it is
/// Secure, host-only and for path `/`, so no sibling subdomain can plant or shadow it.
pub const SECURE_COOKIE: &str = "__Host-cognate_session";

/// tower-sessions ends a session with a bare removal cookie (`name=; Path=/;
/// Max-Age=0`). Browsers ignore a `__Host-` cookie without `Secure`, so the removal
/// would never apply: this gives it the session cookie's own attributes.
pub async fn complete_removal_cookie(
    mut res: axum::response::Response,
) -> axum::response::Response {
    use axum::http::{HeaderValue, header::SET_COOKIE};
    let headers = res.headers_mut();
    let fixed: Vec<HeaderValue> = headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| match v.to_str() {
            Ok(c) if c.starts_with(&format!("{SECURE_COOKIE}=;")) && !c.contains("Secure") => {
                HeaderValue::from_str(&format!("{c}; Secure; HttpOnly; SameSite=Lax"))
                    .unwrap_or_else(|_| v.clone())
            }
            _ => v.clone(),
        })
        .collect();
    headers.remove(SET_COOKIE);
    for v in fixed {
        headers.append(SET_COOKIE, v);
    }
    res
}

/// A sign-in ends after this long without a visit (seconds, on the server's clock).
pub const IDLE_TIMEOUT: i64 = 3600;
/// … and this long after it began, however busy.
pub const ABSOLUTE_TIMEOUT: i64 = 12 * 3600;

#[derive(Clone, Debug, Serialize, Deserialize)]
struct SignedIn {
    user_id: String,
    auth_time: i64,
    /// The user's session epoch at sign-in; a later one means "signed out everywhere".
    #[serde(default)]
    epoch: i64,
    /// The user's credential version when the password was proven; a later one means
    /// the password changed (or the user was signed out) since, even concurrently.
    #[serde(default)]
    credential_version: i64,
    /// The last time the session was used.
    #[serde(default)]
    seen: i64,
}

/// A step of the account pages, remembered between two requests.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Pending {
    pub pool_id: String,
    pub username: String,
    /// Set when this browser proved the password (sign-up, temporary password): it may
    /// then continue to the app without signing in again.
    pub user_id: Option<String>,
    pub until: i64,
}

/// The new-password step: a [`Pending`] with the credential version at which the
/// temporary password was proven. Any change of the password or status since ends it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NewPasswordStep {
    #[serde(flatten)]
    pub step: Pending,
    /// `None` for a step stored before versions existed: refused.
    #[serde(default)]
    pub credential_version: Option<i64>,
}

/// The second-factor steps: a [`Pending`] with the credential version at which the
/// password was proven (any change since ends the step, as for [`NewPasswordStep`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MfaStep {
    #[serde(flatten)]
    pub step: Pending,
    pub credential_version: i64,
    /// The factor a code is asked from (Cognito's name for it); `None` for a setup.
    pub factor: Option<String>,
    /// Where an e-mailed code went, masked (`a***@e***`).
    pub destination: Option<String>,
    /// The SHA-256 of the authenticator key this step handed out (a random 160-bit
    /// key: the digest reveals nothing): a reload shows that key again, and only that
    /// one, never a key set some other way meanwhile.
    #[serde(default)]
    pub key_digest: Option<String>,
}

/// A kind of pending step: the session key it is kept under, and what it holds.
pub trait StepKind {
    const KEY: &'static str;
    type Step: Serialize + DeserializeOwned + Send;
    /// The step's common part.
    fn pending(step: &Self::Step) -> &Pending;
}

/// A sign-up awaiting its confirmation code.
pub enum SignUp {}
/// A password reset awaiting its code and new password.
pub enum Reset {}
/// A temporary password proven, awaiting the new password.
pub enum NewPassword {}
/// A password proven, awaiting a code from the user's second factor.
pub enum Mfa {}
/// A password proven, awaiting the setup of an authenticator the pool requires.
pub enum MfaSetup {}

impl StepKind for SignUp {
    const KEY: &'static str = "pending_signup";
    type Step = Pending;
    fn pending(step: &Pending) -> &Pending {
        step
    }
}

impl StepKind for Reset {
    const KEY: &'static str = "pending_reset";
    type Step = Pending;
    fn pending(step: &Pending) -> &Pending {
        step
    }
}

impl StepKind for NewPassword {
    const KEY: &'static str = "pending_new_password";
    type Step = NewPasswordStep;
    fn pending(step: &NewPasswordStep) -> &Pending {
        &step.step
    }
}

impl StepKind for Mfa {
    const KEY: &'static str = "pending_mfa";
    type Step = MfaStep;
    fn pending(step: &MfaStep) -> &Pending {
        &step.step
    }
}

impl StepKind for MfaSetup {
    const KEY: &'static str = "pending_mfa_setup";
    type Step = MfaStep;
    fn pending(step: &MfaStep) -> &Pending {
        &step.step
    }
}

const NOTICE: &str = "notice";

/// The session store is the database: a backend failure there is the database being
/// unavailable (retryable 503), not a bug.
fn session_error(e: tower_sessions::session::Error) -> AppError {
    use tower_sessions::session::Error as E;
    use tower_sessions::session_store::Error as S;
    match e {
        E::Store(S::Backend(why)) => AppError::Internal(StoreUnavailable(why).into()),
        other => AppError::Internal(anyhow::anyhow!("session store: {other}")),
    }
}

/// tower-sessions answers a bare 500 (no body) when it cannot save a session after the
/// handler ran, i.e. when the database is unavailable: browsers get the retryable 503
/// page with `Retry-After` instead.
pub async fn unavailable_store(res: axum::response::Response) -> axum::response::Response {
    use axum::http::{StatusCode, header::CONTENT_TYPE};
    use axum::response::IntoResponse;
    if res.status() == StatusCode::INTERNAL_SERVER_ERROR
        && !res.headers().contains_key(CONTENT_TYPE)
    {
        let e = StoreUnavailable("the session could not be saved".into());
        return AppError::Internal(e.into()).into_response();
    }
    res
}

async fn put<T: Serialize>(session: &Session, key: &str, value: &T) -> Result<(), AppError> {
    session.insert(key, value).await.map_err(session_error)
}

async fn get<T: DeserializeOwned>(session: &Session, key: &str) -> Result<Option<T>, AppError> {
    session.get(key).await.map_err(session_error)
}

/// The pending step of kind `K` for `pool_id`, if it has not expired.
pub async fn step<K: StepKind>(
    session: &Session,
    pool_id: &str,
    now: i64,
) -> Result<Option<K::Step>, AppError> {
    let step: Option<K::Step> = get(session, K::KEY).await?;
    Ok(step.filter(|s| {
        let p = K::pending(s);
        p.pool_id == pool_id && p.until > now
    }))
}

/// Remembers a step of kind `K`, in place of any earlier one.
pub async fn put_step<K: StepKind>(session: &Session, step: &K::Step) -> Result<(), AppError> {
    put(session, K::KEY, step).await
}

/// Ends the step of kind `K`.
pub async fn remove_step<K: StepKind>(session: &Session) -> Result<(), AppError> {
    session.remove_value(K::KEY).await.map_err(session_error)?;
    Ok(())
}

/// Leaves a message for the next page shown.
pub async fn set_notice(session: &Session, notice: &str) -> Result<(), AppError> {
    put(session, NOTICE, &notice).await
}

/// The message left for the next page, kept: the sign-in page shows it beside its
/// errors until the password is accepted.
pub async fn notice(session: &Session) -> Result<Option<String>, AppError> {
    session.get(NOTICE).await.map_err(session_error)
}

/// The message left for this page, once.
pub async fn take_notice(session: &Session) -> Result<Option<String>, AppError> {
    session.remove(NOTICE).await.map_err(session_error)
}

/// The user signed in to `pool_id` in this session, with the time it authenticated:
/// if the user still may sign in, was not signed out everywhere since, has the
/// credentials it proved, and the session is neither idle nor too old. A use of the
/// session counts as a visit.
pub async fn current_user(
    app: &Services,
    session: &Session,
    pool_id: &str,
) -> Result<Option<(User, i64)>, AppError> {
    let mut all: HashMap<String, SignedIn> = get(session, SIGNED_IN).await?.unwrap_or_default();
    let Some(signed) = all.get_mut(pool_id) else {
        return Ok(None);
    };
    let now = app.clock.now();
    let live = now - signed.seen.max(signed.auth_time) <= IDLE_TIMEOUT
        && now - signed.auth_time <= ABSOLUTE_TIMEOUT
        && app.store.session_epoch(&signed.user_id).await? == Some(signed.epoch);
    let user = match live {
        true => app
            .store
            .user_by_id(pool_id, &signed.user_id)
            .await?
            .filter(|u| u.can_sign_in() && u.credential_version == signed.credential_version),
        false => None,
    };
    let Some(user) = user else {
        all.remove(pool_id);
        put(session, SIGNED_IN, &all).await?;
        return Ok(None);
    };
    signed.seen = now;
    let auth_time = signed.auth_time;
    put(session, SIGNED_IN, &all).await?;
    Ok(Some((user, auth_time)))
}

/// Gives the session a new id and new CSRF tokens, before it starts to hold a proof of
/// who the browser is: an id or a token planted or read before (session fixation,
/// a leaked form) is worthless afterwards.
pub async fn renew(session: &Session) -> Result<(), AppError> {
    session.cycle_id().await.map_err(session_error)?;
    // Forget every CSRF token, so each page shown from now on gets a new one: a token
    // read before (say from a page an attacker planted) is worthless afterwards.
    session
        .remove_value(CSRF_KEY)
        .await
        .map_err(|e| anyhow::anyhow!("session: {e}"))?;
    Ok(())
}

/// Records a sign-in of `user` (as read when its credentials were proven), in a
/// [`renew`]ed session.
pub async fn sign_in(
    app: &Services,
    session: &Session,
    pool_id: &str,
    user: &User,
    auth_time: i64,
) -> Result<(), AppError> {
    renew(session).await?;
    let epoch = app
        .store
        .session_epoch(&user.user_id)
        .await?
        .unwrap_or_default();
    let mut all: HashMap<String, SignedIn> = get(session, SIGNED_IN).await?.unwrap_or_default();
    all.insert(
        pool_id.to_string(),
        SignedIn {
            user_id: user.user_id.clone(),
            auth_time,
            epoch,
            credential_version: user.credential_version,
            seen: auth_time,
        },
    );
    put(session, SIGNED_IN, &all).await
}
