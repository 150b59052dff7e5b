//! Cognito's custom authentication flow: `InitiateAuth`/`AdminInitiateAuth` with
//! `CUSTOM_AUTH`, then `RespondToAuthChallenge`/`AdminRespondToAuthChallenge` with
//! `CUSTOM_CHALLENGE` until the pool's triggers decide (Cognito's "Custom authentication
//! challenge Lambda triggers"). Each round raises `DefineAuthChallenge_Authentication`
//! with the challenges so far; when it names `CUSTOM_CHALLENGE`,
//! `CreateAuthChallenge_Authentication` makes the challenge, whose answer
//! `VerifyAuthChallengeResponse_Authentication` checks in the next call. The first
//! call raises `PreAuthentication_Authentication` before the define trigger. With
//! `issueTokens` the caller opens the API session (`sign_in::open_api_session`: post
//! authentication, then `TokenGeneration_Authentication`); with `failAuthentication`
//! the sign-in fails as a wrong password does.
//! Each session is answered once, as on Cognito: its id is recorded when it is
//! answered (`answered_challenges`, until it would have expired), so a replay cannot
//! try another answer to a challenge, nor get around the define trigger's count of
//! wrong answers.
//!
//! Between calls the caller holds the sign-in's state, sealed with the master key (so it
//! can be neither read, nor forged, nor moved to another client): the challenges so
//! far, the current one's private parameters, the user's credential version (a change
//! of password or status ends it), and an expiry from the client's
//! `AuthSessionValidity`. A sign-in has at most [`MAX_ROUNDS`] challenges.
//!
//! Wrong answers, and sign-ins the define trigger fails, count against the throttle as
//! wrong passwords do. A name without an account is, with `PreventUserExistenceErrors`,
//! taken through the same triggers (`userNotFound: true`) and the same answers, and can
//! never be given tokens; without it, it is `UserNotFoundException`, as on Cognito.
//! A disabled, unconfirmed or reset account is refused like a password sign-in: once
//! the triggers would give it tokens, so the refusal tells nothing to a caller who
//! has not passed the challenges.
//!
//! Not done: the password-first variant (`SRP_A` in `CUSTOM_AUTH`, then
//! `PASSWORD_VERIFIER`); a define trigger naming another challenge than
//! `CUSTOM_CHALLENGE` is an invalid answer.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

pub use super::sign_in::Attempt;
use crate::clients::AppClient;
use crate::error::{AppError, TriggerError};
use crate::metrics::{SignInFlow, SignInOutcome};
use crate::model::pool::PoolSettings;
use crate::model::users::username_key;
use crate::services::Services;
use crate::store::StoreError;
use crate::throttle;
use crate::triggers::events::{self, ChallengeDecision, ChallengeResult, ChallengeSubject};
use crate::triggers::{self, Trigger};
use crate::users::{Refusal, User, UserStatus};

/// The one challenge name the define trigger may ask for.
pub const CUSTOM_CHALLENGE: &str = "CUSTOM_CHALLENGE";

/// The most challenges one sign-in may present; a define trigger asking for more fails
/// the sign-in (the sealed session, which carries them all, stays small).
pub const MAX_ROUNDS: usize = 10;

/// The sealing context of a custom sign-in's session: a new-password session cannot
/// be used here, nor this one there.
const SESSION_CONTEXT: &str = "custom-auth-session";

/// A custom sign-in's next step.
pub enum Step {
    /// The triggers issued tokens to this user.
    Ready(User),
    /// Another `CUSTOM_CHALLENGE`.
    Challenge {
        /// The sealed state, the API's `Session`.
        session: String,
        /// The create trigger's `publicChallengeParameters`.
        parameters: BTreeMap<String, String>,
    },
}

