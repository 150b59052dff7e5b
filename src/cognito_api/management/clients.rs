//! `CreateUserPoolClient`, `DescribeUserPoolClient`, `UpdateUserPoolClient`,
//! `ListUserPoolClients` and `DeleteUserPoolClient`: Cognito's client members applied
//! onto [`ClientSettings`] with Cognito's defaults.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{existing_pool, not_found_as};
use crate::clients::{self, AppClient, ClientSettings, NewSecret};
use crate::cognito_api::paging::{MAX_PAGE, PoolListing};
use crate::cognito_api::{ActionResult, CognitoError, parse, shapes};
use crate::model::clients::{
    RefreshTokenRotation as ReportedRotation, TokenValidityUnits as ReportedUnits,
};
use crate::pool::Pool;
use crate::resource_servers::{self, is_custom_scope};
use crate::state::Inner;

/// The client settings `CreateUserPoolClient` and `UpdateUserPoolClient` share.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ClientConfig {
    refresh_token_validity: Option<i64>,
    access_token_validity: Option<i64>,
    id_token_validity: Option<i64>,
    token_validity_units: Option<TokenValidityUnits>,
    write_attributes: Option<Vec<String>>,
    explicit_auth_flows: Option<Vec<String>>,
    supported_identity_providers: Option<Vec<String>>,
    #[serde(rename = "CallbackURLs")]
    callback_urls: Option<Vec<String>>,
    #[serde(rename = "LogoutURLs")]
    logout_urls: Option<Vec<String>>,
    #[serde(rename = "DefaultRedirectURI")]
    default_redirect_uri: Option<String>,
    #[serde(rename = "AllowedOAuthFlows")]
    allowed_oauth_flows: Option<Vec<String>>,
    #[serde(rename = "AllowedOAuthScopes")]
    allowed_oauth_scopes: Option<Vec<String>>,
    #[serde(rename = "AllowedOAuthFlowsUserPoolClient")]
    allowed_oauth_flows_user_pool_client: Option<bool>,
    prevent_user_existence_errors: Option<String>,
    refresh_token_rotation: Option<RefreshTokenRotation>,
    read_attributes: Option<Vec<String>>,
    enable_token_revocation: Option<bool>,
    enable_propagate_additional_user_context_data: Option<bool>,
    auth_session_validity: Option<i64>,
}

