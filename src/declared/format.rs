//! The file `cognate apply` reads and `cognate export` writes (YAML, or JSON, which
//! YAML reads too), documented in `docs/config-as-code.md`. Settings use the names the
//! domain keeps them under (`ClientSettings`, `PoolSettings`), so a new setting is in
//! the file as soon as it exists; every key is checked, and every problem of a file is
//! reported at once with its path.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::clients::ClientSettings;
use crate::model::federation::{LinkingPolicy, NewProvider, ProviderDetails, ProviderType};
use crate::model::pool::PoolSettings;
use crate::model::resource_servers::Scope;
use crate::model::schema::{Constraints, SchemaAttribute};

/// A whole file.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Document {
    pub pools: Vec<PoolDecl>,
}

/// A pool and everything in it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PoolDecl {
    /// Chosen when the pool is made (Cognito's shape); without one, the pool is found
    /// by name, or made with a new id in `region`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default)]
    pub settings: PoolSettings,
    /// Custom attributes; once declared they cannot change, as on Cognito.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schema: Vec<AttributeDecl>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identity_providers: Vec<ProviderDecl>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_servers: Vec<ResourceServerDecl>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<GroupDecl>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<ClientDecl>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<UserDecl>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub external_users: Vec<ExternalUserDecl>,
    /// The hosted pages' stylesheet and logo for every client (Cognito's
    /// `SetUICustomization` with `ALL`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui_customization: Option<UiDecl>,
}

/// A stylesheet and logo (Cognito's `UICustomization`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UiDecl {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub css: Option<String>,
    /// The logo, a PNG or JPEG image, in base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<String>,
}

/// A custom attribute.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeDecl {
    pub name: String,
    #[serde(default = "string_type")]
    pub data_type: String,
    #[serde(default = "yes")]
    pub mutable: bool,
    #[serde(default)]
    pub developer_only: bool,
    #[serde(default)]
    pub constraints: Constraints,
}

fn string_type() -> String {
    "String".into()
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

impl From<&AttributeDecl> for SchemaAttribute {
    fn from(a: &AttributeDecl) -> Self {
        SchemaAttribute {
            name: a.name.clone(),
            data_type: a.data_type.clone(),
            mutable: a.mutable,
            developer_only: a.developer_only,
            constraints: a.constraints.clone(),
        }
    }
}

impl From<&SchemaAttribute> for AttributeDecl {
    fn from(a: &SchemaAttribute) -> Self {
        AttributeDecl {
            name: a.name.clone(),
            data_type: a.data_type.clone(),
            mutable: a.mutable,
            developer_only: a.developer_only,
            constraints: a.constraints.clone(),
        }
    }
}

/// An app client; its settings sit beside its id and secret.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClientDecl {
    /// Chosen when the client is made, so apps moved from elsewhere keep theirs;
    /// without one the client is found by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `none` (a public client), `generate`, or a reference to the secret to keep
    /// (`env:NAME`, `file:PATH`).
    #[serde(default = "no_secret")]
    pub secret: String,
    /// This client's own stylesheet and logo, over the pool's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui_customization: Option<UiDecl>,
    #[serde(flatten)]
    pub settings: ClientSettings,
}

fn no_secret() -> String {
    "none".into()
}

/// An identity provider; its details sit beside its name and type.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProviderDecl {
    pub name: String,
    #[serde(rename = "type")]
    pub provider_type: ProviderType,
    #[serde(flatten)]
    pub details: ProviderDetails,
    /// A reference (`env:NAME`, `file:PATH`); for Sign in with Apple, to the team's
    /// private key, which may also be declared as `private_key`.
    #[serde(
        default,
        alias = "private_key",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_secret: Option<String>,
    /// Empty: the type's default mapping.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attribute_mapping: BTreeMap<String, String>,
    #[serde(default)]
    pub linking_policy: LinkingPolicy,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub idp_identifiers: Vec<String>,
}

