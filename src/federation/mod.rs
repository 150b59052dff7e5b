//! Federation: sign-in through Google, Facebook, Login with Amazon, Sign in with Apple
//! and any OpenID Connect provider, Cognito's way. Providers are configured per pool with Cognito's
//! keys (`ProviderDetails`, `AttributeMapping`); `start` sends the browser to the
//! provider with cognate's own state, `callback` verifies what comes back, and `users`
//! turns a provider identity into a user-pool user.

pub mod apple;
pub mod profile;

use std::collections::BTreeMap;

use crate::error::AppError;
pub use crate::model::federation::{
    IdentityProvider, LinkingPolicy, NewProvider, ProviderDetails, ProviderType,
};
use crate::services::Services;

impl ProviderType {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Google" => Some(Self::Google),
            "Facebook" => Some(Self::Facebook),
            "LoginWithAmazon" => Some(Self::LoginWithAmazon),
            "SignInWithApple" => Some(Self::SignInWithApple),
            "OIDC" => Some(Self::Oidc),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Google => "Google",
            Self::Facebook => "Facebook",
            Self::LoginWithAmazon => "LoginWithAmazon",
            Self::SignInWithApple => "SignInWithApple",
            Self::Oidc => "OIDC",
        }
    }

    /// Whether the provider returns an ID token to verify (else a profile API is read).
    pub fn is_oidc(self) -> bool {
        matches!(self, Self::Google | Self::Oidc | Self::SignInWithApple)
    }

    /// The provider's subject attribute (Cognito parses `sub`, `id` or `user_id`).
    pub fn subject_attribute(self) -> &'static str {
        match self {
            Self::Google | Self::Oidc | Self::SignInWithApple => "sub",
            Self::Facebook => "id",
            Self::LoginWithAmazon => "user_id",
        }
    }

    /// Cognito's default attribute mapping: pool attribute -> provider attribute.
    pub fn default_mapping(self) -> BTreeMap<String, String> {
        if self == Self::SignInWithApple {
            // Apple's own names: `name`, `firstName` and `lastName` come from the
            // `user` field of the first authorization only (see `apple`).
            return [
                ("username", "sub"),
                ("email", "email"),
                ("email_verified", "email_verified"),
                ("name", "name"),
                ("given_name", "firstName"),
                ("family_name", "lastName"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        }
        let mut m = BTreeMap::from([
            ("username".to_string(), self.subject_attribute().to_string()),
            ("email".to_string(), "email".to_string()),
            ("name".to_string(), "name".to_string()),
        ]);
        if self.is_oidc() {
            m.insert("email_verified".into(), "email_verified".into());
            m.insert("given_name".into(), "given_name".into());
            m.insert("family_name".into(), "family_name".into());
        }
        m
    }
}

impl LinkingPolicy {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "separate" => Some(Self::Separate),
            "link" => Some(Self::Link),
            "deny" => Some(Self::Deny),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Separate => "separate",
            Self::Link => "link",
            Self::Deny => "deny",
        }
    }
}

/// A provider's endpoints, defaults applied.
#[derive(Clone, Debug)]
pub struct Endpoints {
    pub authorize: String,
    pub token: String,
    pub attributes: Option<String>,
    pub issuer: Option<String>,
    pub jwks: Option<String>,
}

impl IdentityProvider {
    /// The endpoints to use. An OIDC provider without explicit endpoints is discovered
    /// from its issuer at sign-in time (`None` here).
    pub fn endpoints(&self) -> Option<Endpoints> {
        let d = &self.details;
        let (authorize, token, attributes, issuer, jwks) = match self.provider_type {
            ProviderType::Google => (
                "https://accounts.google.com/o/oauth2/v2/auth",
                "https://oauth2.googleapis.com/token",
                Some("https://openidconnect.googleapis.com/v1/userinfo"),
                Some("https://accounts.google.com"),
                Some("https://www.googleapis.com/oauth2/v3/certs"),
            ),
            ProviderType::Facebook => (
                "https://www.facebook.com/v19.0/dialog/oauth",
                "https://graph.facebook.com/v19.0/oauth/access_token",
                Some("https://graph.facebook.com/v19.0/me"),
                None,
                None,
            ),
            ProviderType::LoginWithAmazon => (
                "https://www.amazon.com/ap/oa",
                "https://api.amazon.com/auth/o2/token",
                Some("https://api.amazon.com/user/profile"),
                None,
                None,
            ),
            ProviderType::SignInWithApple => (
                "https://appleid.apple.com/auth/authorize",
                "https://appleid.apple.com/auth/token",
                None,
                Some("https://appleid.apple.com"),
                Some("https://appleid.apple.com/auth/keys"),
            ),
            ProviderType::Oidc => {
                return Some(Endpoints {
                    authorize: d.authorize_url.clone()?,
                    token: d.token_url.clone()?,
                    attributes: d.attributes_url.clone(),
                    issuer: Some(d.oidc_issuer.clone()?),
                    jwks: Some(d.jwks_uri.clone()?),
                });
            }
        };
        Some(Endpoints {
            authorize: d.authorize_url.clone().unwrap_or_else(|| authorize.into()),
            token: d.token_url.clone().unwrap_or_else(|| token.into()),
            attributes: d.attributes_url.clone().or(attributes.map(Into::into)),
            issuer: d.oidc_issuer.clone().or(issuer.map(Into::into)),
            jwks: d.jwks_uri.clone().or(jwks.map(Into::into)),
        })
    }

