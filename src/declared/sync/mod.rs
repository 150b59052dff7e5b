//! One walk over a pool's declaration and its stored state that both `plan` (which
//! only records what would change) and `apply` (which also changes it) take, so the
//! two can never disagree about what a file means.

use std::collections::BTreeSet;

use anyhow::Context;
use serde_json::{Value, json};

mod people;

use super::format::{ClientDecl, ProviderDecl, UiDecl};
use super::state::Stored;
use super::{Desired, NewClientSecret};
use crate::model::users::username_key;
use crate::services::Services;

/// What happens to one object.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    /// The fields that change (`callback_urls`, `settings.password_policy.minimum_length`).
    Update(Vec<String>),
    Delete,
}

/// One change `plan` shows and `apply` makes.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Change {
    /// `client web`, `user alice`.
    pub object: String,
    pub action: Action,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.action {
            Action::Create => write!(f, "  + {}", self.object),
            Action::Delete => write!(f, "  - {}", self.object),
            Action::Update(fields) => write!(f, "  ~ {}: {}", self.object, fields.join(", ")),
        }
    }
}

/// The kinds of object a file declares, in the order `--prune` deletes them: users
/// before the groups, clients and providers they may refer to.
const KINDS: [&str; 6] = [
    "user",
    "external_user",
    "client",
    "group",
    "resource_server",
    "identity_provider",
];

/// A walk over one pool.
struct Walk<'a> {
    app: &'a Services,
    execute: bool,
    pool_id: String,
    changes: Vec<Change>,
    /// `(kind, key)` of every object the file declares, for `--prune` next time.
    declared: Vec<(&'static str, String)>,
}

impl Walk<'_> {
    fn record(&mut self, object: String, action: Action) {
        self.changes.push(Change { object, action });
    }
}

/// Brings the pool `desired` declares to it (or, with `execute` false, only says how),
/// returning the pool's id and the changes. With `prune`, objects an earlier `apply`
/// declared and this file no longer does are deleted.
pub async fn pool(
    app: &Services,
    desired: &Desired,
    stored: Option<&Stored>,
    prune: bool,
    execute: bool,
) -> anyhow::Result<(String, Vec<Change>)> {
    let decl = &desired.decl;
    let mut walk = Walk {
        app,
        execute,
        pool_id: String::new(),
        changes: Vec::new(),
        declared: Vec::new(),
    };
    match stored {
        None => {
            walk.pool_id = match &decl.id {
                Some(id) => id.clone(),
                None if execute => {
                    crate::pool::new_pool_id(decl.region.as_deref().unwrap_or("us-east-1"))
                }
                None => "a new id".into(),
            };
            walk.record(format!("pool {}", decl.name), Action::Create);
            if execute {
                let schema: Vec<_> = decl.schema.iter().map(Into::into).collect();
                crate::pool::create_with_id(
                    app,
                    &walk.pool_id,
                    &decl.name,
                    decl.settings.clone(),
                    &schema,
                )
                .await
                .context("pool")?;
            }
        }
        Some(stored) => {
            walk.pool_id = stored.decl.id.clone().unwrap_or_default();
            pool_settings(&mut walk, desired, stored).await?;
        }
    }
    let empty = Stored::default();
    let stored = stored.unwrap_or(&empty);

    for (i, p) in decl.identity_providers.iter().enumerate() {
        provider(&mut walk, p, &desired.provider_secrets[i], stored).await?;
    }
    for s in &decl.resource_servers {
        walk.declared
            .push(("resource_server", s.identifier.clone()));
        let object = format!("resource server {}", s.identifier);
        let current = stored
            .decl
            .resource_servers
            .iter()
            .find(|c| c.identifier == s.identifier);
        let Some(action) = action(current, s) else {
            continue;
        };
        let creating = action == Action::Create;
        walk.record(object.clone(), action);
        if execute {
            let (id, name, scopes) = (&s.identifier, &s.name, s.scopes.clone());
            let done = if creating {
                crate::resource_servers::create(app, &walk.pool_id, id, name, scopes).await
            } else {
                crate::resource_servers::update(app, &walk.pool_id, id, name, scopes).await
            };
            done.context(object)?;
        }
    }
    for g in &decl.groups {
        walk.declared.push(("group", g.name.clone()));
        let object = format!("group {}", g.name);
        let current = stored.decl.groups.iter().find(|c| c.name == g.name);
        let Some(action) = action(current, g) else {
            continue;
        };
        let creating = action == Action::Create;
        walk.record(object.clone(), action);
        if !execute {
            continue;
        }
        let (description, role) = (g.description.as_deref(), g.role_arn.as_deref());
        let done = if creating {
            crate::groups::create_with_role(
                app,
                &walk.pool_id,
                &g.name,
                description,
                g.precedence,
                role,
            )
            .await
        } else {
            crate::groups::update(app, &walk.pool_id, &g.name, |group| {
                group.description = g.description.clone();
                group.precedence = g.precedence;
                group.role_arn = g.role_arn.clone();
            })
            .await
        };
        done.context(object)?;
    }
    ui(
        &mut walk,
        crate::pool::ui::ALL,
        "hosted pages' look".into(),
        &decl.ui_customization,
        &stored.decl.ui_customization,
    )
    .await?;
    for (i, c) in decl.clients.iter().enumerate() {
        client(&mut walk, c, &desired.client_secrets[i], stored).await?;
    }
    for (i, u) in decl.users.iter().enumerate() {
        people::user(&mut walk, u, desired.password_hashes[i].as_deref(), stored).await?;
    }
    for e in &decl.external_users {
        people::external_user(&mut walk, e, stored).await?;
    }
    if prune {
        prune_undeclared(&mut walk, stored).await?;
    } else {
        // Still the file's until a pruning apply deletes them.
        for (kind, key) in &stored.declared {
            if let Some(kind) = KINDS.iter().find(|k| *k == kind)
                && !walk.declared.iter().any(|(k, v)| k == kind && v == key)
            {
                walk.declared.push((kind, key.clone()));
            }
        }
    }
    if execute {
        app.store
            .set_declared_objects(&walk.pool_id, &walk.declared)
            .await?;
    }
    Ok((walk.pool_id, walk.changes))
}

