//! Authorization codes (RFC 6749 §4.1; RFC 7636): issued at the end of every browser
//! sign-in (a password, a new password, a confirmation, a live session, a provider)
//! and redeemed once at `/oauth2/token`. A code is bound to its client, redirect URI,
//! PKCE challenge, nonce, scopes and the user's credential version; it is consumed
//! atomically, and a replay revokes what the first redemption issued.

use crate::clients::{AppClient, redirect};
use crate::crypto::{Secret, random_token};
use crate::error::AppError;
use crate::pkce;
use crate::services::Services;
use crate::store::{NewCode, RedeemedCode, StoreError};
use crate::tokens::issue::{Endpoint, Session, TokenSet, issue};
use crate::tokens::split_scopes;
use crate::users::User;

/// How long an authorization code lives (RFC 6749 §4.1.2 recommends at most 10 minutes).
pub const CODE_LIFETIME: i64 = 300;

/// What a code is issued for: a validated authorization request.
pub struct Grant<'a> {
    pub client: &'a AppClient,
    pub redirect_uri: &'a str,
    pub scopes: &'a [String],
    pub nonce: Option<&'a str>,
    pub code_challenge: Option<&'a str>,
}

/// Issues a code for `user`, signed in at `auth_time`, or `None` if the user may no
/// longer sign in. Every path here loaded the user earlier, in this request or an
/// earlier one: the user is read again, so one disabled meanwhile gets no code, and
/// the code is stored only while the user's credentials are still those the sign-in
/// proved (a reset racing the sign-in wins).
pub async fn issue_code(
    app: &Services,
    grant: &Grant<'_>,
    user: &User,
    auth_time: i64,
) -> Result<Option<String>, AppError> {
    let pool_id = &grant.client.pool_id;
    let may_sign_in = app
        .store
        .user_by_id(pool_id, &user.user_id)
        .await?
        .is_some_and(|now| now.can_sign_in());
    if !may_sign_in {
        return Ok(None);
    }
    let code = random_token(32);
    let code_hash = app.keys.digests().secret(Secret::AuthCode, &code);
    let origin_jti = uuid::Uuid::new_v4().to_string();
    let scopes = grant.scopes.join(" ");
    let now = app.clock.now();
    let stored = app
        .store
        .insert_code(
            &NewCode {
                code_hash: &code_hash,
                pool_id,
                client_id: &grant.client.client_id,
                user_id: &user.user_id,
                redirect_uri: grant.redirect_uri,
                scopes: &scopes,
                nonce: grant.nonce,
                code_challenge: grant.code_challenge,
                auth_time,
                origin_jti: &origin_jti,
                expires_at: now + CODE_LIFETIME,
                credential_version: user.credential_version,
            },
            now,
        )
        .await?;
    Ok(stored.then_some(code))
}

/// Why a code was not redeemed. `/oauth2/token` words each as `invalid_grant`.
#[derive(Debug, thiserror::Error)]
pub enum CodeRefusal {
    #[error("the authorization code is invalid, expired or already used")]
    Invalid,
    #[error("redirect_uri does not match the authorization request")]
    RedirectMismatch,
    #[error("redirect_uri is no longer registered for the client")]
    RedirectUnregistered,
    #[error("code_verifier is missing")]
    VerifierMissing,
    /// RFC 9700 §2.1.1: a verifier without a challenge is a downgrade attempt.
    #[error("no code_challenge was sent for this code")]
    UnexpectedVerifier,
    #[error("PKCE verification failed")]
    VerifierMismatch,
    #[error("the user no longer exists or is disabled")]
    UserGone,
    #[error(transparent)]
    Internal(#[from] AppError),
}

impl From<StoreError> for CodeRefusal {
    fn from(e: StoreError) -> Self {
        CodeRefusal::Internal(e.into())
    }
}

/// A code as presented at the token endpoint.
pub struct Presented<'a> {
    pub code: &'a str,
    pub redirect_uri: &'a str,
    pub code_verifier: Option<&'a str>,
}

