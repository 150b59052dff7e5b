//! What the hosted-UI session remembers: per pool, who signed in and when. The session
//! itself lives in the database (tower-sessions), so any instance can read it.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::error::AppError;
use crate::state::Inner;
use crate::users::User;

const SIGNED_IN: &str = "signed_in";

#[derive(Clone, Debug, Serialize, Deserialize)]
struct SignedIn {
    user_id: String,
    auth_time: i64,
}

fn session_error(e: tower_sessions::session::Error) -> AppError {
    AppError::Internal(anyhow::anyhow!("session store: {e}"))
}

/// The user signed in to `pool_id` in this session, if it still may sign in, with the
/// time it authenticated.
pub async fn current_user(
    app: &Inner,
    session: &Session,
    pool_id: &str,
) -> Result<Option<(User, i64)>, AppError> {
    let all: HashMap<String, SignedIn> = session
        .get(SIGNED_IN)
        .await
        .map_err(session_error)?
        .unwrap_or_default();
    let Some(signed) = all.get(pool_id) else {
        return Ok(None);
    };
    let user = app.store.user_by_id(pool_id, &signed.user_id).await?;
    Ok(user
        .filter(User::can_sign_in)
        .map(|u| (u, signed.auth_time)))
}

/// Records a sign-in. The session id changes first, so an id planted before sign-in
/// (session fixation) is worthless afterwards.
pub async fn sign_in(
    session: &Session,
    pool_id: &str,
    user_id: &str,
    auth_time: i64,
) -> Result<(), AppError> {
    session.cycle_id().await.map_err(session_error)?;
    let mut all: HashMap<String, SignedIn> = session
        .get(SIGNED_IN)
        .await
        .map_err(session_error)?
        .unwrap_or_default();
    all.insert(
        pool_id.to_string(),
        SignedIn {
            user_id: user_id.to_string(),
            auth_time,
        },
    );
    session.insert(SIGNED_IN, all).await.map_err(session_error)
}
