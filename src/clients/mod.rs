//! App clients: one per UI, each with its own callbacks, scopes, flows, token
//! validities and (optionally) a secret. Secrets are random, so they are stored as a
//! SHA-256 digest and compared in constant time, plus sealed with the master key
//! because the Cognito API returns them.

pub mod redirect;
pub mod state_split;

use crate::crypto::random_alnum;
use crate::crypto::{ct_eq, sha256_hex};
pub use crate::model::clients::{AppClient, Branding, ClientSettings};
use state_split::StateRelay;

/// OAuth flows a client may use (Cognito's `AllowedOAuthFlows`).
pub const FLOW_CODE: &str = "code";
/// Machine-to-machine tokens for a confidential client, for custom scopes only.
pub const FLOW_CLIENT_CREDENTIALS: &str = "client_credentials";

/// The name of the pool's own directory among a client's identity providers.
pub const COGNITO: &str = "COGNITO";

/// Cognito's default `ExplicitAuthFlows`.
pub const DEFAULT_AUTH_FLOWS: &[&str] = &["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"];

/// Every `ExplicitAuthFlows` value cognate knows.
pub const AUTH_FLOWS: &[&str] = &[
    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
    "ALLOW_CUSTOM_AUTH",
];

/// Cognito's upper bound for `RetryGracePeriodSeconds`.
pub const MAX_REFRESH_RETRY_GRACE: i64 = 60;

/// Seconds in one of Cognito's `TimeUnitsType` units.
pub fn unit_seconds(unit: &str) -> Option<i64> {
    match unit {
        "seconds" => Some(1),
        "minutes" => Some(60),
        "hours" => Some(3600),
        "days" => Some(86400),
        _ => None,
    }
}

/// `ExplicitAuthFlows` in their `ALLOW_*` forms. The legacy values always allowed SRP
/// and refresh tokens besides what they name, and may not be mixed with the new ones.
pub fn allow_forms(flows: &[String]) -> Result<Vec<String>, String> {
    let legacy = |f: &str| match f {
        "ADMIN_NO_SRP_AUTH" => Some("ALLOW_ADMIN_USER_PASSWORD_AUTH"),
        "USER_PASSWORD_AUTH" => Some("ALLOW_USER_PASSWORD_AUTH"),
        "CUSTOM_AUTH_FLOW_ONLY" => Some("ALLOW_CUSTOM_AUTH"),
        _ => None,
    };
    let legacy_count = flows.iter().filter(|f| legacy(f).is_some()).count();
    let mut out = Vec::new();
    if legacy_count > 0 {
        if legacy_count < flows.len() {
            return Err("ExplicitAuthFlows cannot mix legacy values with ALLOW_* values.".into());
        }
        out.push("ALLOW_USER_SRP_AUTH".to_string());
        out.push("ALLOW_REFRESH_TOKEN_AUTH".to_string());
    }
    for flow in flows {
        // Unknown values are refused by the client's own validation.
        let flow = legacy(flow).unwrap_or(flow);
        if !out.iter().any(|f| f == flow) {
            out.push(flow.to_string());
        }
    }
    Ok(out)
}

/// Scopes a client may be granted when none are configured.
pub const DEFAULT_SCOPES: &[&str] = &["openid", "email", "profile"];

impl std::ops::Deref for AppClient {
    type Target = ClientSettings;

    fn deref(&self) -> &ClientSettings {
        &self.settings
    }
}

impl AppClient {
    /// A client without a secret must prove possession with PKCE instead.
    pub fn is_public(&self) -> bool {
        self.secret_digest.is_none()
    }

    /// Constant-time check of a presented secret.
    pub fn verify_secret(&self, presented: &str) -> bool {
        match &self.secret_digest {
            Some(digest) => ct_eq(sha256_hex(presented).as_bytes(), digest.as_bytes()),
            None => false,
        }
    }
}

impl ClientSettings {
    /// The name people know the app by: its branding's display name where set, else
    /// the client's name.
    pub fn display_name(&self) -> &str {
        self.branding.display_name.as_deref().unwrap_or(&self.name)
    }
}

impl Default for ClientSettings {
    /// A code-flow client with Cognito's default validities (ID and access 60 minutes,
    /// refresh 30 days) and the default scopes; it has no name yet.
    fn default() -> Self {
        Self {
            name: String::new(),
            callback_urls: Vec::new(),
            logout_urls: Vec::new(),
            allowed_scopes: DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect(),
            allowed_flows: vec![FLOW_CODE.to_string()],
            id_token_validity: 3600,
            access_token_validity: 3600,
            refresh_token_validity: 30 * 86400,
            state_relay: StateRelay::default(),
            branding: Branding::default(),
            write_attributes: Vec::new(),
            read_attributes: Vec::new(),
            auth_session_validity: DEFAULT_AUTH_SESSION_MINUTES,
            enable_token_revocation: true,
            supported_identity_providers: vec![COGNITO.to_string()],
            explicit_auth_flows: DEFAULT_AUTH_FLOWS.iter().map(|f| f.to_string()).collect(),
            refresh_token_retry_grace: 0,
            refresh_token_rotation: false,
            reported: Default::default(),
        }
    }
}