/// Redeems a code for `client`: its tokens and a new sign-in's refresh token. A code
/// presented with the wrong binding is burned (it has leaked, RFC 6819 §4.4.1.13, so
/// its rightful client must not redeem it later either), and so is a replay, which
/// revokes the first redemption's sign-in.
pub async fn redeem(
    app: &Services,
    client: &AppClient,
    presented: &Presented<'_>,
) -> Result<TokenSet, CodeRefusal> {
    let now = app.clock.now();
    let code_hash = app.keys.digests().secret(Secret::AuthCode, presented.code);
    let Some(redeemed) = app.store.unconsumed_code(&code_hash).await? else {
        app.store.consume_code(&code_hash, now).await?;
        return Err(CodeRefusal::Invalid);
    };
    let user = match check(app, client, presented, &redeemed, now).await {
        Ok(user) => user,
        Err(e) => {
            app.store.consume_code(&code_hash, now).await?;
            return Err(e);
        }
    };
    let scopes = split_scopes(&redeemed.scopes);
    let claims_override = super::pre_token::claims_override(
        app,
        client,
        &user,
        &scopes,
        "TokenGeneration_HostedAuth",
        None,
    )
    .await?;
    let mut tokens = issue(
        app,
        &Session {
            endpoint: Endpoint::Token,
            client,
            user: &user,
            scopes: &scopes,
            auth_time: redeemed.auth_time,
            origin_jti: &redeemed.origin_jti,
            nonce: redeemed.nonce.as_deref(),
            claims_override: claims_override.as_ref(),
        },
    )
    .await?;
    let refresh = random_token(48);
    let expires_at = redeemed.auth_time + client.refresh_token_validity;
    let refresh_hash = app.keys.digests().secret(Secret::RefreshToken, &refresh);
    let origin = &redeemed.origin_jti;
    if !app
        .store
        .redeem_code(&code_hash, origin, expires_at, &refresh_hash, now)
        .await?
    {
        // A concurrent redemption won: this one is a replay and revokes it.
        app.store.consume_code(&code_hash, now).await?;
        return Err(CodeRefusal::Invalid);
    }
    tokens.refresh_token = Some(refresh);
    super::record_issued(
        app,
        client,
        Some(&user),
        crate::events::Grant::AuthorizationCode,
    );
    Ok(tokens)
}

/// Checks an unconsumed code against the request: client, expiry, redirect URI, PKCE,
/// and that its user may still sign in; the user.
async fn check(
    app: &Services,
    client: &AppClient,
    presented: &Presented<'_>,
    redeemed: &RedeemedCode,
    now: i64,
) -> Result<User, CodeRefusal> {
    if redeemed.client_id != client.client_id
        || redeemed.pool_id != client.pool_id
        || redeemed.expires_at <= now
    {
        return Err(CodeRefusal::Invalid);
    }
    if redeemed.redirect_uri != presented.redirect_uri {
        return Err(CodeRefusal::RedirectMismatch);
    }
    // The callback may have been removed since the code was issued (on any instance).
    if !redirect::is_registered(&client.callback_urls, presented.redirect_uri) {
        return Err(CodeRefusal::RedirectUnregistered);
    }
    match (&redeemed.code_challenge, presented.code_verifier) {
        (Some(challenge), Some(verifier)) if pkce::verify(challenge, verifier) => {}
        (None, None) => {}
        (Some(_), None) => return Err(CodeRefusal::VerifierMissing),
        (None, Some(_)) => return Err(CodeRefusal::UnexpectedVerifier),
        (Some(_), Some(_)) => return Err(CodeRefusal::VerifierMismatch),
    }
    app.store
        .user_by_id(&client.pool_id, &redeemed.user_id)
        .await?
        .filter(User::can_sign_in)
        .ok_or(CodeRefusal::UserGone)
}