    /// The scopes requested at the provider.
    pub fn scopes(&self) -> String {
        if !self.details.authorize_scopes.trim().is_empty() {
            return self.details.authorize_scopes.clone();
        }
        match self.provider_type {
            ProviderType::Google | ProviderType::Oidc => "openid email profile",
            ProviderType::Facebook => "public_profile,email",
            ProviderType::LoginWithAmazon => "profile",
            ProviderType::SignInWithApple => "email name",
        }
        .to_string()
    }

    /// The auto-created group every user of this provider belongs to.
    pub fn group_name(&self) -> String {
        provider_group(&self.pool_id, &self.provider_name)
    }
}

/// The group cognate (as Cognito) puts every user of a provider in at the first
/// sign-in: `<pool id>_<provider name>`.
pub fn provider_group(pool_id: &str, provider_name: &str) -> String {
    format!("{pool_id}_{provider_name}")
}

impl NewProvider {
    pub fn validate(&self) -> Result<(), String> {
        let name = &self.provider_name;
        if name.is_empty()
            || name.chars().count() > 32
            || name.contains(['_', ' '])
            || name == "COGNITO"
        {
            return Err(
                "provider name must be 1 to 32 characters without '_' or spaces, and not COGNITO"
                    .into(),
            );
        }
        if self.details.client_id.is_empty() {
            return Err("client_id is required".into());
        }
        let d = &self.details;
        for url in [
            &d.authorize_url,
            &d.token_url,
            &d.attributes_url,
            &d.oidc_issuer,
            &d.jwks_uri,
        ]
        .into_iter()
        .flatten()
        {
            let ok = url::Url::parse(url).is_ok_and(|u| {
                u.scheme() == "https"
                    || u.scheme() == "http"
                        && matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
            });
            if !ok {
                return Err(format!(
                    "{url:?} must be an https URL (http only for localhost)"
                ));
            }
        }
        if self.provider_type == ProviderType::Oidc && d.oidc_issuer.is_none() {
            return Err("an OIDC provider needs oidc_issuer".into());
        }
        if self.provider_type == ProviderType::SignInWithApple {
            apple::check_details(d, self.client_secret.as_deref())?;
        }
        for pool_attribute in self.attribute_mapping.keys() {
            if pool_attribute != "username" && !crate::users::is_known_attribute(pool_attribute) {
                return Err(format!("unknown attribute {pool_attribute:?}"));
            }
        }
        Ok(())
    }
}

impl From<&IdentityProvider> for NewProvider {
    /// A provider's current settings (with its secret, if unsealed), to change and
    /// store again.
    fn from(p: &IdentityProvider) -> Self {
        Self {
            provider_name: p.provider_name.clone(),
            provider_type: p.provider_type,
            details: p.details.clone(),
            client_secret: p.client_secret.clone(),
            attribute_mapping: p.attribute_mapping.clone(),
            linking_policy: p.linking_policy,
            idp_identifiers: p.idp_identifiers.clone(),
        }
    }
}