async fn pool_settings(
    walk: &mut Walk<'_>,
    desired: &Desired,
    stored: &Stored,
) -> anyhow::Result<()> {
    let decl = &desired.decl;
    let fields = diff(
        &json!({"name": stored.decl.name, "settings": stored.decl.settings}),
        &json!({"name": decl.name, "settings": decl.settings}),
    );
    if !fields.is_empty() {
        walk.record("pool".into(), Action::Update(fields));
        if walk.execute {
            crate::pool::update_named(walk.app, &walk.pool_id, Some(&decl.name), |s| {
                let mut new = decl.settings.clone();
                new.trigger_secret = s.trigger_secret.take();
                new.previous_trigger_secret = s.previous_trigger_secret.take();
                new.trigger_secret_rotated_at = s.trigger_secret_rotated_at;
                *s = new;
            })
            .await
            .context("pool settings")?;
        }
    }
    let mut added = Vec::new();
    for a in &decl.schema {
        match stored.decl.schema.iter().find(|c| c.name == a.name) {
            None => added.push(a.into()),
            Some(c) if c != a => anyhow::bail!(
                "attribute {}: a declared attribute cannot change (Cognito's rule too)",
                a.name
            ),
            Some(_) => {}
        }
    }
    if !added.is_empty() {
        let names: Vec<_> = decl
            .schema
            .iter()
            .filter(|a| !stored.decl.schema.iter().any(|c| c.name == a.name))
            .map(|a| a.name.clone())
            .collect();
        walk.record(format!("schema {}", names.join(", ")), Action::Create);
        if walk.execute {
            crate::pool::add_custom_attributes(walk.app, &walk.pool_id, &added)
                .await
                .context("schema")?;
        }
    }
    Ok(())
}

