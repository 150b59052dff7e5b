//! Config as code: `cognate plan`, `cognate apply` and `cognate export` over a file
//! that declares pools with their clients, identity providers, resource servers,
//! groups, users and external users (`docs/config-as-code.md`).
//!
//! A file is checked whole before anything is read from the database (every problem
//! reported with its path), then each pool is brought to its declaration in one
//! transaction ([`crate::store::Store::begin`]): a failure anywhere leaves the pool as
//! it was. `plan` walks the same code without writing ([`sync`]).

pub mod format;
pub mod from_cognito;
mod state;
mod sync;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

pub use format::{Document, Problem, Problems};
pub use sync::{Action, Change};

use crate::model::clients::ClientSettings;
use crate::model::pool::PoolSettings;
use crate::services::Services;
use format::{PoolDecl, resolve_secret};
use state::Stored;

/// A pool's declaration with its secrets resolved, in the order of its lists.
pub struct Desired {
    pub decl: PoolDecl,
    /// By client, in order.
    client_secrets: Vec<NewClientSecret>,
    /// By identity provider, in order.
    provider_secrets: Vec<Option<String>>,
    /// By user, in order.
    password_hashes: Vec<Option<String>>,
}

/// What a declared client's `secret` asks for.
#[derive(Clone, Debug)]
enum NewClientSecret {
    None,
    Generate,
    Chosen(String),
}

impl NewClientSecret {
    fn as_new(&self) -> crate::clients::NewSecret<'_> {
        match self {
            NewClientSecret::None => crate::clients::NewSecret::None,
            NewClientSecret::Generate => crate::clients::NewSecret::Generate,
            NewClientSecret::Chosen(s) => crate::clients::NewSecret::Chosen(s),
        }
    }
}

/// What `plan` or `apply` did to one pool.
#[derive(Debug, serde::Serialize)]
pub struct PoolChanges {
    pub pool_id: String,
    pub name: String,
    pub changes: Vec<Change>,
}

/// Reads and checks a file: the document with its secrets resolved, or every problem.
pub fn load(path: &Path) -> Result<Vec<Desired>, Problems> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        let mut p = Problems::default();
        p.add("", format!("cannot read {}: {e}", path.display()));
        p
    })?;
    let (document, problems) = format::parse(&text)?;
    check(document, &format::base_of(path), problems)
}