/// Cognito's `RefreshTokenRotationType`: whether `/oauth2/token` rotates refresh
/// tokens, and how long a rotated one may be retried.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct RefreshTokenRotation {
    feature: String,
    retry_grace_period_seconds: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct TokenValidityUnits {
    access_token: Option<String>,
    id_token: Option<String>,
    refresh_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateUserPoolClientRequest {
    user_pool_id: String,
    client_name: String,
    generate_secret: Option<bool>,
    client_secret: Option<String>,
    #[serde(flatten)]
    config: ClientConfig,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ClientIdRequest {
    user_pool_id: String,
    client_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateUserPoolClientRequest {
    user_pool_id: String,
    client_id: String,
    client_name: Option<String>,
    #[serde(flatten)]
    config: ClientConfig,
}

/// `ListUserPoolClients`' pages: `MaxResults` 1 to 60.
const LISTING: PoolListing = PoolListing::new("ListUserPoolClients", "MaxResults", 1, MAX_PAGE);

/// Scopes a client may be allowed besides its pool's custom scopes.
const STANDARD_SCOPES: &[&str] = &[
    "openid",
    "email",
    "phone",
    "profile",
    "aws.cognito.signin.user.admin",
];

/// A validity in seconds: `value` in `unit` (or `default_unit`), or `default` seconds.
fn validity(
    field: &str,
    value: Option<i64>,
    unit: Option<&str>,
    default_unit: &str,
    default: i64,
) -> Result<i64, CognitoError> {
    let unit = unit.unwrap_or(default_unit);
    let seconds = clients::unit_seconds(unit).ok_or_else(|| {
        CognitoError::invalid(format!(
            "TokenValidityUnits {unit:?} for {field} must be seconds, minutes, hours or days."
        ))
    })?;
    match value {
        None => Ok(default),
        Some(v) if v <= 0 => Err(CognitoError::invalid(format!(
            "{field} must be a positive number."
        ))),
        Some(v) => v
            .checked_mul(seconds)
            .ok_or_else(|| CognitoError::invalid(format!("{field} is too large."))),
    }
}

/// `field` is refused: cognate does not do what it asks for (yet).
fn unsupported(field: &str, why: &str) -> CognitoError {
    CognitoError::invalid(format!("{field} is not supported: {why}."))
}

/// Refuses the settings that ask for something cognate does not do; the values that
/// describe what it does are accepted (and reported back as Cognito's defaults).
fn refuse_unsupported(config: &ClientConfig) -> Result<(), CognitoError> {
    // AnalyticsConfiguration is refused with the other fields cognate does not take
    // (`fields.json`).
    if config.enable_propagate_additional_user_context_data == Some(true) {
        return Err(unsupported(
            "EnablePropagateAdditionalUserContextData",
            "there is no threat protection to pass context data to",
        ));
    }
    Ok(())
}

/// Sets the client settings `config` covers, omitted ones to Cognito's defaults;
/// `pool_scopes` are the custom scopes the pool's resource servers define, and `pool`
/// the client's pool, whose `PreventUserExistenceErrors` setting the client reports.
fn apply_client_config(
    config: &ClientConfig,
    s: &mut ClientSettings,
    pool_scopes: &[String],
    pool: &Pool,
) -> Result<(), CognitoError> {
    refuse_unsupported(config)?;
    let units = config.token_validity_units.as_ref();
    s.reported.token_validity_units = units.map(|u| ReportedUnits {
        access_token: u.access_token.clone().unwrap_or_else(|| "hours".into()),
        id_token: u.id_token.clone().unwrap_or_else(|| "hours".into()),
        refresh_token: u.refresh_token.clone().unwrap_or_else(|| "days".into()),
    });
    s.access_token_validity = validity(
        "AccessTokenValidity",
        config.access_token_validity,
        units.and_then(|u| u.access_token.as_deref()),
        "hours",
        3600,
    )?;
    s.id_token_validity = validity(
        "IdTokenValidity",
        config.id_token_validity,
        units.and_then(|u| u.id_token.as_deref()),
        "hours",
        3600,
    )?;
    s.refresh_token_validity = validity(
        "RefreshTokenValidity",
        // Cognito reads 0 as "the default".
        config.refresh_token_validity.filter(|v| *v != 0),
        units.and_then(|u| u.refresh_token.as_deref()),
        "days",
        30 * 86400,
    )?;

    let rotation = config.refresh_token_rotation.as_ref();
    s.refresh_token_rotation = match rotation.map(|r| r.feature.as_str()) {
        Some("ENABLED") => true,
        // Cognito's default: the refresh token stays valid until it expires.
        None | Some("DISABLED") => false,
        Some(other) => {
            return Err(CognitoError::invalid(format!(
                "RefreshTokenRotation Feature {other:?} must be ENABLED or DISABLED."
            )));
        }
    };
    s.refresh_token_retry_grace = rotation
        .and_then(|r| r.retry_grace_period_seconds)
        .unwrap_or(0);
    s.reported.refresh_token_rotation = rotation.map(|r| ReportedRotation {
        feature: r.feature.clone(),
        retry_grace_period_seconds: r.retry_grace_period_seconds,
    });
    if !(0..=clients::MAX_REFRESH_RETRY_GRACE).contains(&s.refresh_token_retry_grace) {
        return Err(CognitoError::invalid(
            "RetryGracePeriodSeconds must be 0 to 60.",
        ));
    }

    // The attributes users of this client may write (none listed: all of them).
    s.write_attributes = Vec::new();
    for name in config.write_attributes.iter().flatten() {
        if !crate::users::is_known_attribute(name) {
            return Err(CognitoError::invalid(format!(
                "Invalid write attribute {name:?}: not a standard or custom:* attribute."
            )));
        }
        push_unique(&mut s.write_attributes, name);
    }

    // The attributes this client may read, kept as sent (none: all of them).
    s.read_attributes = Vec::new();
    for name in config.read_attributes.iter().flatten() {
        if !clients::is_readable_name(name) {
            return Err(CognitoError::invalid(format!(
                "Invalid read attribute {name:?}: not a standard or custom:* attribute."
            )));
        }
        s.read_attributes.push(name.clone());
    }
    s.auth_session_validity = match config.auth_session_validity {
        None => clients::DEFAULT_AUTH_SESSION_MINUTES,
        Some(m) if clients::AUTH_SESSION_MINUTES.contains(&m) => m,
        Some(_) => {
            return Err(CognitoError::invalid(
                "AuthSessionValidity must be 3 to 15 minutes.",
            ));
        }
    };
    s.enable_token_revocation = config.enable_token_revocation.unwrap_or(true);

    s.explicit_auth_flows = match &config.explicit_auth_flows {
        None => clients::DEFAULT_AUTH_FLOWS
            .iter()
            .map(|f| f.to_string())
            .collect(),
        Some(flows) => clients::allow_forms(flows).map_err(CognitoError::invalid)?,
    };

    s.supported_identity_providers = Vec::new();
    for name in config.supported_identity_providers.iter().flatten() {
        push_unique(&mut s.supported_identity_providers, name);
    }
    s.callback_urls = config.callback_urls.clone().unwrap_or_default();
    s.logout_urls = config.logout_urls.clone().unwrap_or_default();
    if let Some(uri) = &config.default_redirect_uri
        && !s.callback_urls.contains(uri)
    {
        return Err(CognitoError::invalid(
            "DefaultRedirectURI must be one of the CallbackURLs.",
        ));
    }
    s.reported.default_redirect_uri = config.default_redirect_uri.clone();

    let oauth = config.allowed_oauth_flows_user_pool_client.unwrap_or(false);
    let flows = config.allowed_oauth_flows.as_deref().unwrap_or_default();
    let scopes = config.allowed_oauth_scopes.as_deref().unwrap_or_default();
    for flow in flows {
        match flow.as_str() {
            "code" | "implicit" | clients::FLOW_CLIENT_CREDENTIALS => {}
            other => {
                return Err(CognitoError::invalid(format!(
                    "AllowedOAuthFlows {other:?} must be code, implicit or client_credentials."
                )));
            }
        }
    }
    if !oauth && (!flows.is_empty() || !scopes.is_empty()) {
        return Err(CognitoError::invalid(
            "AllowedOAuthFlows and AllowedOAuthScopes need AllowedOAuthFlowsUserPoolClient true.",
        ));
    }
    if oauth && flows.is_empty() {
        return Err(CognitoError::new(
            "InvalidOAuthFlowException",
            "AllowedOAuthFlows must not be empty when AllowedOAuthFlowsUserPoolClient is true.",
        ));
    }
    if let Some(bad) = scopes
        .iter()
        .find(|s| !STANDARD_SCOPES.contains(&s.as_str()) && !pool_scopes.contains(s))
    {
        return Err(CognitoError::new(
            "ScopeDoesNotExistException",
            format!("Invalid scope requested: {bad}"),
        ));
    }
    if flows.iter().any(|f| f == clients::FLOW_CLIENT_CREDENTIALS) {
        // Machine tokens carry no user, so neither user flows nor user scopes mix in.
        if flows.len() > 1 {
            return Err(CognitoError::new(
                "InvalidOAuthFlowException",
                "client_credentials flow can not be selected along with code flow or implicit flow.",
            ));
        }
        if scopes.is_empty() || scopes.iter().any(|s| !is_custom_scope(s)) {
            return Err(CognitoError::new(
                "InvalidOAuthFlowException",
                "client_credentials flow needs AllowedOAuthScopes of custom scopes only.",
            ));
        }
    }
    s.allowed_flows = Vec::new();
    for flow in flows {
        push_unique(&mut s.allowed_flows, flow);
    }
    s.allowed_scopes = Vec::new();
    for scope in scopes {
        push_unique(&mut s.allowed_scopes, scope);
    }

    // A pool setting in cognate: a client may state it, not change it.
    let pools = shapes::prevent_user_existence_errors(pool);
    match config.prevent_user_existence_errors.as_deref() {
        None => Ok(()),
        Some(value) if value == pools => Ok(()),
        Some(value @ ("ENABLED" | "LEGACY")) => Err(unsupported(
            &format!("PreventUserExistenceErrors {value}"),
            &format!("it is set for the whole pool in cognate, and this pool's is {pools}"),
        )),
        Some(other) => Err(CognitoError::invalid(format!(
            "PreventUserExistenceErrors {other:?} must be ENABLED or LEGACY."
        ))),
    }
}

/// `client_credentials` authenticates the client itself, so it needs a secret.
fn check_secret_for_flows(s: &ClientSettings, has_secret: bool) -> Result<(), CognitoError> {
    if s.allowed_flows
        .iter()
        .any(|f| f == clients::FLOW_CLIENT_CREDENTIALS)
        && !has_secret
    {
        return Err(CognitoError::new(
            "InvalidOAuthFlowException",
            "client_credentials flow can not be selected if client does not have a client secret.",
        ));
    }
    Ok(())
}

fn push_unique(list: &mut Vec<String>, item: &str) {
    if !list.iter().any(|i| i == item) {
        list.push(item.to_string());
    }
}

pub(super) async fn create_user_pool_client(app: &Inner, request: &Value) -> ActionResult {
    let req: CreateUserPoolClientRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    let mut settings = ClientSettings::new(&req.client_name);
    let pool_scopes = resource_servers::pool_scopes(app, &pool.pool_id).await?;
    apply_client_config(&req.config, &mut settings, &pool_scopes, &pool)?;
    clients::check_identity_providers(app, &pool.pool_id, &settings.supported_identity_providers)
        .await?;
    let secret = match (&req.client_secret, req.generate_secret.unwrap_or(false)) {
        (Some(_), true) => {
            return Err(CognitoError::invalid(
                "You cannot specify both GenerateSecret as true and provide a ClientSecret value.",
            ));
        }
        (Some(chosen), false) => NewSecret::Chosen(chosen),
        (None, true) => NewSecret::Generate,
        (None, false) => NewSecret::None,
    };
    check_secret_for_flows(&settings, !matches!(secret, NewSecret::None))?;
    let (client, secret) = clients::create(app, &pool.pool_id, &settings, secret).await?;
    Ok(json!({ "UserPoolClient": shapes::client_type(&client, secret.as_deref(), &pool) }))
}

pub(super) async fn describe_user_pool_client(app: &Inner, request: &Value) -> ActionResult {
    let req: ClientIdRequest = parse(request)?;
    let (pool, client) = existing_client(app, &req.user_pool_id, &req.client_id).await?;
    let secret = client_secret(app, &client).await?;
    Ok(json!({ "UserPoolClient": shapes::client_type(&client, secret.as_deref(), &pool) }))
}

pub(super) async fn update_user_pool_client(app: &Inner, request: &Value) -> ActionResult {
    let req: UpdateUserPoolClientRequest = parse(request)?;
    let (pool, client) = existing_client(app, &req.user_pool_id, &req.client_id).await?;
    // Start from the stored client so cognate's own settings (branding, state relay)
    // survive; every Cognito setting is then set from the request or its default.
    let mut settings = client.settings.clone();
    if let Some(name) = &req.client_name {
        settings.name = name.clone();
    }
    let pool_scopes = resource_servers::pool_scopes(app, &client.pool_id).await?;
    apply_client_config(&req.config, &mut settings, &pool_scopes, &pool)?;
    clients::check_identity_providers(app, &client.pool_id, &settings.supported_identity_providers)
        .await?;
    check_secret_for_flows(&settings, !client.is_public())?;
    let updated = clients::update(app, &client.pool_id, &client.client_id, move |s| {
        *s = settings
    })
    .await
    .map_err(|e| not_found_as(e, || client_not_found(&req.client_id)))?;
    let secret = client_secret(app, &updated).await?;
    Ok(json!({ "UserPoolClient": shapes::client_type(&updated, secret.as_deref(), &pool) }))
}

pub(super) async fn list_user_pool_clients(app: &Inner, request: &Value) -> ActionResult {
    let (pool, page) = LISTING.open(app, request).await?;
    let read = app.store.clients_page(page.at(Some(&pool.pool_id))).await?;
    Ok(page.answer_read(
        "UserPoolClients",
        read,
        |c| &c.client_id,
        shapes::client_description,
    ))
}

pub(super) async fn delete_user_pool_client(app: &Inner, request: &Value) -> ActionResult {
    let req: ClientIdRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    clients::delete(app, &pool.pool_id, &req.client_id)
        .await
        .map_err(|e| not_found_as(e, || client_not_found(&req.client_id)))?;
    Ok(json!({}))
}

/// The client of `pool_id` named `client_id` with its pool, or Cognito's error.
async fn existing_client(
    app: &Inner,
    pool_id: &str,
    client_id: &str,
) -> Result<(Pool, AppClient), CognitoError> {
    let pool = existing_pool(app, pool_id).await?;
    let client = app
        .store
        .client_by_id(&pool.pool_id, client_id)
        .await?
        .ok_or_else(|| client_not_found(client_id))?;
    Ok((pool, client))
}

/// A confidential client's secret, unsealed (the API returns it, as Cognito's does).
async fn client_secret(app: &Inner, client: &AppClient) -> Result<Option<String>, CognitoError> {
    Ok(crate::clients::secret(app, client).await?)
}

fn client_not_found(client_id: &str) -> CognitoError {
    CognitoError::not_found(format!("User pool client {client_id} does not exist."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validities_convert_cognito_units_to_seconds() {
        assert_eq!(validity("A", Some(2), None, "hours", 3600).unwrap(), 7200);
        assert_eq!(
            validity("A", Some(5), Some("minutes"), "hours", 0).unwrap(),
            300
        );
        assert_eq!(validity("R", Some(30), None, "days", 0).unwrap(), 2_592_000);
        assert_eq!(validity("R", None, Some("days"), "days", 42).unwrap(), 42);
        assert!(validity("A", Some(1), Some("weeks"), "hours", 0).is_err());
        assert!(validity("A", Some(-1), None, "hours", 0).is_err());
        assert!(validity("A", Some(i64::MAX), Some("days"), "hours", 0).is_err());
    }
}