async fn provider(
    walk: &mut Walk<'_>,
    p: &ProviderDecl,
    secret: &Option<String>,
    stored: &Stored,
) -> anyhow::Result<()> {
    walk.declared.push(("identity_provider", p.name.clone()));
    let object = format!("identity provider {}", p.name);
    let mut wanted = p.clone();
    // The secret is compared in clear below, not as its reference.
    wanted.client_secret = None;
    if wanted.attribute_mapping.is_empty() {
        wanted.attribute_mapping = wanted.provider_type.default_mapping();
    }
    let action = match stored
        .decl
        .identity_providers
        .iter()
        .find(|c| c.name == p.name)
    {
        None => Some(Action::Create),
        Some(c) => {
            let mut fields = diff(&json!(c), &json!(wanted));
            if stored.provider_secrets.get(&p.name).cloned().flatten() != *secret {
                fields.push("client_secret".into());
            }
            (!fields.is_empty()).then_some(Action::Update(fields))
        }
    };
    let Some(action) = action else {
        return Ok(());
    };
    walk.record(object.clone(), action);
    if walk.execute {
        let new = wanted.to_new(secret.clone());
        crate::federation::put_provider(walk.app, &walk.pool_id, new)
            .await
            .context(object)?;
    }
    Ok(())
}

async fn client(
    walk: &mut Walk<'_>,
    c: &ClientDecl,
    secret: &NewClientSecret,
    stored: &Stored,
) -> anyhow::Result<()> {
    let app = walk.app;
    let object = format!("client {}", c.settings.name);
    let current = stored.decl.clients.iter().find(|s| match &c.id {
        Some(id) => s.id.as_ref() == Some(id),
        None => s.settings.name == c.settings.name,
    });
    if walk.execute {
        crate::clients::check_identity_providers(
            app,
            &walk.pool_id,
            &c.settings.supported_identity_providers,
        )
        .await
        .context(object.clone())?;
    }
    let Some(current) = current else {
        walk.record(object.clone(), Action::Create);
        let id = if walk.execute {
            let (made, _) = match &c.id {
                Some(id) => {
                    crate::clients::create_with_id(
                        app,
                        &walk.pool_id,
                        id,
                        &c.settings,
                        secret.as_new(),
                    )
                    .await
                }
                None => {
                    crate::clients::create(app, &walk.pool_id, &c.settings, secret.as_new()).await
                }
            }
            .context(object)?;
            made.client_id
        } else {
            c.id.clone().unwrap_or_default()
        };
        let look = format!("hosted pages' look of client {}", c.settings.name);
        ui(walk, &id, look, &c.ui_customization, &None).await?;
        walk.declared.push(("client", id));
        return Ok(());
    };
    let client_id = current.id.clone().unwrap_or_default();
    walk.declared.push(("client", client_id.clone()));
    let look = format!("hosted pages' look of client {}", c.settings.name);
    ui(
        walk,
        &client_id,
        look,
        &c.ui_customization,
        &current.ui_customization,
    )
    .await?;
    let mut fields = diff(&json!(current.settings), &json!(c.settings));
    let had = stored.client_secrets.get(&client_id).cloned().flatten();
    let secret_changes = match (secret, &had) {
        (NewClientSecret::None, None) | (NewClientSecret::Generate, Some(_)) => false,
        (NewClientSecret::Chosen(s), Some(h)) => s != h,
        _ => true,
    };
    if secret_changes {
        fields.push("secret".into());
    }
    if fields.is_empty() {
        return Ok(());
    }
    walk.record(object.clone(), Action::Update(fields));
    if walk.execute {
        crate::clients::update(app, &walk.pool_id, &client_id, |s| *s = c.settings.clone())
            .await
            .context(object.clone())?;
        if secret_changes {
            crate::clients::set_secret(app, &walk.pool_id, &client_id, secret.as_new())
                .await
                .context(object)?;
        }
    }
    Ok(())
}

/// Sets (or resets) the stylesheet and logo of `target` (`ALL` or a client id).
async fn ui(
    walk: &mut Walk<'_>,
    target: &str,
    object: String,
    wanted: &Option<UiDecl>,
    current: &Option<UiDecl>,
) -> anyhow::Result<()> {
    use base64::Engine;
    if wanted == current {
        return Ok(());
    }
    let action = match (current, wanted) {
        (None, _) => Action::Create,
        (_, None) => Action::Delete,
        (Some(c), Some(w)) => Action::Update(diff(&json!(c), &json!(w))),
    };
    walk.record(object.clone(), action);
    if walk.execute {
        let wanted = wanted.clone().unwrap_or_default();
        let logo = match &wanted.logo {
            Some(b64) => Some(
                base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .context("logo is not base64")?,
            ),
            None => None,
        };
        crate::pool::ui::set(
            walk.app,
            &walk.pool_id,
            target,
            wanted.css.as_deref(),
            logo.as_deref(),
        )
        .await
        .context(object)?;
    }
    Ok(())
}