/// Checks a provider for `pool_id`, fills in the default mapping, and seals its secret.
async fn prepare(
    app: &Services,
    pool_id: &str,
    new: &mut NewProvider,
) -> Result<Option<Vec<u8>>, AppError> {
    new.validate().map_err(AppError::Invalid)?;
    // Checked here rather than in `validate`, which also checks declarations whose
    // secrets are not resolved yet.
    if new.provider_type == ProviderType::SignInWithApple && new.client_secret.is_none() {
        return Err(AppError::Invalid(
            "Sign in with Apple needs private_key".into(),
        ));
    }
    if app.store.pool_by_id(pool_id).await?.is_none() {
        return Err(AppError::NotFound("user pool"));
    }
    if new.attribute_mapping.is_empty() {
        new.attribute_mapping = new.provider_type.default_mapping();
    }
    Ok(new.client_secret.as_ref().map(|s| {
        app.keys
            .master()
            .seal(&secret_context(pool_id, &new.provider_name), s.as_bytes())
    }))
}

/// Creates or replaces a provider of a pool.
pub async fn put_provider(
    app: &Services,
    pool_id: &str,
    mut new: NewProvider,
) -> Result<IdentityProvider, AppError> {
    let sealed = prepare(app, pool_id, &mut new).await?;
    app.store
        .put_identity_provider(pool_id, &new, sealed, app.clock.now())
        .await?;
    provider(app, pool_id, &new.provider_name)
        .await?
        .ok_or(AppError::NotFound("identity provider"))
}

/// Creates a provider; `Conflict` if the pool has one of that name.
pub async fn create_provider(
    app: &Services,
    pool_id: &str,
    mut new: NewProvider,
) -> Result<IdentityProvider, AppError> {
    let sealed = prepare(app, pool_id, &mut new).await?;
    app.store
        .insert_identity_provider(pool_id, &new, sealed, app.clock.now())
        .await
        .map_err(|e| match e {
            crate::store::StoreError::Conflict => AppError::Conflict("an identity provider"),
            other => other.into(),
        })?;
    provider(app, pool_id, &new.provider_name)
        .await?
        .ok_or(AppError::NotFound("identity provider"))
}

/// Changes an existing provider (not its name or type).
pub async fn update_provider(
    app: &Services,
    pool_id: &str,
    name: &str,
    change: impl FnOnce(&mut NewProvider),
) -> Result<IdentityProvider, AppError> {
    let current = provider(app, pool_id, name)
        .await?
        .ok_or(AppError::NotFound("identity provider"))?;
    let mut new = NewProvider::from(&current);
    change(&mut new);
    new.provider_name = current.provider_name.clone();
    new.provider_type = current.provider_type;
    put_provider(app, pool_id, new).await
}

/// Deletes a provider. Users who signed in through it stay, with their links, as on
/// Cognito; they can no longer sign in through it.
pub async fn delete_provider(app: &Services, pool_id: &str, name: &str) -> Result<(), AppError> {
    if !app.store.delete_identity_provider(pool_id, name).await? {
        return Err(AppError::NotFound("identity provider"));
    }
    tracing::info!(pool_id = %pool_id, provider = %name, "identity provider deleted");
    Ok(())
}

/// The provider an `idp_identifier` names, if any.
pub async fn provider_by_identifier(
    app: &Services,
    pool_id: &str,
    identifier: &str,
) -> Result<Option<String>, AppError> {
    let providers = app.store.identity_providers(pool_id).await?;
    Ok(providers
        .into_iter()
        .find(|p| {
            p.idp_identifiers
                .iter()
                .any(|i| i.eq_ignore_ascii_case(identifier))
        })
        .map(|p| p.provider_name))
}

/// Associated data sealing a provider's client secret to its row.
pub(crate) fn secret_context(pool_id: &str, provider_name: &str) -> String {
    format!("idp:{pool_id}:{provider_name}")
}

/// A provider with its client secret unsealed.
pub async fn provider(
    app: &Services,
    pool_id: &str,
    name: &str,
) -> Result<Option<IdentityProvider>, AppError> {
    let Some((mut idp, sealed)) = app.store.identity_provider(pool_id, name).await? else {
        return Ok(None);
    };
    if let Some(sealed) = sealed {
        let plain = app
            .keys
            .master()
            .open(&secret_context(pool_id, name), &sealed)
            .map_err(|e| anyhow::anyhow!("unseal provider secret: {e}"))?;
        idp.client_secret =
            Some(String::from_utf8(plain).map_err(|e| anyhow::anyhow!("provider secret: {e}"))?);
    }
    Ok(Some(idp))
}

/// Where providers send the browser back: `/oauth2/idpresponse` under `base`, where
/// the pool's routes were reached (`<public-url>/<pool-id>`, or a domain's origin), so
/// the browser returns to the host that holds its session.
pub fn redirect_uri(base: &str) -> String {
    format!("{base}/oauth2/idpresponse")
}