impl ClientSettings {
    /// The default settings of a client named `name`.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
            ..Self::default()
        }
    }

    /// Whether the client offers sign-in through `provider` (`COGNITO` for the pool's
    /// own users).
    pub fn supports_provider(&self, provider: &str) -> bool {
        self.supported_identity_providers
            .iter()
            .any(|p| p == provider)
    }

    pub fn allows_flow(&self, flow: &str) -> bool {
        self.allowed_flows.iter().any(|f| f == flow)
    }

    /// Checks what the store cannot: every URL is absolute and has no fragment
    /// (RFC 6749 §3.1.2), validities are within Cognito's bounds.
    pub fn validate(&self) -> Result<(), String> {
        if self.name.trim().is_empty() || self.name.len() > 128 {
            return Err("client name must be 1 to 128 characters".into());
        }
        for u in self.callback_urls.iter().chain(&self.logout_urls) {
            redirect::validate_registered(u)?;
        }
        self.state_relay.validate()?;
        self.branding.validate()?;
        if let Some(bad) = self
            .explicit_auth_flows
            .iter()
            .find(|f| !AUTH_FLOWS.contains(&f.as_str()))
        {
            return Err(format!("unknown explicit auth flow {bad:?}"));
        }
        for name in &self.write_attributes {
            if !crate::model::users::is_known_attribute(name) {
                return Err(format!(
                    "write attribute {name:?} must be a standard or custom:* attribute"
                ));
            }
        }
        for name in &self.read_attributes {
            if !is_readable_name(name) {
                return Err(format!(
                    "read attribute {name:?} must be a standard or custom:* attribute"
                ));
            }
        }
        if !AUTH_SESSION_MINUTES.contains(&self.auth_session_validity) {
            return Err("the auth session validity must be 3 to 15 minutes".into());
        }
        let bounds = [
            (self.id_token_validity, 300, 86400, "ID token"),
            (self.access_token_validity, 300, 86400, "access token"),
            (
                self.refresh_token_validity,
                3600,
                3650 * 86400,
                "refresh token",
            ),
            (
                self.refresh_token_retry_grace,
                0,
                MAX_REFRESH_RETRY_GRACE,
                "refresh token retry grace period",
            ),
        ];
        for (value, min, max, what) in bounds {
            if !(min..=max).contains(&value) {
                return Err(format!("{what} validity must be {min} to {max} seconds"));
            }
        }
        if !self.refresh_token_rotation && self.refresh_token_retry_grace > 0 {
            return Err("a refresh token retry grace period needs refresh token rotation".into());
        }
        Ok(())
    }
}

/// How long a sign-in challenge's session may last, in minutes (Cognito's bounds), and
/// its default.
pub const AUTH_SESSION_MINUTES: std::ops::RangeInclusive<i64> = 3..=15;
pub const DEFAULT_AUTH_SESSION_MINUTES: i64 = 3;

/// Whether a client may list `name` among its `ReadAttributes`: a standard or
/// `custom:*` attribute, or `updated_at` (which Cognito's schema lists).
pub fn is_readable_name(name: &str) -> bool {
    crate::model::users::is_known_attribute(name) || name == "updated_at"
}

/// Largest custom stylesheet.
pub const MAX_CSS_LEN: usize = 100 * 1024;