/// Why a custom sign-in step did not happen.
pub enum CustomRefusal {
    /// The pool has no define auth challenge trigger, or lacks the create or verify
    /// trigger the define trigger's answer needs.
    NotConfigured,
    /// No such user, and the pool does not prevent user existence errors.
    UserNotFound,
    /// The session is not one of this client's, has expired, or was overtaken by a
    /// change of the user's password or status.
    InvalidSession,
    /// The session is another user's.
    WrongUser,
    Refused(Refusal),
}

impl From<Refusal> for CustomRefusal {
    fn from(r: Refusal) -> Self {
        CustomRefusal::Refused(r)
    }
}

impl From<AppError> for CustomRefusal {
    fn from(e: AppError) -> Self {
        CustomRefusal::Refused(e.into())
    }
}

impl From<StoreError> for CustomRefusal {
    fn from(e: StoreError) -> Self {
        CustomRefusal::Refused(e.into())
    }
}

impl From<TriggerError> for CustomRefusal {
    fn from(e: TriggerError) -> Self {
        AppError::from(e).into()
    }
}

/// What the session carries between calls.
#[derive(Serialize, Deserialize)]
struct Progress {
    /// This session's own id: each is answered once.
    id: String,
    pool_id: String,
    client_id: String,
    /// The name the sign-in began with.
    username: String,
    /// The user's `sub`; for a name without an account, a random stand-in of the same
    /// form. This and the next two fields have one length whatever they hold, so the
    /// session's length does not tell whether the account exists.
    user_id: String,
    /// 1 when `user_id` is a user's, else 0.
    found: u8,
    /// The user's credential version, zero-padded to [`VERSION_DIGITS`].
    credential_version: String,
    expires_at: i64,
    /// The challenges answered so far, oldest first.
    history: Vec<ChallengeResult>,
    /// The challenge waiting for its answer.
    challenge_name: String,
    private: BTreeMap<String, String>,
    metadata: Option<String>,
}

/// `CUSTOM_AUTH` through `client` (the attempt's): raises pre authentication, then the
/// define trigger with no challenges yet, and goes on as it says.
pub async fn start(
    app: &Services,
    client: &AppClient,
    a: &Attempt<'_>,
) -> Result<Step, CustomRefusal> {
    let settings = configured(app, &client.pool_id).await?;
    let keys = throttle::keys(&client.pool_id, a.username, a.addr);
    super::sign_in::check_throttle(app, &keys).await?;
    let user = app.store.user_by_name(&client.pool_id, a.username).await?;
    super::sign_in::pre_authentication(app, a, user.as_ref()).await?;
    if user.is_none() && !settings.prevent_user_existence_errors {
        return Err(CustomRefusal::UserNotFound);
    }
    let round = Round {
        client,
        attempt: a,
        settings: &settings,
        keys: &keys,
        username: a.username,
        user,
    };
    round.decide(app, Vec::new(), false).await
}

/// `CUSTOM_CHALLENGE`: the verify trigger checks `answer` against the challenge the
/// session holds, then the define trigger decides with that result added.
pub async fn respond(
    app: &Services,
    client: &AppClient,
    a: &Attempt<'_>,
    session: &str,
    answer: &str,
) -> Result<Step, CustomRefusal> {
    let result = check_answer(app, client, a, session, answer).await;
    // Counted when the sign-in ends: another challenge is neither outcome yet.
    let outcome = match &result {
        Ok(Step::Ready(_)) => Some(SignInOutcome::Success),
        Ok(Step::Challenge { .. }) => None,
        Err(CustomRefusal::Refused(r)) => Some(super::sign_in::outcome_of(r)),
        Err(CustomRefusal::NotConfigured) => Some(SignInOutcome::Refused),
        Err(_) => Some(SignInOutcome::Failure),
    };
    if let Some(outcome) = outcome {
        app.metrics.sign_in(SignInFlow::Custom, outcome);
    }
    result
}