impl ProviderDecl {
    /// The provider to store, with its secret in clear.
    pub fn to_new(&self, client_secret: Option<String>) -> NewProvider {
        NewProvider {
            provider_name: self.name.clone(),
            provider_type: self.provider_type,
            details: self.details.clone(),
            client_secret,
            attribute_mapping: self.attribute_mapping.clone(),
            linking_policy: self.linking_policy,
            idp_identifiers: self.idp_identifiers.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceServerDecl {
    pub identifier: String,
    pub name: String,
    #[serde(default)]
    pub scopes: Vec<Scope>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupDecl {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precedence: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
}

/// A user of the pool's own. `sub`, `status` and `password_hash` are used when the
/// user is made and never change an existing user (people confirm, reset and sign in,
/// and a sign-in re-hashes an imported password); attributes are set as declared
/// (others the user has are left), group memberships are exactly the declared ones.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UserDecl {
    pub username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// `CONFIRMED` (the default), `RESET_REQUIRED`, `FORCE_CHANGE_PASSWORD` or
    /// `UNCONFIRMED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    /// A hash exported by cognate or another system (argon2, bcrypt, scrypt, PBKDF2),
    /// or a reference to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
}

/// A user of an identity provider, declared before (or after) the first sign-in, by
/// the provider's subject or by the verified email it will present. Until then it is
/// a pre-registration; at the first sign-in it becomes the user, in these groups.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExternalUserDecl {
    pub provider: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The user's `sub` once signed in (kept by `export`): with it, `apply` makes the
    /// user at once rather than waiting for the first sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
}

impl ExternalUserDecl {
    /// How the identity is matched: `("subject", …)` or `("email", …)`.
    pub fn matching(&self) -> Option<(&'static str, String)> {
        match (&self.subject, &self.email) {
            (Some(s), None) => Some(("subject", s.clone())),
            (None, Some(e)) => Some(("email", e.to_lowercase())),
            _ => None,
        }
    }

    /// The key `plan` names it by and `--prune` remembers: `Google:subject:123`.
    pub fn key(&self) -> String {
        let (kind, value) = self.matching().unwrap_or(("subject", String::new()));
        format!("{}:{kind}:{value}", self.provider)
    }
}

/// Settings cognate makes itself and never takes from a file (the webhook signing
/// secrets, sealed with this server's master key).
pub const SERVER_OWNED_POOL_SETTINGS: &[&str] = &[
    "trigger_secret",
    "previous_trigger_secret",
    "trigger_secret_rotated_at",
];

/// One thing wrong with a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Where: `pools[0].clients[1].callback_urls`.
    pub path: String,
    pub reason: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.reason)
        } else {
            write!(f, "{}: {}", self.path, self.reason)
        }
    }
}

/// Problems found so far, each with its path.
#[derive(Debug, Default)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn add(&mut self, path: impl Into<String>, reason: impl Into<String>) {
        self.0.push(Problem {
            path: path.into(),
            reason: reason.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Reads a file's text: every key checked against the settings cognate knows, every
/// value typed. Returns the document with the problems found so far (unknown keys,
/// which do not stop the other checks), or, if it does not read at all, the problems.
pub fn parse(text: &str) -> Result<(Document, Problems), Problems> {
    let mut problems = Problems::default();
    let root: Value = match serde_yaml_ng::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            problems.add("", format!("not YAML or JSON: {e}"));
            return Err(problems);
        }
    };
    let mut document = Document::default();
    let Some(root) = root.as_object() else {
        problems.add("", "the file must be a mapping with `pools:`");
        return Err(problems);
    };
    unknown_keys(&Value::Object(root.clone()), &["pools"], "", &mut problems);
    let pools = root.get("pools").cloned().unwrap_or(Value::Array(vec![]));
    let Some(pools) = pools.as_array() else {
        problems.add("pools", "must be a list");
        return Err(problems);
    };
    let mut unreadable = false;
    for (i, pool) in pools.iter().enumerate() {
        let path = format!("pools[{i}]");
        check_pool_keys(pool, &path, &mut problems);
        match serde_json::from_value::<PoolDecl>(pool.clone()) {
            Ok(decl) => document.pools.push(decl),
            Err(e) => {
                unreadable = true;
                problems.add(path, e.to_string());
            }
        }
    }
    if unreadable {
        Err(problems)
    } else {
        Ok((document, problems))
    }
}

