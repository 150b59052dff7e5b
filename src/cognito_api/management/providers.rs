//! `CreateIdentityProvider`, `DescribeIdentityProvider`, `UpdateIdentityProvider`,
//! `ListIdentityProviders` and `DeleteIdentityProvider`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{existing_pool, not_found_as};
use crate::cognito_api::paging::{MAX_PAGE, PoolListing};
use crate::cognito_api::{ActionResult, CognitoError, parse, shapes};
use crate::error::AppError;
use crate::federation::{self, LinkingPolicy, NewProvider, ProviderDetails, ProviderType};
use crate::state::Inner;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateIdentityProviderRequest {
    user_pool_id: String,
    provider_name: String,
    provider_type: String,
    provider_details: BTreeMap<String, String>,
    attribute_mapping: Option<BTreeMap<String, String>>,
    idp_identifiers: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProviderNameRequest {
    user_pool_id: String,
    provider_name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateIdentityProviderRequest {
    user_pool_id: String,
    provider_name: String,
    provider_details: Option<BTreeMap<String, String>>,
    attribute_mapping: Option<BTreeMap<String, String>>,
    idp_identifiers: Option<Vec<String>>,
}

/// `ListIdentityProviders`' pages: `MaxResults` 0 to 60 (0: 60).
const LISTING: PoolListing = PoolListing::new("ListIdentityProviders", "MaxResults", 0, MAX_PAGE);

/// Cognito's `ProviderDetails` as cognate's details and the secret: the client
/// secret, or Sign in with Apple's `private_key` (both sealed, never described).
fn provider_details(
    map: &BTreeMap<String, String>,
) -> Result<(ProviderDetails, Option<String>), CognitoError> {
    let mut d = ProviderDetails::default();
    let mut secret = None;
    for (key, value) in map {
        let v = Some(value.clone());
        match key.as_str() {
            "client_id" => d.client_id = value.clone(),
            "client_secret" | "private_key" => {
                if secret.is_some() {
                    return Err(CognitoError::invalid(
                        "Send client_secret or private_key, not both.",
                    ));
                }
                secret = v.filter(|s| !s.is_empty());
            }
            "team_id" => d.team_id = v,
            "key_id" => d.key_id = v,
            "authorize_scopes" => d.authorize_scopes = value.clone(),
            "authorize_url" => d.authorize_url = v,
            "token_url" => d.token_url = v,
            "attributes_url" => d.attributes_url = v,
            "oidc_issuer" => d.oidc_issuer = v,
            "jwks_uri" => d.jwks_uri = v,
            // Cognito keys without effect here: the userinfo request method, the
            // Graph API version, and a flag Cognito sets itself (so a described
            // provider can be sent back as it is).
            "attributes_request_method" | "api_version" | "attributes_url_add_attributes" => {}
            other => {
                return Err(CognitoError::invalid(format!(
                    "ProviderDetails key {other:?} is not supported."
                )));
            }
        }
    }
    Ok((d, secret))
}

/// Cognito's limits on `IdpIdentifiers`: at most 50, each 1 to 40 characters.
fn check_identifiers(identifiers: &[String]) -> Result<(), CognitoError> {
    if identifiers.len() > 50
        || identifiers
            .iter()
            .any(|i| i.is_empty() || i.chars().count() > 40)
    {
        return Err(CognitoError::invalid(
            "IdpIdentifiers must be at most 50 names of 1 to 40 characters.",
        ));
    }
    Ok(())
}

pub(super) async fn create_identity_provider(app: &Inner, request: &Value) -> ActionResult {
    let req: CreateIdentityProviderRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    let provider_type = ProviderType::parse(&req.provider_type).ok_or_else(|| {
        CognitoError::invalid(format!(
            "ProviderType {:?} is not supported; use Google, Facebook, LoginWithAmazon, \
             SignInWithApple or OIDC.",
            req.provider_type
        ))
    })?;
    let (details, client_secret) = provider_details(&req.provider_details)?;
    let idp_identifiers = req.idp_identifiers.unwrap_or_default();
    check_identifiers(&idp_identifiers)?;
    let new = NewProvider {
        provider_name: req.provider_name.clone(),
        provider_type,
        details,
        client_secret,
        attribute_mapping: req.attribute_mapping.unwrap_or_default(),
        linking_policy: LinkingPolicy::default(),
        idp_identifiers,
    };
    let idp = federation::create_provider(app, &pool.pool_id, new)
        .await
        .map_err(|e| match e {
            AppError::Conflict(_) => CognitoError::new(
                "DuplicateProviderException",
                format!(
                    "A provider with the name {} already exists in this user pool.",
                    req.provider_name
                ),
            ),
            other => other.into(),
        })?;
    Ok(json!({ "IdentityProvider": shapes::provider_type(&idp) }))
}

pub(super) async fn describe_identity_provider(app: &Inner, request: &Value) -> ActionResult {
    let req: ProviderNameRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    let (idp, _sealed) = app
        .store
        .identity_provider(&pool.pool_id, &req.provider_name)
        .await?
        .ok_or_else(|| provider_not_found(&req.provider_name))?;
    Ok(json!({ "IdentityProvider": shapes::provider_type(&idp) }))
}

pub(super) async fn update_identity_provider(app: &Inner, request: &Value) -> ActionResult {
    let req: UpdateIdentityProviderRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    let details = req
        .provider_details
        .as_ref()
        .map(provider_details)
        .transpose()?;
    if let Some(identifiers) = &req.idp_identifiers {
        check_identifiers(identifiers)?;
    }
    let (mapping, identifiers) = (req.attribute_mapping, req.idp_identifiers);
    let idp = federation::update_provider(app, &pool.pool_id, &req.provider_name, move |p| {
        if let Some((details, secret)) = details {
            p.details = details;
            // Describe never shows the secret (nor Apple's private key), so sending
            // details back keeps it.
            if secret.is_some() {
                p.client_secret = secret;
            }
        }
        if let Some(mapping) = mapping {
            p.attribute_mapping = mapping;
        }
        if let Some(identifiers) = identifiers {
            p.idp_identifiers = identifiers;
        }
    })
    .await
    .map_err(|e| not_found_as(e, || provider_not_found(&req.provider_name)))?;
    Ok(json!({ "IdentityProvider": shapes::provider_type(&idp) }))
}

pub(super) async fn list_identity_providers(app: &Inner, request: &Value) -> ActionResult {
    let (pool, page) = LISTING.open(app, request).await?;
    let read = app
        .store
        .identity_providers_page(page.at(Some(&pool.pool_id)))
        .await?;
    Ok(page.answer_read(
        "Providers",
        read,
        |p| &p.provider_name,
        shapes::provider_description,
    ))
}

pub(super) async fn delete_identity_provider(app: &Inner, request: &Value) -> ActionResult {
    let req: ProviderNameRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    federation::delete_provider(app, &pool.pool_id, &req.provider_name)
        .await
        .map_err(|e| not_found_as(e, || provider_not_found(&req.provider_name)))?;
    Ok(json!({}))
}

fn provider_not_found(name: &str) -> CognitoError {
    CognitoError::not_found(format!("Identity provider {name} does not exist."))
}