impl Branding {
    pub fn validate(&self) -> Result<(), String> {
        for (name, colour) in [
            ("primary colour", &self.primary_color),
            ("background colour", &self.background_color),
        ] {
            if let Some(c) = colour {
                let hex = c.strip_prefix('#').unwrap_or_default();
                if !matches!(hex.len(), 3 | 6) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(format!("the {name} must be a hex colour such as #2454d6"));
                }
            }
        }
        if let Some(logo) = &self.logo_url {
            // An inline image keeps the logo in the configuration (CSP allows data:).
            let inline = ["png", "jpeg", "gif", "webp", "svg+xml"]
                .iter()
                .any(|t| logo.starts_with(&format!("data:image/{t};base64,")))
                && logo.len() <= MAX_CSS_LEN;
            let remote = logo.len() <= 1024
                && url::Url::parse(logo).is_ok_and(|u| {
                    u.scheme() == "https"
                        || u.scheme() == "http" && u.host_str() == Some("localhost")
                });
            if !inline && !remote {
                return Err("the logo must be an https URL or a data:image/…;base64 URL".into());
            }
        }
        if self
            .display_name
            .as_ref()
            .is_some_and(|n| n.trim().is_empty() || n.chars().count() > 128)
        {
            return Err("the display name must be 1 to 128 characters".into());
        }
        if self
            .page_title
            .as_ref()
            .is_some_and(|t| t.chars().count() > 128)
        {
            return Err("the page title must be at most 128 characters".into());
        }
        if self.css.as_ref().is_some_and(|c| c.len() > MAX_CSS_LEN) {
            return Err(format!(
                "the stylesheet must be at most {MAX_CSS_LEN} bytes"
            ));
        }
        Ok(())
    }

    /// Whether the client has a stylesheet of its own (colours or CSS).
    pub fn has_stylesheet(&self) -> bool {
        self.primary_color.is_some() || self.background_color.is_some() || self.css.is_some()
    }

    /// The client's stylesheet: colour variables, then its own CSS.
    pub fn stylesheet(&self) -> String {
        let mut out = String::from(":root {");
        if let Some(c) = &self.primary_color {
            out.push_str(&format!(" --accent: {c};"));
        }
        if let Some(c) = &self.background_color {
            out.push_str(&format!(" --bg: {c};"));
        }
        out.push_str(" }\n");
        if let Some(css) = &self.css {
            out.push_str(css);
        }
        out
    }
}

/// A new client id: 26 lower-case alphanumerics, as Cognito's.
pub fn new_client_id() -> String {
    random_alnum(26, true)
}

/// A new client secret: 52 lower-case alphanumerics (about 268 bits).
pub fn new_client_secret() -> String {
    random_alnum(52, true)
}

/// Whether a new client gets a secret, and which.
#[derive(Clone, Copy, Debug)]
pub enum NewSecret<'a> {
    /// A public client, which must use PKCE.
    None,
    /// A confidential client with a random secret.
    Generate,
    /// A confidential client with a secret of the operator's choosing (Cognito's
    /// `ClientSecret`, e.g. to keep a secret when moving a client from elsewhere).
    Chosen(&'a str),
}

/// Creates a client; returns it with its secret, which is shown only here.
pub async fn create(
    app: &crate::services::Services,
    pool_id: &str,
    settings: &ClientSettings,
    secret: NewSecret<'_>,
) -> Result<(AppClient, Option<String>), crate::error::AppError> {
    let secret = new_secret(secret)?;
    insert(app, pool_id, &new_client_id(), settings, secret).await
}

/// [`create`] with a client id of the caller's choosing (`cognate apply`: apps moved
/// from elsewhere keep theirs): 1 to 128 letters, digits, `_` or `+`, as Cognito's.
pub async fn create_with_id(
    app: &crate::services::Services,
    pool_id: &str,
    client_id: &str,
    settings: &ClientSettings,
    secret: NewSecret<'_>,
) -> Result<(AppClient, Option<String>), crate::error::AppError> {
    if !is_client_id(client_id) {
        return Err(crate::error::AppError::Invalid(format!(
            "{client_id:?} is not a client id (1 to 128 letters, digits, '_' or '+')"
        )));
    }
    let secret = new_secret(secret)?;
    insert(app, pool_id, client_id, settings, secret).await
}

/// Whether `id` has the shape of a Cognito client id.
pub fn is_client_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'+')
}

/// Replaces a client's secret (`cognate apply` keeping a moved client's secret).
pub async fn set_secret(
    app: &crate::services::Services,
    pool_id: &str,
    client_id: &str,
    secret: NewSecret<'_>,
) -> Result<Option<String>, crate::error::AppError> {
    let secret = new_secret(secret)?;
    let stored = secret.as_deref().map(|s| seal_secret(app, client_id, s));
    if !app
        .store
        .set_client_secret(pool_id, client_id, stored, app.clock.now())
        .await?
    {
        return Err(crate::error::AppError::NotFound("client"));
    }
    Ok(secret)
}

/// A confidential client's secret, unsealed (the API returns it; `export` keeps it).
pub async fn secret(
    app: &crate::services::Services,
    client: &AppClient,
) -> Result<Option<String>, crate::error::AppError> {
    if client.is_public() {
        return Ok(None);
    }
    let Some(sealed) = app.store.client_secret_sealed(&client.client_id).await? else {
        return Ok(None);
    };
    let plain = app
        .keys
        .master()
        .open(&client.client_id, &sealed)
        .map_err(|e| anyhow::anyhow!("unseal client secret: {e}"))?;
    let secret = String::from_utf8(plain).map_err(|e| anyhow::anyhow!("client secret: {e}"))?;
    Ok(Some(secret))
}