/// Deletes what the last `apply` declared and this file does not.
async fn prune_undeclared(walk: &mut Walk<'_>, stored: &Stored) -> anyhow::Result<()> {
    let now: BTreeSet<(&str, &str)> = walk
        .declared
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    let gone: Vec<(String, String)> = stored
        .declared
        .iter()
        .filter(|(k, v)| !now.contains(&(k.as_str(), v.as_str())))
        .cloned()
        .collect();
    let app = walk.app;
    for kind in KINDS {
        for (_, key) in gone.iter().filter(|(k, _)| k == kind) {
            let object = format!("{} {key}", kind.replace('_', " "));
            let exists = match kind {
                "user" => stored
                    .decl
                    .users
                    .iter()
                    .any(|u| username_key(&u.username) == *key),
                "external_user" => people::external_of_key(stored, key).is_some(),
                "client" => stored
                    .decl
                    .clients
                    .iter()
                    .any(|c| c.id.as_deref() == Some(key)),
                "group" => stored.decl.groups.iter().any(|g| g.name == *key),
                "resource_server" => stored
                    .decl
                    .resource_servers
                    .iter()
                    .any(|s| s.identifier == *key),
                _ => stored
                    .decl
                    .identity_providers
                    .iter()
                    .any(|p| p.name == *key),
            };
            if !exists {
                continue;
            }
            walk.record(object.clone(), Action::Delete);
            if !walk.execute {
                continue;
            }
            let pool_id = walk.pool_id.as_str();
            match kind {
                "user" => {
                    let pool = app.store.pool_by_id(pool_id).await?.context("pool")?;
                    crate::users::admin::delete_user(app, &pool, key)
                        .await
                        .context(object)?;
                }
                "external_user" => {
                    let Some(found) = people::external_of_key(stored, key) else {
                        continue;
                    };
                    let subject = found.subject.clone().unwrap_or_default();
                    match found.matching() {
                        Some((kind, value)) if found.sub.is_none() => {
                            app.store
                                .delete_preregistration(pool_id, &found.provider, kind, &value)
                                .await?;
                        }
                        _ => {
                            let pool = app.store.pool_by_id(pool_id).await?.context("pool")?;
                            let username =
                                crate::users::external_username(&found.provider, &subject);
                            crate::users::admin::delete_user(app, &pool, &username)
                                .await
                                .context(object)?;
                        }
                    }
                }
                "client" => crate::clients::delete(app, pool_id, key)
                    .await
                    .context(object)?,
                "group" => crate::groups::delete(app, pool_id, key)
                    .await
                    .context(object)?,
                "resource_server" => crate::resource_servers::delete(app, pool_id, key)
                    .await
                    .context(object)?,
                _ => crate::federation::delete_provider(app, pool_id, key)
                    .await
                    .context(object)?,
            }
        }
    }
    Ok(())
}

/// What to do with an object declared as `wanted` and stored as `current`, if anything.
fn action<T: PartialEq + serde::Serialize>(current: Option<&T>, wanted: &T) -> Option<Action> {
    match current {
        None => Some(Action::Create),
        Some(c) if c != wanted => Some(Action::Update(diff(&json!(c), &json!(wanted)))),
        Some(_) => None,
    }
}

/// The dotted paths at which `a` and `b` differ (lists compared whole).
pub fn diff(a: &Value, b: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk_diff(a, b, "", &mut out);
    out
}

fn walk_diff(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for key in keys {
                let at = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                walk_diff(
                    x.get(key).unwrap_or(&Value::Null),
                    y.get(key).unwrap_or(&Value::Null),
                    &at,
                    out,
                );
            }
        }
        _ if a != b => out.push(path.to_string()),
        _ => {}
    }
}
