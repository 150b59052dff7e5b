//! The `client_credentials` grant (RFC 6749 §4.4): a confidential client enabled for it
//! gets an access token for the custom scopes it asks for (or all it is allowed), as
//! itself; never an ID or refresh token.

use crate::clients::{AppClient, FLOW_CLIENT_CREDENTIALS};
use crate::error::AppError;
use crate::resource_servers;
use crate::services::Services;
use crate::tokens::issue::{TokenSet, issue_for_client};
use crate::tokens::split_scopes;

/// Why no token was issued. `/oauth2/token` words these as RFC 6749 §5.2 errors.
#[derive(Debug, thiserror::Error)]
pub enum GrantRefusal {
    #[error("the client is not allowed the client_credentials grant")]
    NotAllowed,
    #[error("{0}")]
    Scope(String),
    #[error(transparent)]
    Internal(#[from] AppError),
}

/// Issues `client` an access token for the `requested` scopes (space-separated), or
/// for every custom scope it is allowed.
pub async fn grant(
    app: &Services,
    client: &AppClient,
    requested: Option<&str>,
) -> Result<TokenSet, GrantRefusal> {
    if client.is_public() || !client.allows_flow(FLOW_CLIENT_CREDENTIALS) {
        return Err(GrantRefusal::NotAllowed);
    }
    // Scopes whose resource server was deleted or changed no longer count.
    let defined = resource_servers::pool_scopes(app, &client.pool_id).await?;
    let allowed: Vec<&String> = client
        .allowed_scopes
        .iter()
        .filter(|s| defined.contains(s))
        .collect();
    let scopes: Vec<String> = match requested {
        None => allowed.into_iter().cloned().collect(),
        Some(requested) => {
            let requested = split_scopes(requested);
            if let Some(bad) = requested.iter().find(|s| !allowed.contains(s)) {
                return Err(GrantRefusal::Scope(format!(
                    "scope {bad} is not allowed for client_credentials"
                )));
            }
            requested
        }
    };
    if scopes.is_empty() {
        return Err(GrantRefusal::Scope(
            "the client has no custom scope to grant".into(),
        ));
    }
    // TokenGeneration_ClientCredentials, with the pool's V3_0 pre token generation.
    let settings = crate::triggers::settings_of(app, &client.pool_id)
        .await
        .map_err(AppError::from)?;
    let claims_override = match settings {
        Some(settings) => crate::triggers::events::pre_token_client_credentials(
            app,
            &settings,
            &client.pool_id,
            &client.client_id,
            &scopes,
            None,
        )
        .await
        .map_err(AppError::from)?,
        None => None,
    };
    let tokens = issue_for_client(app, client, &scopes, claims_override.as_ref()).await?;
    super::record_issued(app, client, None, crate::events::Grant::ClientCredentials);
    Ok(tokens)
}
