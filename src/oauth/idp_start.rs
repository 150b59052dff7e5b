//! Sending the browser to a provider: cognate's own random `state` (a handle to the
//! stored request, never the app's state), PKCE and, for OpenID Connect, a nonce; the
//! app's `prompt` and `login_hint` are passed on. Sign in with Apple gets no PKCE (it
//! documents none) and `response_mode=form_post`, which Apple requires for the `name`
//! and `email` scopes: it comes back with a POST (see `idp_response`).

use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use tower_sessions::Session;

use crate::clients::redirect::with_params;
use crate::crypto::{Secret, random_token, sha256_hex};
use crate::error::AppError;
use crate::federation::ProviderType;
use crate::federation::profile::resolve_endpoints;
use crate::oauth::authorize::{AuthorizeRequest, Rejection};
use crate::state::Inner;
use crate::store::FederationRequest;

/// How long the browser has to come back from the provider.
const REQUEST_LIFETIME: i64 = 600;
/// The session key of the value binding pending requests to this browser.
pub const BINDING: &str = "federation_binding";
/// This browser's binding value, created on first use.
pub async fn binding(session: &Session) -> Result<String, AppError> {
    let existing: Option<String> = session
        .get(BINDING)
        .await
        .map_err(|e| anyhow::anyhow!("session: {e}"))?;
    if let Some(b) = existing {
        return Ok(b);
    }
    let b = random_token(32);
    session
        .insert(BINDING, &b)
        .await
        .map_err(|e| anyhow::anyhow!("session: {e}"))?;
    Ok(b)
}

/// Starts a sign-in at `provider_name` for a validated request.
pub async fn start(
    app: &Inner,
    session: &Session,
    req: &AuthorizeRequest,
    provider_name: &str,
) -> Result<Response, Rejection> {
    if !req.client.supports_provider(provider_name) {
        return Err(req.error_redirect(
            "invalid_request",
            "the identity provider is not enabled for this client",
        ));
    }
    let Some(idp) = crate::federation::provider(app, &req.pool_id, provider_name).await? else {
        return Err(req.error_redirect(
            "invalid_request",
            "the identity provider is not enabled for this client",
        ));
    };
    let endpoints = match resolve_endpoints(app, &idp).await {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(pool_id = %req.pool_id, provider = %provider_name, error = %format!("{e:#}"), "provider discovery failed");
            return Err(Rejection::Page(AppError::Invalid(format!(
                "{provider_name} cannot be reached right now. Try again later."
            ))));
        }
    };
    let handle = random_token(32);
    let verifier = random_token(32);
    let nonce = random_token(16);
    let now = app.clock.now();
    let pending = FederationRequest {
        pool_id: req.pool_id.clone(),
        provider_name: provider_name.to_string(),
        browser_binding: sha256_hex(&binding(session).await?),
        authorize_query: req.query.clone(),
        pkce_verifier: verifier.clone(),
        nonce: nonce.clone(),
        expires_at: now + REQUEST_LIFETIME,
    };
    app.store
        .insert_federation_request(
            &app.keys.digests().secret(Secret::FederationHandle, &handle),
            &pending,
            now,
        )
        .await
        .map_err(AppError::from)?;

    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let redirect = crate::federation::redirect_uri(&req.base(app).pool);
    let scopes = idp.scopes();
    let mut params = vec![
        ("client_id", idp.details.client_id.as_str()),
        ("redirect_uri", redirect.as_str()),
        ("response_type", "code"),
        ("scope", scopes.as_str()),
        ("state", handle.as_str()),
    ];
    if idp.provider_type == ProviderType::SignInWithApple {
        params.push(("response_mode", "form_post"));
    } else {
        params.push(("code_challenge", challenge.as_str()));
        params.push(("code_challenge_method", "S256"));
    }
    if idp.provider_type.is_oidc() {
        params.push(("nonce", &nonce));
    }
    if let Some(prompt) = req.prompt.as_deref() {
        params.push(("prompt", prompt));
    }
    if let Some(hint) = req.login_hint.as_deref() {
        params.push(("login_hint", hint));
    }
    tracing::info!(pool_id = %req.pool_id, provider = %provider_name, "federated sign-in started");
    Ok(crate::oauth::found(&with_params(
        &endpoints.authorize,
        &params,
    )))
}