/// The keys a pool and its objects may have, from the types themselves: the keys a
/// default value serializes to, plus the declaration's own.
fn check_pool_keys(pool: &Value, path: &str, problems: &mut Problems) {
    const POOL: &[&str] = &[
        "id",
        "name",
        "region",
        "settings",
        "schema",
        "identity_providers",
        "resource_servers",
        "groups",
        "clients",
        "users",
        "external_users",
        "ui_customization",
    ];
    unknown_keys(pool, POOL, path, problems);
    if let Some(settings) = pool.get("settings") {
        let known = serde_json::to_value(PoolSettings::default()).unwrap_or_default();
        check_against(settings, &known, &format!("{path}.settings"), problems);
        for key in SERVER_OWNED_POOL_SETTINGS {
            if settings.get(key).is_some() {
                problems.add(
                    format!("{path}.settings.{key}"),
                    "made by cognate itself (rotate it with `cognate pool trigger-secret`)",
                );
            }
        }
    }
    let client_keys = keys_of(
        &ClientSettings::default(),
        &["id", "secret", "ui_customization"],
    );
    let provider_keys = keys_of(
        &ProviderDetails::default(),
        &[
            "name",
            "type",
            "client_secret",
            "private_key",
            "attribute_mapping",
            "linking_policy",
            "idp_identifiers",
        ],
    );
    let fixed = |keys: &[&str]| -> Vec<String> { keys.iter().map(|k| k.to_string()).collect() };
    let lists: [(&str, Vec<String>); 7] = [
        (
            "schema",
            fixed(&[
                "name",
                "data_type",
                "mutable",
                "developer_only",
                "constraints",
            ]),
        ),
        ("identity_providers", provider_keys),
        ("resource_servers", fixed(&["identifier", "name", "scopes"])),
        (
            "groups",
            fixed(&["name", "description", "precedence", "role_arn"]),
        ),
        ("clients", client_keys),
        (
            "users",
            fixed(&[
                "username",
                "sub",
                "status",
                "enabled",
                "attributes",
                "password_hash",
                "groups",
            ]),
        ),
        (
            "external_users",
            fixed(&[
                "provider",
                "subject",
                "email",
                "sub",
                "attributes",
                "groups",
            ]),
        ),
    ];
    for (list, allowed) in lists {
        if let Some(Value::Array(items)) = pool.get(list) {
            for (j, item) in items.iter().enumerate() {
                let item_path = format!("{path}.{list}[{j}]");
                unknown_keys(item, &allowed, &item_path, problems);
                if list == "clients" {
                    let known = serde_json::to_value(ClientSettings::default()).unwrap_or_default();
                    check_against(item, &known, &item_path, problems);
                }
            }
        }
    }
}

/// The top-level keys `value` serializes to, plus `extra`.
fn keys_of(value: &impl Serialize, extra: &[&str]) -> Vec<String> {
    let mut keys: Vec<String> = extra.iter().map(|k| k.to_string()).collect();
    if let Ok(Value::Object(map)) = serde_json::to_value(value) {
        keys.extend(map.keys().cloned());
    }
    keys
}

/// Reports keys of `value` (a mapping) outside `allowed`.
fn unknown_keys(value: &Value, allowed: &[impl AsRef<str>], path: &str, problems: &mut Problems) {
    let Some(map) = value.as_object() else {
        return;
    };
    for key in map.keys() {
        if !allowed.iter().any(|a| a.as_ref() == key) {
            let at = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            problems.add(at, "unknown key");
        }
    }
}

/// Reports keys of the nested mappings of `value` that `known` (a default value's
/// serialization) does not have; keys at the top level are the caller's to check.
fn check_against(value: &Value, known: &Value, path: &str, problems: &mut Problems) {
    let (Some(map), Some(known)) = (value.as_object(), known.as_object()) else {
        return;
    };
    for (key, inner) in map {
        match known.get(key) {
            // An empty default is a map (tags) or all-optional (LambdaConfig): any key.
            Some(Value::Object(k)) if !k.is_empty() => {
                let at = format!("{path}.{key}");
                let allowed: Vec<&String> = k.keys().collect();
                unknown_keys(inner, &allowed, &at, problems);
                check_against(inner, &Value::Object(k.clone()), &at, problems);
            }
            Some(_) => {}
            None if path.ends_with(".settings") => {
                problems.add(format!("{path}.{key}"), "unknown key")
            }
            None => {}
        }
    }
}

/// Resolves a secret reference: `env:NAME` or `file:PATH` (relative to `base`, the
/// file's folder). Literal secrets are refused, so a file can be committed.
pub fn resolve_secret(reference: &str, base: &Path) -> Result<String, String> {
    if let Some(name) = reference.strip_prefix("env:") {
        return std::env::var(name).map_err(|_| format!("environment variable {name} is not set"));
    }
    if let Some(path) = reference.strip_prefix("file:") {
        let path = base.join(path);
        return std::fs::read_to_string(&path)
            .map(|s| s.trim_end_matches(['\r', '\n']).to_string())
            .map_err(|e| format!("cannot read {}: {e}", path.display()));
    }
    Err("a secret is a reference, env:NAME or file:PATH, never the secret itself".into())
}

/// Whether a string is a secret reference rather than a value.
pub fn is_reference(s: &str) -> bool {
    s.starts_with("env:") || s.starts_with("file:")
}

/// Where `file:` references of a file at `path` are resolved from.
pub fn base_of(path: &Path) -> PathBuf {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Names declared twice in one list.
pub fn duplicates<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut twice = BTreeSet::new();
    for name in names {
        if !seen.insert(name) {
            twice.insert(name.to_string());
        }
    }
    twice.into_iter().collect()
}
