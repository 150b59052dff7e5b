//! Redeeming the provider's code and reading who signed in: Google and OIDC through
//! the `openidconnect` crate (ID token signature via the provider's JWKS, `iss`, `aud`,
//! `exp` and nonce verified), Sign in with Apple likewise in `apple`, Facebook and
//! Login with Amazon through `oauth2` and their profile APIs (Graph `/me`,
//! `/user/profile`).

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, PkceCodeVerifier, RedirectUrl,
    TokenResponse, TokenUrl,
};
use openidconnect::core::{CoreClient, CoreJsonWebKeySet, CoreProviderMetadata};
use openidconnect::{IssuerUrl, JsonWebKeySetUrl, Nonce};
use serde_json::{Map, Value};

use super::{Endpoints, IdentityProvider, ProviderType};
use crate::services::Services;
use crate::store::FederationRequest;

/// What a provider says about the person who signed in.
#[derive(Debug)]
pub struct Profile {
    pub subject: String,
    /// The provider's attributes, as it named them.
    pub claims: Map<String, Value>,
    /// Whether the provider vouches for the email address.
    pub email_verified: bool,
}

impl Profile {
    /// A provider attribute as text.
    pub fn get(&self, name: &str) -> Option<String> {
        match self.claims.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

/// Whether `email_verified` is true: a boolean, or the string `"true"` (Apple).
pub(super) fn asserts_verified(claims: &Map<String, Value>) -> bool {
    matches!(claims.get("email_verified"), Some(Value::Bool(true)))
        || claims.get("email_verified").and_then(Value::as_str) == Some("true")
}

/// The provider's endpoints: configured, defaulted, or discovered from the issuer.
pub async fn resolve_endpoints(
    app: &Services,
    idp: &IdentityProvider,
) -> anyhow::Result<Endpoints> {
    if let Some(e) = idp.endpoints() {
        return Ok(e);
    }
    let issuer = idp.details.oidc_issuer.clone().context("no issuer")?;
    let meta = CoreProviderMetadata::discover_async(IssuerUrl::new(issuer.clone())?, &app.http)
        .await
        .context("OpenID Connect discovery")?;
    let d = &idp.details;
    Ok(Endpoints {
        authorize: d
            .authorize_url
            .clone()
            .unwrap_or_else(|| meta.authorization_endpoint().to_string()),
        token: match (&d.token_url, meta.token_endpoint()) {
            (Some(t), _) => t.clone(),
            (None, Some(t)) => t.to_string(),
            (None, None) => bail!("the provider publishes no token endpoint"),
        },
        attributes: d
            .attributes_url
            .clone()
            .or(meta.userinfo_endpoint().map(|u| u.to_string())),
        issuer: Some(issuer),
        jwks: Some(
            d.jwks_uri
                .clone()
                .unwrap_or_else(|| meta.jwks_uri().to_string()),
        ),
    })
}

/// Redeems `code` (sent to `redirect_uri`, as the provider was told) and returns the
/// verified profile.
pub async fn fetch(
    app: &Services,
    idp: &IdentityProvider,
    code: &str,
    request: &FederationRequest,
    redirect_uri: &str,
) -> anyhow::Result<Profile> {
    let endpoints = resolve_endpoints(app, idp).await?;
    if idp.provider_type == ProviderType::SignInWithApple {
        return super::apple::fetch(app, idp, endpoints, code, request, redirect_uri).await;
    }
    let redirect = RedirectUrl::new(redirect_uri.to_string())?;
    let secret = idp.client_secret.clone().map(ClientSecret::new);
    let verifier = PkceCodeVerifier::new(request.pkce_verifier.clone());
    if idp.provider_type.is_oidc() {
        let issuer = endpoints.issuer.context("no issuer")?;
        let jwks_url = JsonWebKeySetUrl::new(endpoints.jwks.context("no JWKS URI")?)?;
        let jwks = CoreJsonWebKeySet::fetch_async(&jwks_url, &app.http)
            .await
            .context("fetch the provider's JWKS")?;
        let mut client = CoreClient::new(
            ClientId::new(idp.details.client_id.clone()),
            IssuerUrl::new(issuer)?,
            jwks,
        )
        .set_auth_uri(AuthUrl::new(endpoints.authorize)?)
        .set_token_uri(TokenUrl::new(endpoints.token)?)
        .set_redirect_uri(redirect)
        .set_auth_type(AuthType::RequestBody);
        if let Some(secret) = secret {
            client = client.set_client_secret(secret);
        }
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .set_pkce_verifier(verifier)
            .request_async(&app.http)
            .await
            .context("redeem the code")?;
        let id_token = openidconnect::TokenResponse::id_token(&token)
            .context("the provider returned no ID token")?;
        let nonce = Nonce::new(request.nonce.clone());
        id_token
            .claims(&client.id_token_verifier(), &nonce)
            .context("verify the ID token")?;
        // Verified above; the payload is read again for the provider's own claim names.
        let payload = id_token
            .to_string()
            .split('.')
            .nth(1)
            .map(str::to_owned)
            .context("malformed ID token")?;
        let claims: Map<String, Value> = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload)?)?;
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .context("no sub")?
            .to_string();
        let email_verified = asserts_verified(&claims);
        return Ok(Profile {
            subject,
            claims,
            email_verified,
        });
    }
    let mut client = BasicClient::new(ClientId::new(idp.details.client_id.clone()))
        .set_auth_uri(AuthUrl::new(endpoints.authorize)?)
        .set_token_uri(TokenUrl::new(endpoints.token)?)
        .set_redirect_uri(redirect)
        .set_auth_type(AuthType::RequestBody);
    if let Some(secret) = secret {
        client = client.set_client_secret(secret);
    }
    let token = client
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .set_pkce_verifier(verifier)
        .request_async(&app.http)
        .await
        .context("redeem the code")?;
    let attributes_url = endpoints.attributes.context("no attributes URL")?;
    let url = match idp.provider_type {
        // Graph returns only the fields asked for.
        ProviderType::Facebook => {
            let mut fields: Vec<&str> = vec!["id", "name", "email"];
            fields.extend(idp.attribute_mapping.values().map(String::as_str));
            fields.sort();
            fields.dedup();
            crate::clients::redirect::with_params(&attributes_url, &[("fields", &fields.join(","))])
        }
        _ => attributes_url,
    };
    let res = app
        .http
        .get(url)
        .bearer_auth(token.access_token().secret())
        .send()
        .await
        .context("read the profile")?;
    if !res.status().is_success() {
        bail!("the profile API answered {}", res.status());
    }
    let claims: Map<String, Value> = res.json().await.context("parse the profile")?;
    let subject_attribute = idp.provider_type.subject_attribute();
    let subject = match claims.get(subject_attribute) {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => bail!("the profile has no {subject_attribute}"),
    };
    // Neither Facebook's Graph API nor Amazon's profile asserts that the address was
    // verified (no such field exists), so it never counts as verified: it cannot link,
    // claim a pre-registration or set `email_verified` (docs/security.md).
    let email_verified = false;
    Ok(Profile {
        subject,
        claims,
        email_verified,
    })
}
