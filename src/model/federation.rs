//! Identity providers and their settings.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The provider types Cognito knows (SAML is not supported).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProviderType {
    Google,
    Facebook,
    LoginWithAmazon,
    SignInWithApple,
    #[serde(rename = "OIDC")]
    Oidc,
}

/// Cognito's `ProviderDetails`, with the real providers' endpoints as defaults. Every
/// endpoint may be overridden (stand-ins, regional endpoints, proxies).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProviderDetails {
    pub client_id: String,
    pub authorize_scopes: String,
    pub authorize_url: Option<String>,
    pub token_url: Option<String>,
    pub attributes_url: Option<String>,
    pub oidc_issuer: Option<String>,
    pub jwks_uri: Option<String>,
    /// Sign in with Apple: the Apple developer team, issuer of the client secret JWT.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_id: Option<String>,
    /// Sign in with Apple: the id of the team's private key, the JWT header's `kid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
}

/// What happens when a provider's verified email matches an existing native user.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkingPolicy {
    /// Create a separate external user (Cognito's behaviour).
    #[default]
    Separate,
    /// Sign in as the native user and link the identity to it.
    Link,
    /// Refuse the sign-in.
    Deny,
}

/// A pool's identity provider.
#[derive(Clone, Debug, Serialize)]
pub struct IdentityProvider {
    pub pool_id: String,
    pub provider_name: String,
    pub provider_type: ProviderType,
    pub details: ProviderDetails,
    /// The provider's secret, sealed at rest and never shown: the OAuth client secret,
    /// or for Sign in with Apple the team's private key (PEM), from which each token
    /// request's client secret is made.
    #[serde(skip)]
    pub client_secret: Option<String>,
    pub attribute_mapping: BTreeMap<String, String>,
    pub linking_policy: LinkingPolicy,
    /// Names an app may pass as `idp_identifier` to pick this provider.
    pub idp_identifiers: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What an operator gives to create or replace a provider.
#[derive(Clone, Debug)]
pub struct NewProvider {
    pub provider_name: String,
    pub provider_type: ProviderType,
    pub details: ProviderDetails,
    /// The client secret, or Apple's private key (see [`IdentityProvider`]).
    pub client_secret: Option<String>,
    /// Empty means Cognito's default for the type.
    pub attribute_mapping: BTreeMap<String, String>,
    pub linking_policy: LinkingPolicy,
    pub idp_identifiers: Vec<String>,
}