/// The secret a [`NewSecret`] asks for, checked.
fn new_secret(secret: NewSecret<'_>) -> Result<Option<String>, crate::error::AppError> {
    Ok(match secret {
        NewSecret::None => None,
        NewSecret::Generate => Some(new_client_secret()),
        NewSecret::Chosen(chosen) => {
            validate_custom_secret(chosen).map_err(crate::error::AppError::Invalid)?;
            Some(chosen.to_string())
        }
    })
}

/// A secret as stored: its digest, and itself sealed for the API to return.
fn seal_secret(
    app: &crate::services::Services,
    client_id: &str,
    secret: &str,
) -> (String, Vec<u8>) {
    (
        sha256_hex(secret),
        app.keys.master().seal(client_id, secret.as_bytes()),
    )
}

/// Cognito's rule for a chosen secret: 24 to 64 letters, digits, `_` or `+`.
pub fn validate_custom_secret(secret: &str) -> Result<(), String> {
    if !(24..=64).contains(&secret.len())
        || !secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'+')
    {
        return Err("a client secret must be 24 to 64 letters, digits, '_' or '+'".into());
    }
    Ok(())
}

async fn insert(
    app: &crate::services::Services,
    pool_id: &str,
    client_id: &str,
    settings: &ClientSettings,
    secret: Option<String>,
) -> Result<(AppClient, Option<String>), crate::error::AppError> {
    use crate::error::AppError;
    settings.validate().map_err(AppError::Invalid)?;
    if app.store.pool_by_id(pool_id).await?.is_none() {
        return Err(AppError::NotFound("user pool"));
    }
    let stored = secret.as_deref().map(|s| seal_secret(app, client_id, s));
    app.store
        .insert_client(pool_id, client_id, settings, stored, app.clock.now())
        .await
        .map_err(|e| match e {
            crate::store::StoreError::Conflict => AppError::Conflict("a client with that id"),
            other => other.into(),
        })?;
    let client = app
        .store
        .client_by_id(pool_id, client_id)
        .await?
        .ok_or(AppError::NotFound("client"))?;
    Ok((client, secret))
}

/// Checks that every provider a client offers is `COGNITO` or one of the pool's
/// identity providers.
pub async fn check_identity_providers(
    app: &crate::services::Services,
    pool_id: &str,
    names: &[String],
) -> Result<(), crate::error::AppError> {
    let configured = app.store.identity_providers(pool_id).await?;
    for name in names {
        if name != COGNITO && !configured.iter().any(|p| &p.provider_name == name) {
            return Err(crate::error::AppError::Invalid(format!(
                "The provider {name} does not exist for User Pool {pool_id}"
            )));
        }
    }
    Ok(())
}

/// Deletes a client; its codes and refresh tokens stop working with it.
pub async fn delete(
    app: &crate::services::Services,
    pool_id: &str,
    client_id: &str,
) -> Result<(), crate::error::AppError> {
    if !app.store.delete_client(pool_id, client_id).await? {
        return Err(crate::error::AppError::NotFound("client"));
    }
    tracing::info!(pool_id = %pool_id, client_id = %client_id, "client deleted");
    Ok(())
}

/// Replaces a client's settings (not its id or secret) after validating them.
pub async fn update(
    app: &crate::services::Services,
    pool_id: &str,
    client_id: &str,
    change: impl FnOnce(&mut ClientSettings),
) -> Result<AppClient, crate::error::AppError> {
    use crate::error::AppError;
    let client = app
        .store
        .client_by_id(pool_id, client_id)
        .await?
        .ok_or(AppError::NotFound("client"))?;
    let mut settings = client.settings;
    change(&mut settings);
    settings.validate().map_err(AppError::Invalid)?;
    if !app
        .store
        .update_client(pool_id, client_id, &settings, app.clock.now())
        .await?
    {
        return Err(AppError::NotFound("client"));
    }
    app.store
        .client_by_id(pool_id, client_id)
        .await?
        .ok_or(AppError::NotFound("client"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_auth_flows_become_their_allow_forms() {
        let flows = allow_forms(&["ADMIN_NO_SRP_AUTH".into()]).unwrap();
        assert_eq!(
            flows,
            [
                "ALLOW_USER_SRP_AUTH",
                "ALLOW_REFRESH_TOKEN_AUTH",
                "ALLOW_ADMIN_USER_PASSWORD_AUTH"
            ]
        );
        assert!(allow_forms(&["USER_PASSWORD_AUTH".into(), "ALLOW_USER_SRP_AUTH".into()]).is_err());
    }
}
