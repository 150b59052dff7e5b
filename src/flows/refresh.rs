//! Refreshing a sign-in (RFC 6749 §6; Cognito's `REFRESH_TOKEN_AUTH`): one rule set for
//! `/oauth2/token` and the API. A token is found and checked against the client before
//! it is used, so another client's request or a wrong `SECRET_HASH` never burns it.
//! With rotation (the client's `RefreshTokenRotation`) each use consumes the token and
//! returns a new one; a used token presented again, on either surface, revokes the
//! whole sign-in (RFC 9700 §4.14.2), unless it comes within the client's retry grace.
//! Without rotation the token stays valid until it expires or is revoked; a change of
//! the user's credentials after the sign-in began (its family's credential version is
//! no longer the user's) revokes it too.

use crate::clients::AppClient;
use crate::crypto::{Secret, random_token};
use crate::error::AppError;
use crate::events::{Event, Grant, Kind, Reason};
use crate::metrics::{SignInFlow, SignInOutcome};
use crate::services::Services;
use crate::store::{Directory, Family, RefreshOutcome, StoreError};
use crate::tokens::issue::{Endpoint, Session, TokenSet, issue_with};
use crate::tokens::split_scopes;
use crate::users::User;

/// Why a refresh was refused. Each surface words these its own way.
#[derive(Debug, thiserror::Error)]
pub enum RefreshRefusal {
    /// Unknown, expired, revoked, another client's, or its user may not sign in.
    #[error("the refresh token is invalid, expired or revoked")]
    Invalid,
    /// A rotated-out token came back: its sign-in has just been revoked.
    #[error("the refresh token was already used; the sign-in it belongs to has been revoked")]
    Reused,
    #[error(transparent)]
    Internal(#[from] AppError),
}

impl From<StoreError> for RefreshRefusal {
    fn from(e: StoreError) -> Self {
        RefreshRefusal::Internal(e.into())
    }
}

/// A presented refresh token, found and checked against the client, not used yet.
pub struct Presented {
    hash: String,
    family: Family,
    /// The user the sign-in is for, who may still sign in.
    pub user: User,
    /// What the tokens say of the user besides its attributes, read with the token.
    directory: Directory,
}

impl Presented {
    /// The scopes the sign-in was granted.
    pub fn granted(&self) -> Vec<String> {
        split_scopes(&self.family.scopes)
    }