/// [`respond`], uncounted.
async fn check_answer(
    app: &Services,
    client: &AppClient,
    a: &Attempt<'_>,
    session: &str,
    answer: &str,
) -> Result<Step, CustomRefusal> {
    let p = open(app, client, session)?;
    if username_key(&p.username) != username_key(a.username) {
        return Err(CustomRefusal::WrongUser);
    }
    let settings = configured(app, &client.pool_id).await?;
    let keys = throttle::keys(&client.pool_id, &p.username, a.addr);
    super::sign_in::check_throttle(app, &keys).await?;
    // Both branches read the user by id, so the time does not tell either.
    let found = app.store.user_by_id(&client.pool_id, &p.user_id).await?;
    let user = match found {
        Some(user) if p.found == 1 => {
            if padded_version(user.credential_version) != p.credential_version {
                return Err(CustomRefusal::InvalidSession);
            }
            Some(user)
        }
        _ if p.found == 1 => return Err(CustomRefusal::InvalidSession),
        _ => None,
    };
    // Answered once: a second answer to the same challenge, or a replay, is refused.
    let first = app
        .store
        .answer_challenge_session(&client.pool_id, &p.id, p.expires_at, app.clock.now())
        .await?;
    if !first {
        return Err(CustomRefusal::InvalidSession);
    }
    let round = Round {
        client,
        attempt: a,
        settings: &settings,
        keys: &keys,
        username: &p.username,
        user,
    };
    let subject = round.subject();
    let correct = events::verify_auth_challenge_response(app, &subject, &p.private, answer)
        .await?
        .ok_or(CustomRefusal::NotConfigured)?;
    if !correct {
        throttle::record_failure(&app.store, &keys, app.clock.now()).await?;
    }
    let mut history = p.history;
    history.push(ChallengeResult {
        challenge_name: p.challenge_name,
        challenge_result: correct,
        challenge_metadata: p.metadata,
    });
    round.decide(app, history, !correct).await
}

/// The pool's trigger settings, if it has a define auth challenge trigger.
async fn configured(app: &Services, pool_id: &str) -> Result<Arc<PoolSettings>, CustomRefusal> {
    triggers::settings_of(app, pool_id)
        .await?
        .filter(|s| {
            s.lambda_config
                .target(Trigger::DefineAuthChallenge)
                .is_some()
        })
        .ok_or(CustomRefusal::NotConfigured)
}

/// One call of a custom sign-in.
struct Round<'a> {
    client: &'a AppClient,
    attempt: &'a Attempt<'a>,
    settings: &'a PoolSettings,
    keys: &'a [String],
    /// The name the sign-in began with.
    username: &'a str,
    user: Option<User>,
}

