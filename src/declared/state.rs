//! A pool as it is now, in the file's shapes: what `plan` compares a file with and
//! what `export` writes. Secrets are read in clear here ([`Stored`]); only `export`
//! decides how they leave.

use std::collections::BTreeMap;

use super::format::{
    AttributeDecl, ClientDecl, ExternalUserDecl, GroupDecl, PoolDecl, ProviderDecl,
    ResourceServerDecl, UiDecl, UserDecl,
};
use crate::error::AppError;
use crate::model::users::UserStatus;
use crate::services::Services;

/// A pool's objects as stored, with each secret in clear beside its object (the
/// default: a pool about to be made, nothing in it yet).
#[derive(Default)]
pub struct Stored {
    pub decl: PoolDecl,
    /// Client id → its secret (`None`: a public client).
    pub client_secrets: BTreeMap<String, Option<String>>,
    /// Provider name → its client secret.
    pub provider_secrets: BTreeMap<String, Option<String>>,
    /// Username → the stored password hash.
    pub password_hashes: BTreeMap<String, String>,
    /// What the last `apply` declared: `(kind, key)`.
    pub declared: Vec<(String, String)>,
}

/// Reads a pool whole; `None` if there is no such pool.
pub async fn read(app: &Services, pool_id: &str) -> Result<Option<Stored>, AppError> {
    let Some(pool) = app.store.pool_by_id(pool_id).await? else {
        return Ok(None);
    };
    let mut settings = pool.settings.clone();
    settings.trigger_secret = None;
    settings.previous_trigger_secret = None;
    settings.trigger_secret_rotated_at = None;
    let schema = app
        .store
        .schema(pool_id)
        .await?
        .attributes()
        .map(AttributeDecl::from)
        .collect();

    let mut provider_secrets = BTreeMap::new();
    let mut identity_providers = Vec::new();
    for p in app.store.identity_providers(pool_id).await? {
        let p = crate::federation::provider(app, pool_id, &p.provider_name)
            .await?
            .unwrap_or(p);
        provider_secrets.insert(p.provider_name.clone(), p.client_secret.clone());
        identity_providers.push(ProviderDecl {
            name: p.provider_name,
            provider_type: p.provider_type,
            details: p.details,
            client_secret: None,
            attribute_mapping: p.attribute_mapping,
            linking_policy: p.linking_policy,
            idp_identifiers: p.idp_identifiers,
        });
    }

    // The groups cognate makes for each provider's users are its own, not declared.
    let automatic: Vec<String> = identity_providers
        .iter()
        .map(|p| crate::federation::provider_group(pool_id, &p.name))
        .collect();
    let resource_servers = app
        .store
        .resource_servers(pool_id)
        .await?
        .into_iter()
        .map(|s| ResourceServerDecl {
            identifier: s.identifier,
            name: s.name,
            scopes: s.scopes,
        })
        .collect();
    let groups = app
        .store
        .groups(pool_id)
        .await?
        .into_iter()
        .filter(|g| !automatic.contains(&g.group_name))
        .map(|g| GroupDecl {
            name: g.group_name,
            description: g.description,
            precedence: g.precedence,
            role_arn: g.role_arn,
        })
        .collect();

    let mut client_secrets = BTreeMap::new();
    let mut clients = Vec::new();
    for c in app.store.clients(pool_id).await? {
        let secret = crate::clients::secret(app, &c).await?;
        client_secrets.insert(c.client_id.clone(), secret);
        clients.push(ClientDecl {
            ui_customization: ui(app, pool_id, &c.client_id).await?,
            id: Some(c.client_id),
            secret: String::new(),
            settings: c.settings,
        });
    }

    let mut users = Vec::new();
    let mut external_users = Vec::new();
    let mut password_hashes = BTreeMap::new();
    for user in app.store.users(pool_id).await? {
        let groups = app
            .store
            .groups_of_user(&user.user_id)
            .await?
            .into_iter()
            .map(|g| g.group_name)
            .filter(|g| !automatic.contains(g))
            .collect();
        if user.status == UserStatus::ExternalProvider {
            let identities = app.store.identities_of_user(&user.user_id).await?;
            if let Some(identity) = identities.first() {
                external_users.push(ExternalUserDecl {
                    provider: identity.provider_name.clone(),
                    subject: Some(identity.provider_subject.clone()),
                    email: None,
                    sub: Some(user.user_id.clone()),
                    attributes: user.attributes.clone(),
                    groups,
                });
                continue;
            }
        }
        if let Some(hash) = &user.password_hash {
            password_hashes.insert(user.username.clone(), hash.clone());
        }
        users.push(UserDecl {
            username: user.username,
            sub: Some(user.user_id),
            status: Some(user.status.as_str().to_string()),
            enabled: user.enabled,
            attributes: user.attributes,
            password_hash: None,
            groups,
        });
    }
    for p in app.store.preregistrations(pool_id).await? {
        let (subject, email) = match p.match_kind.as_str() {
            "email" => (None, Some(p.match_value)),
            _ => (Some(p.match_value), None),
        };
        external_users.push(ExternalUserDecl {
            provider: p.provider_name,
            subject,
            email,
            sub: None,
            attributes: p.attributes,
            groups: p.groups,
        });
    }

    Ok(Some(Stored {
        decl: PoolDecl {
            id: Some(pool.pool_id.clone()),
            name: pool.name,
            region: None,
            settings,
            schema,
            identity_providers,
            resource_servers,
            groups,
            clients,
            users,
            external_users,
            ui_customization: ui(app, pool_id, crate::pool::ui::ALL).await?,
        },
        client_secrets,
        provider_secrets,
        password_hashes,
        declared: app.store.declared_objects(pool_id).await?,
    }))
}

/// The stylesheet and logo set for exactly `client_id` (`ALL` or a client).
async fn ui(app: &Services, pool_id: &str, client_id: &str) -> Result<Option<UiDecl>, AppError> {
    use base64::Engine;
    let Some(set) = app.store.ui_customization(pool_id, client_id).await? else {
        return Ok(None);
    };
    let logo = app
        .store
        .ui_image(pool_id, client_id)
        .await?
        .map(|(bytes, _)| base64::engine::general_purpose::STANDARD.encode(bytes));
    Ok(Some(UiDecl { css: set.css, logo }))
}