    /// The scopes of this refresh: those granted, or the subset `requested` (RFC 6749
    /// §6), which applies to the tokens issued now; the sign-in keeps its grant. A
    /// scope beyond the grant is named, and the token is not used.
    pub fn scopes(&self, requested: Option<&str>) -> Result<Vec<String>, String> {
        let granted = self.granted();
        let Some(requested) = requested else {
            return Ok(granted);
        };
        let requested = split_scopes(requested);
        if let Some(extra) = requested.iter().find(|s| !granted.contains(s)) {
            return Err(extra.clone());
        }
        Ok(granted
            .into_iter()
            .filter(|s| requested.contains(s))
            .collect())
    }
}

/// Finds `token` for `client`. With rotation a used token is found too, so that
/// [`redeem`] can tell a replay from a stranger.
pub async fn find(
    app: &Services,
    client: &AppClient,
    token: &str,
) -> Result<Presented, RefreshRefusal> {
    let hash = app.keys.digests().secret(Secret::RefreshToken, token);
    // One statement: the family, its user, groups and identities.
    let found = app
        .store
        .refresh_session(&hash, !client.refresh_token_rotation)
        .await
        .map_err(RefreshRefusal::from)
        .and_then(|found| {
            found
                .filter(|s| {
                    s.family.client_id == client.client_id && s.family.pool_id == client.pool_id
                })
                .filter(|s| s.user.can_sign_in())
                .ok_or(RefreshRefusal::Invalid)
        });
    // A token found is counted when [`redeem`] ends.
    let found = found.inspect_err(|e| count(app, Err(e)))?;
    Ok(Presented {
        hash,
        family: found.family,
        user: found.user,
        directory: found.directory,
    })
}

/// Counts a refresh as a sign-in by its outcome (its tokens are counted where they
/// are recorded, [`super::record_issued`]).
fn count(app: &Services, result: Result<(), &RefreshRefusal>) {
    let outcome = match result {
        Ok(_) => SignInOutcome::Success,
        Err(RefreshRefusal::Invalid | RefreshRefusal::Reused) => SignInOutcome::Failure,
        Err(RefreshRefusal::Internal(_)) => SignInOutcome::Error,
    };
    app.metrics.sign_in(SignInFlow::Refresh, outcome);
}

/// Uses a found token: rotates it when the client rotates, then issues tokens for
/// `scopes` (the grant or fewer) from the directory as it is now, as `endpoint` issues
/// them.
pub async fn redeem(
    app: &Services,
    client: &AppClient,
    presented: Presented,
    scopes: &[String],
    endpoint: Endpoint,
    client_metadata: Option<&std::collections::BTreeMap<String, String>>,
) -> Result<TokenSet, RefreshRefusal> {
    let result = rotate_and_issue(app, client, presented, scopes, endpoint, client_metadata).await;
    count(app, result.as_ref().map(|_| ()));
    result
}

/// [`redeem`], uncounted.
async fn rotate_and_issue(
    app: &Services,
    client: &AppClient,
    presented: Presented,
    scopes: &[String],
    endpoint: Endpoint,
    client_metadata: Option<&std::collections::BTreeMap<String, String>>,
) -> Result<TokenSet, RefreshRefusal> {
    let now = app.clock.now();
    let mut rotated = None;
    let family = if client.refresh_token_rotation {
        let refresh = random_token(48);
        let new_hash = app.keys.digests().secret(Secret::RefreshToken, &refresh);
        let family = if app
            .store
            .rotate_refresh_token(&presented.hash, &new_hash, now)
            .await?
        {
            // The statement checked that the family still lives.
            presented.family
        } else {
            // Used already, or the sign-in ended: a retry within the grace period, a
            // reuse (which revokes the sign-in), or nothing.
            match app
                .store
                .use_refresh_token(&presented.hash, now, client.refresh_token_retry_grace)
                .await?
            {
                RefreshOutcome::Rotated(family) => {
                    if !family.is_revoked() && family.expires_at > now {
                        app.store
                            .insert_refresh_token(&family.origin_jti, &new_hash, now)
                            .await?;
                    }
                    family
                }
                RefreshOutcome::Reused => {
                    app.metrics.refresh_reused();
                    tracing::warn!(client_id = %client.client_id, "refresh token reused; its sign-in is revoked");
                    app.record(
                        Event::new(Kind::RefreshReuse, &client.pool_id)
                            .client(&client.client_id)
                            .user(&presented.user)
                            .failed(Reason::InvalidGrant),
                    );
                    return Err(RefreshRefusal::Reused);
                }
                RefreshOutcome::Unknown => return Err(RefreshRefusal::Invalid),
            }
        };
        rotated = Some(refresh);
        family
    } else {
        presented.family
    };
    if family.client_id != client.client_id
        || family.pool_id != client.pool_id
        || family.is_revoked()
        || family.expires_at <= now
    {
        return Err(RefreshRefusal::Invalid);
    }
    let claims_override = super::pre_token::claims_override(
        app,
        client,
        &presented.user,
        scopes,
        "TokenGeneration_RefreshTokens",
        client_metadata,
    )
    .await?;
    let mut tokens = issue_with(
        app,
        &Session {
            endpoint,
            client,
            user: &presented.user,
            scopes,
            auth_time: family.auth_time,
            origin_jti: &family.origin_jti,
            nonce: None,
            claims_override: claims_override.as_ref(),
        },
        &presented.directory,
    )
    .await?;
    tokens.refresh_token = rotated;
    super::record_issued(app, client, Some(&presented.user), Grant::RefreshToken);
    Ok(tokens)
}