impl Round<'_> {
    fn subject(&self) -> ChallengeSubject<'_> {
        ChallengeSubject {
            pool_id: &self.client.pool_id,
            settings: self.settings,
            client_id: &self.client.client_id,
            user_name: self.user.as_ref().map_or(self.username, |u| &u.username),
            user: self.user.as_ref(),
            client_metadata: self.attempt.client_metadata,
        }
    }

    /// Raises the define trigger with `history` and does what it says. `counted`: a
    /// failure was already counted in this call (a wrong answer), so a failed sign-in
    /// does not count twice.
    async fn decide(
        self,
        app: &Services,
        history: Vec<ChallengeResult>,
        counted: bool,
    ) -> Result<Step, CustomRefusal> {
        let subject = self.subject();
        let decision = events::define_auth_challenge(app, &subject, &history)
            .await?
            .ok_or(CustomRefusal::NotConfigured)?;
        let name = match decision {
            ChallengeDecision::Fail => return Err(self.failed(app, counted).await),
            ChallengeDecision::IssueTokens => {
                let Some(user) = self.user else {
                    // Whatever the triggers say, a name without an account gets nothing.
                    return Err(self.failed(app, counted).await);
                };
                return Ok(Step::Ready(admit(app, self.keys, user).await?));
            }
            ChallengeDecision::Challenge(name) => name,
        };
        if name != CUSTOM_CHALLENGE {
            return Err(TriggerError::InvalidResponse {
                trigger: Trigger::DefineAuthChallenge.as_str(),
                reason: format!(
                    "challengeName {name:?}: only CUSTOM_CHALLENGE is supported (no password-first custom flow)"
                ),
            }
            .into());
        }
        if history.len() >= MAX_ROUNDS {
            return Err(self.failed(app, counted).await);
        }
        let created = events::create_auth_challenge(app, &subject, &name, &history)
            .await?
            .ok_or(CustomRefusal::NotConfigured)?;
        let client = self.client;
        let progress = Progress {
            id: uuid::Uuid::new_v4().to_string(),
            pool_id: client.pool_id.clone(),
            client_id: client.client_id.clone(),
            username: self.username.to_string(),
            user_id: self
                .user
                .as_ref()
                .map_or_else(|| uuid::Uuid::new_v4().to_string(), |u| u.user_id.clone()),
            found: u8::from(self.user.is_some()),
            credential_version: padded_version(
                self.user.as_ref().map_or(0, |u| u.credential_version),
            ),
            // The client's `AuthSessionValidity`, in minutes, from each challenge.
            expires_at: app.clock.now() + client.auth_session_validity * 60,
            history,
            challenge_name: name,
            private: created.private,
            metadata: created.metadata,
        };
        Ok(Step::Challenge {
            session: seal(app, &progress)?,
            parameters: created.public,
        })
    }

    /// Counts a failed sign-in (unless `counted`); the refusal to give.
    async fn failed(&self, app: &Services, counted: bool) -> CustomRefusal {
        if counted {
            Refusal::BadCredentials.into()
        } else {
            super::sign_in::failed(app, self.keys).await.into()
        }
    }
}

/// After the triggers issued tokens: clears the name's failures and decides by the
/// account's state, as a password sign-in does. A user who must choose a new password
/// (`FORCE_CHANGE_PASSWORD`) proved no password here, and is signed in as it is.
async fn admit(app: &Services, keys: &[String], user: User) -> Result<User, Refusal> {
    throttle::record_success(&app.store, keys).await?;
    if !user.enabled {
        return Err(Refusal::Disabled);
    }
    match user.status {
        UserStatus::Confirmed | UserStatus::ForceChangePassword => Ok(user),
        UserStatus::Unconfirmed => Err(Refusal::NotConfirmed),
        UserStatus::ResetRequired => Err(Refusal::ResetRequired),
        UserStatus::ExternalProvider => Err(Refusal::BadCredentials),
    }
}

/// Digits enough for any `i64`.
const VERSION_DIGITS: usize = 20;

fn padded_version(version: i64) -> String {
    format!("{version:0VERSION_DIGITS$}")
}

fn seal(app: &Services, progress: &Progress) -> Result<String, AppError> {
    let plain = serde_json::to_vec(progress)
        .map_err(|e| anyhow::anyhow!("serialise a custom auth session: {e}"))?;
    Ok(URL_SAFE_NO_PAD.encode(app.keys.master().seal(SESSION_CONTEXT, &plain)))
}

/// The state a session holds, if it is this client's and has not expired.
fn open(app: &Services, client: &AppClient, session: &str) -> Result<Progress, CustomRefusal> {
    let invalid = || CustomRefusal::InvalidSession;
    let sealed = URL_SAFE_NO_PAD.decode(session).map_err(|_| invalid())?;
    let plain = app
        .keys
        .master()
        .open(SESSION_CONTEXT, &sealed)
        .map_err(|_| invalid())?;
    let p: Progress = serde_json::from_slice(&plain).map_err(|_| invalid())?;
    if p.client_id != client.client_id
        || p.pool_id != client.pool_id
        || p.expires_at <= app.clock.now()
    {
        return Err(invalid());
    }
    Ok(p)
}
