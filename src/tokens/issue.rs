//! Issuing ID and access tokens for a grant. One claims builder for every path that
//! issues tokens (code exchange, refresh, and later the Cognito API).

use anyhow::Context;
use serde::Serialize;

use super::claims::{Grant, client_access_claims};
use crate::clients::AppClient;
use crate::error::AppError;
use crate::services::Services;
use crate::store::Directory;
use crate::users::User;

/// The token endpoint's success body (RFC 6749 §5.1).
#[derive(Debug, Serialize)]
pub struct TokenSet {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    pub access_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub expires_in: i64,
    pub token_type: &'static str,
}

/// Where tokens are asked for. Cognito puts `at_hash` only in ID tokens from
/// `/oauth2/token`; ID tokens from the API have none (and some clients, pycognito with
/// current PyJWT, refuse an `at_hash` they were not given the means to check).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `/oauth2/token`.
    Token,
    /// The Cognito API (`InitiateAuth`, `RespondToAuthChallenge`, …).
    Api,
}

/// What a sign-in granted, independent of how it was proven.
pub struct Session<'a> {
    pub endpoint: Endpoint,
    pub client: &'a AppClient,
    pub user: &'a User,
    pub scopes: &'a [String],
    pub auth_time: i64,
    pub origin_jti: &'a str,
    pub nonce: Option<&'a str>,
    /// What a pre token generation trigger changes (`flows::pre_token`).
    pub claims_override: Option<&'a crate::triggers::events::ClaimsOverride>,
}

/// Signs an access token (and an ID token for `openid`) from the directory as it is
/// now: groups and attributes are read fresh on every call.
pub async fn issue(app: &Services, s: &Session<'_>) -> Result<TokenSet, AppError> {
    let directory = app
        .store
        .directory(&s.user.user_id, &s.client.pool_id)
        .await?;
    issue_with(app, s, &directory).await
}

/// [`issue`] with the user's [`Directory`] read already (with the request's other
/// rows, in one statement).
pub async fn issue_with(
    app: &Services,
    s: &Session<'_>,
    directory: &Directory,
) -> Result<TokenSet, AppError> {
    let pool_id = &s.client.pool_id;
    let keys = app
        .keys
        .pool(&app.store, pool_id)
        .await?
        .context("pool has no signing keys")?;
    let issuer = app.issuer(pool_id).await?;
    let grant = Grant {
        issuer: &issuer,
        client: s.client,
        user: s.user,
        groups: &directory.groups,
        identities: &directory.identities,
        schema: &directory.schema,
        scopes: s.scopes,
        auth_time: s.auth_time,
        origin_jti: s.origin_jti,
        nonce: s.nonce,
        now: app.clock.now(),
    };
    let event_id = uuid::Uuid::new_v4().to_string();
    let mut access = grant.access_claims(&uuid::Uuid::new_v4().to_string(), &event_id);
    if let Some(o) = s.claims_override {
        o.apply(&mut access, "access");
    }
    let access_token = keys.sign(&access);
    let id_token = grant.wants_id_token().then(|| {
        let hashed = (s.endpoint == Endpoint::Token).then_some(access_token.as_str());
        let mut id = grant.id_claims(&uuid::Uuid::new_v4().to_string(), &event_id, hashed);
        if let Some(o) = s.claims_override {
            o.apply(&mut id, "id");
        }
        keys.sign(&id)
    });
    Ok(TokenSet {
        id_token,
        access_token,
        refresh_token: None,
        expires_in: s.client.access_token_validity,
        token_type: "Bearer",
    })
}

/// Signs a `client_credentials` access token: the client acts for itself, so `sub` is
/// its id and there is no ID or refresh token.
pub async fn issue_for_client(
    app: &Services,
    client: &AppClient,
    scopes: &[String],
    claims_override: Option<&crate::triggers::events::ClaimsOverride>,
) -> Result<TokenSet, AppError> {
    let keys = app
        .keys
        .pool(&app.store, &client.pool_id)
        .await?
        .context("pool has no signing keys")?;
    let mut claims = client_access_claims(
        &app.issuer(&client.pool_id).await?,
        client,
        scopes,
        app.clock.now(),
        &uuid::Uuid::new_v4().to_string(),
    );
    if let Some(o) = claims_override {
        o.apply(&mut claims, "access");
    }
    Ok(TokenSet {
        id_token: None,
        access_token: keys.sign(&claims),
        refresh_token: None,
        expires_in: client.access_token_validity,
        token_type: "Bearer",
    })
}