/// Checks everything a file says that can be checked without the database, and
/// resolves its secret references (relative to `base`).
fn check(
    document: Document,
    base: &Path,
    mut problems: Problems,
) -> Result<Vec<Desired>, Problems> {
    for twice in format::duplicates(document.pools.iter().filter_map(|p| p.id.as_deref())) {
        problems.add("pools", format!("pool id {twice} is declared twice"));
    }
    for twice in format::duplicates(document.pools.iter().map(|p| p.name.as_str())) {
        problems.add("pools", format!("pool name {twice} is declared twice"));
    }
    let mut out = Vec::new();
    for (i, decl) in document.pools.into_iter().enumerate() {
        out.push(check_pool(
            decl,
            &format!("pools[{i}]"),
            base,
            &mut problems,
        ));
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

fn check_pool(decl: PoolDecl, at: &str, base: &Path, problems: &mut Problems) -> Desired {
    let mut bad = |path: String, reason: String| problems.add(path, reason);
    if let Some(id) = &decl.id
        && !crate::pool::is_pool_id(id)
    {
        bad(
            format!("{at}.id"),
            format!("{id:?} is not a user pool id (<region>_<9 letters or digits>)"),
        );
    }
    if let Err(e) = crate::pool::validate_name(&decl.name) {
        bad(format!("{at}.name"), e);
    }
    if let Err(e) = decl.settings.validate() {
        bad(format!("{at}.settings"), e);
    }
    for a in &decl.schema {
        if !a.name.starts_with("custom:") {
            bad(
                format!("{at}.schema"),
                format!("{} is not a custom attribute (custom:<name>)", a.name),
            );
        }
    }
    let lists: [(&str, Vec<&str>); 6] = [
        (
            "schema",
            decl.schema.iter().map(|a| a.name.as_str()).collect(),
        ),
        (
            "identity_providers",
            decl.identity_providers
                .iter()
                .map(|p| p.name.as_str())
                .collect(),
        ),
        (
            "resource_servers",
            decl.resource_servers
                .iter()
                .map(|s| s.identifier.as_str())
                .collect(),
        ),
        (
            "groups",
            decl.groups.iter().map(|g| g.name.as_str()).collect(),
        ),
        (
            "clients",
            decl.clients
                .iter()
                .map(|c| c.settings.name.as_str())
                .collect(),
        ),
        (
            "users",
            decl.users.iter().map(|u| u.username.as_str()).collect(),
        ),
    ];
    for (list, names) in lists {
        for twice in format::duplicates(names.into_iter()) {
            bad(format!("{at}.{list}"), format!("{twice} is declared twice"));
        }
    }
    let keys: Vec<String> = decl.external_users.iter().map(|e| e.key()).collect();
    for twice in format::duplicates(keys.iter().map(String::as_str)) {
        bad(
            format!("{at}.external_users"),
            format!("{twice} is declared twice"),
        );
    }
    let providers: BTreeSet<&str> = decl
        .identity_providers
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    let groups: BTreeSet<&str> = decl.groups.iter().map(|g| g.name.as_str()).collect();
    let check_groups = |path: String, listed: &[String], bad: &mut dyn FnMut(String, String)| {
        for g in listed.iter().filter(|g| !groups.contains(g.as_str())) {
            bad(
                path.clone(),
                format!("group {g} is not declared in this pool"),
            );
        }
    };

    let mut provider_secrets = Vec::new();
    for (j, p) in decl.identity_providers.iter().enumerate() {
        let path = format!("{at}.identity_providers[{j}]");
        if let Err(e) = p.to_new(None).validate() {
            bad(path.clone(), e);
        }
        provider_secrets.push(p.client_secret.as_deref().and_then(|r| {
            resolve_secret(r, base)
                .map_err(|e| bad(format!("{path}.client_secret"), e))
                .ok()
        }));
    }
    for (j, s) in decl.resource_servers.iter().enumerate() {
        if let Err(e) = crate::resource_servers::validate(&s.identifier, &s.name, &s.scopes) {
            bad(format!("{at}.resource_servers[{j}]"), e);
        }
    }
    for (j, g) in decl.groups.iter().enumerate() {
        let group = crate::model::groups::Group {
            pool_id: String::new(),
            group_name: g.name.clone(),
            description: g.description.clone(),
            precedence: g.precedence,
            role_arn: g.role_arn.clone(),
            created_at: 0,
            updated_at: 0,
        };
        let checked = crate::groups::validate_name(&g.name)
            .and_then(|()| crate::groups::validate_details(&group));
        if let Err(e) = checked {
            bad(format!("{at}.groups[{j}]"), e);
        }
    }
    let mut client_secrets = Vec::new();
    for (j, c) in decl.clients.iter().enumerate() {
        let path = format!("{at}.clients[{j}]");
        check_client(&c.settings, &providers, &path, &mut bad);
        if let Some(id) = &c.id
            && !crate::clients::is_client_id(id)
        {
            bad(
                format!("{path}.id"),
                format!("{id:?} is not a client id (1 to 128 letters, digits, '_' or '+')"),
            );
        }
        client_secrets.push(match c.secret.as_str() {
            "none" => NewClientSecret::None,
            "generate" => NewClientSecret::Generate,
            reference => match resolve_secret(reference, base) {
                Ok(secret) => {
                    if let Err(e) = crate::clients::validate_custom_secret(&secret) {
                        bad(format!("{path}.secret"), e);
                    }
                    NewClientSecret::Chosen(secret)
                }
                Err(e) => {
                    bad(format!("{path}.secret"), format!("none, generate, or {e}"));
                    NewClientSecret::None
                }
            },
        });
    }
    let mut password_hashes = Vec::new();
    for (j, u) in decl.users.iter().enumerate() {
        let path = format!("{at}.users[{j}]");
        if let Err(e) = crate::users::validate_username(&u.username) {
            bad(format!("{path}.username"), e);
        }
        check_attributes(&u.attributes, &path, &mut bad);
        if let Some(status) = &u.status {
            match crate::users::UserStatus::parse(status) {
                Some(crate::users::UserStatus::ExternalProvider) | None => bad(
                    format!("{path}.status"),
                    format!(
                        "{status:?}: CONFIRMED, RESET_REQUIRED, FORCE_CHANGE_PASSWORD or UNCONFIRMED"
                    ),
                ),
                Some(_) => {}
            }
        }
        check_sub(u.sub.as_deref(), &path, &mut bad);
        check_groups(format!("{path}.groups"), &u.groups, &mut bad);
        let hash = match u.password_hash.as_deref() {
            Some(r) if format::is_reference(r) => resolve_secret(r, base)
                .map_err(|e| bad(format!("{path}.password_hash"), e))
                .ok(),
            other => other.map(str::to_string),
        };
        let hash = hash.and_then(|h| {
            crate::users::password::check_imported(&h)
                .map_err(|e| bad(format!("{path}.password_hash"), e))
                .ok()
        });
        password_hashes.push(hash);
    }
    for (j, e) in decl.external_users.iter().enumerate() {
        let path = format!("{at}.external_users[{j}]");
        if !providers.contains(e.provider.as_str()) {
            bad(
                format!("{path}.provider"),
                format!(
                    "identity provider {} is not declared in this pool",
                    e.provider
                ),
            );
        }
        if e.matching().is_none() {
            bad(path.clone(), "give exactly one of subject or email".into());
        }
        if e.sub.is_some() && e.subject.is_none() {
            bad(
                format!("{path}.sub"),
                "a user is made outright only from its subject".into(),
            );
        }
        check_sub(e.sub.as_deref(), &path, &mut bad);
        check_attributes(&e.attributes, &path, &mut bad);
        check_groups(format!("{path}.groups"), &e.groups, &mut bad);
    }
    Desired {
        decl,
        client_secrets,
        provider_secrets,
        password_hashes,
    }
}

fn check_client(
    settings: &ClientSettings,
    providers: &BTreeSet<&str>,
    path: &str,
    bad: &mut dyn FnMut(String, String),
) {
    if let Err(e) = settings.validate() {
        bad(path.to_string(), e);
    }
    for p in &settings.supported_identity_providers {
        if p != crate::clients::COGNITO && !providers.contains(p.as_str()) {
            bad(
                format!("{path}.supported_identity_providers"),
                format!("identity provider {p} is not declared in this pool"),
            );
        }
    }
}

fn check_attributes(
    attributes: &BTreeMap<String, String>,
    path: &str,
    bad: &mut dyn FnMut(String, String),
) {
    for (name, value) in attributes {
        if let Err(e) = crate::users::validate_attribute(name, value) {
            bad(format!("{path}.attributes.{name}"), e);
        }
    }
}

fn check_sub(sub: Option<&str>, path: &str, bad: &mut dyn FnMut(String, String)) {
    if let Some(sub) = sub
        && uuid::Uuid::parse_str(sub).is_err()
    {
        bad(format!("{path}.sub"), format!("{sub:?} is not a UUID"));
    }
}

/// The pool a declaration names: by id, else by name (which must then be unique).
async fn find(app: &Services, decl: &PoolDecl) -> anyhow::Result<Option<Stored>> {
    let id = match &decl.id {
        Some(id) => Some(id.clone()),
        None => {
            let named: Vec<_> = app
                .store
                .pools()
                .await?
                .into_iter()
                .filter(|p| p.name == decl.name)
                .collect();
            if named.len() > 1 {
                anyhow::bail!(
                    "pool {}: {} pools have this name; give the pool's id",
                    decl.name,
                    named.len()
                );
            }
            named.into_iter().next().map(|p| p.pool_id)
        }
    };
    Ok(match id {
        Some(id) => state::read(app, &id).await?,
        None => None,
    })
}

/// What applying the file would change, pool by pool; nothing is written.
pub async fn plan(
    app: &Services,
    desired: &[Desired],
    prune: bool,
) -> anyhow::Result<Vec<PoolChanges>> {
    run(app, desired, prune, false).await
}

/// Applies the file, each pool in one transaction: a pool is changed whole or not at
/// all. Pools applied before a failing one stay applied.
pub async fn apply(
    app: &Services,
    desired: &[Desired],
    prune: bool,
) -> anyhow::Result<Vec<PoolChanges>> {
    run(app, desired, prune, true).await
}

async fn run(
    app: &Services,
    desired: &[Desired],
    prune: bool,
    execute: bool,
) -> anyhow::Result<Vec<PoolChanges>> {
    let mut out = Vec::new();
    for d in desired {
        // `plan` reads through a transaction too, so both see one consistent state.
        let tx = app.store.begin().await?;
        let in_tx = app.with_store(tx.clone());
        let stored = find(&in_tx, &d.decl).await?;
        let (pool_id, changes) = sync::pool(&in_tx, d, stored.as_ref(), prune, execute)
            .await
            .map_err(|e| e.context(format!("pool {}: nothing in it was changed", d.decl.name)))?;
        drop(in_tx);
        if execute {
            // The commit drops this instance's caches (pools, clients, keys, domains).
            tx.commit().await?;
        }
        out.push(PoolChanges {
            pool_id,
            name: d.decl.name.clone(),
            changes,
        });
    }
    Ok(out)
}

impl PoolChanges {
    /// The plan's text for this pool.
    pub fn render(&self) -> String {
        let mut out = format!("pool {} ({}):\n", self.name, self.pool_id);
        if self.changes.is_empty() {
            out.push_str("  no changes\n");
        }
        for c in &self.changes {
            out.push_str(&format!("{c}\n"));
        }
        out
    }
}

/// How `export` writes secrets and hashes.
#[derive(Clone, Debug, Default)]
pub struct ExportOptions {
    /// Only these pools (all when empty).
    pub pools: Vec<String>,
    /// Write users' password hashes (they let anyone who reads the file attack the
    /// passwords offline: keep such a file as carefully as the database).
    pub with_password_hashes: bool,
    /// Write client and provider secrets here, one file each (mode 0600), referenced
    /// as `file:`; without it, clients get `generate` and providers `env:` names.
    pub secrets_dir: Option<std::path::PathBuf>,
}

/// What `export` produced: the document, and the environment variables it names for
/// secrets it did not write.
pub struct Exported {
    pub document: Value,
    pub env_needed: Vec<String>,
}

/// The database (or some pools of it) as a file `apply` accepts.
pub async fn export(app: &Services, options: &ExportOptions) -> anyhow::Result<Exported> {
    let mut ids: Vec<String> = if options.pools.is_empty() {
        app.store
            .pools()
            .await?
            .into_iter()
            .map(|p| p.pool_id)
            .collect()
    } else {
        options.pools.clone()
    };
    ids.sort();
    let mut pools = Vec::new();
    let mut env_needed = Vec::new();
    for id in ids {
        let Some(mut stored) = state::read(app, &id).await? else {
            anyhow::bail!("there is no pool {id}");
        };
        let decl = &mut stored.decl;
        decl.clients.sort_by(|a, b| a.id.cmp(&b.id));
        decl.users.sort_by(|a, b| a.username.cmp(&b.username));
        decl.external_users.sort_by_key(|e| e.key());
        for c in &mut decl.clients {
            let client_id = c.id.clone().unwrap_or_default();
            c.secret = match stored.client_secrets.get(&client_id).cloned().flatten() {
                None => "none".into(),
                Some(secret) => match &options.secrets_dir {
                    Some(dir) => write_secret(dir, &format!("{id}.client.{client_id}"), &secret)?,
                    None => "generate".into(),
                },
            };
        }
        for p in &mut decl.identity_providers {
            p.client_secret = match stored.provider_secrets.get(&p.name).cloned().flatten() {
                None => None,
                Some(secret) => Some(match &options.secrets_dir {
                    Some(dir) => write_secret(dir, &format!("{id}.provider.{}", p.name), &secret)?,
                    None => {
                        let name = env_name(&id, &p.name);
                        env_needed.push(name.clone());
                        format!("env:{name}")
                    }
                }),
            };
        }
        if options.with_password_hashes {
            for u in &mut decl.users {
                u.password_hash = stored.password_hashes.get(&u.username).cloned();
            }
        }
        pools.push(without_defaults(serde_json::to_value(&*decl)?));
    }
    Ok(Exported {
        document: serde_json::json!({ "pools": pools }),
        env_needed,
    })
}

/// A pool's value with settings equal to their defaults left out (`apply` fills them
/// in again), so an exported file shows what was chosen.
fn without_defaults(mut pool: Value) -> Value {
    let pool_default = serde_json::to_value(PoolSettings::default()).unwrap_or_default();
    if let Some(settings) = pool.get_mut("settings") {
        strip(settings, &pool_default, &[]);
    }
    let client_default = serde_json::to_value(ClientSettings::default()).unwrap_or_default();
    if let Some(Value::Array(clients)) = pool.get_mut("clients") {
        for c in clients {
            strip(c, &client_default, &["name"]);
        }
    }
    without_nulls(&mut pool);
    pool
}

/// Removes `null`s (settings left unset), which `apply` reads as unset again.
fn without_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(without_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(without_nulls),
        _ => {}
    }
}

fn strip(value: &mut Value, default: &Value, keep: &[&str]) {
    let (Some(map), Some(default)) = (value.as_object_mut(), default.as_object()) else {
        return;
    };
    map.retain(|k, v| keep.contains(&k.as_str()) || default.get(k) != Some(v));
    for (k, v) in map.iter_mut() {
        if let Some(d) = default.get(k) {
            strip(v, d, &[]);
        }
    }
}

/// Writes one secret to `dir/name` (owner-only) and returns its `file:` reference.
fn write_secret(dir: &Path, name: &str, secret: &str) -> anyhow::Result<String> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let path = std::path::absolute(dir.join(name))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(&path)?.write_all(secret.as_bytes())?;
    Ok(format!("file:{}", path.display()))
}

/// `COGNATE_SECRET_<POOL>_<PROVIDER>`, upper case, other characters as `_`.
fn env_name(pool_id: &str, provider: &str) -> String {
    format!("COGNATE_SECRET_{pool_id}_{provider}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}
