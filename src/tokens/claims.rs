//! Cognito's token claims, built from the directory every time tokens are issued (at
//! sign-in and at every refresh), so attribute and group changes show at the next
//! refresh. ID token: OIDC Core §2 plus Cognito's `cognito:*` (groups, their IAM
//! roles, username), `token_use`, `origin_jti`, `event_id`; access token: Cognito's
//! shape (`client_id`, `scope`, `username`, …).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::clients::AppClient;
use crate::groups::Group;
use crate::store::LinkedIdentity;
use crate::users::User;
use crate::users::schema::Schema;

/// The scope of tokens from the Cognito API: the user's own account, every attribute.
pub const ADMIN_SCOPE: &str = "aws.cognito.signin.user.admin";

/// Everything a token is built from.
pub struct Grant<'a> {
    pub issuer: &'a str,
    pub client: &'a AppClient,
    pub user: &'a User,
    pub groups: &'a [Group],
    /// Provider identities linked to the user (the `identities` claim).
    pub identities: &'a [LinkedIdentity],
    /// The pool's declared attributes (developer-only ones never go into a token).
    pub schema: &'a Schema,
    pub scopes: &'a [String],
    pub auth_time: i64,
    pub origin_jti: &'a str,
    pub nonce: Option<&'a str>,
    pub now: i64,
}

/// A `client_credentials` access token's claims, Cognito's machine-to-machine shape.
pub fn client_access_claims(
    issuer: &str,
    client: &AppClient,
    scopes: &[String],
    now: i64,
    jti: &str,
) -> Value {
    json!({
        "sub": client.client_id,
        "token_use": "access",
        "scope": scopes.join(" "),
        "auth_time": now,
        "iss": issuer,
        "exp": now + client.access_token_validity,
        "iat": now,
        "version": 2,
        "jti": jti,
        "client_id": client.client_id,
    })
}

impl Grant<'_> {
    fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    fn group_names(&self) -> Option<Value> {
        (!self.groups.is_empty()).then(|| {
            Value::from(
                self.groups
                    .iter()
                    .map(|g| g.group_name.as_str())
                    .collect::<Vec<_>>(),
            )
        })
    }

    /// The ID token's IAM role claims, from the groups' `RoleArn`s: `cognito:roles`,
    /// every role once, and `cognito:preferred_role`, the role of the groups with the
    /// best (lowest, then unset) precedence if they agree on one; Cognito sets neither
    /// claim when no group has a role.
    fn role_claims(&self) -> Vec<(&'static str, Value)> {
        let with_role: Vec<(&Group, &str)> = self
            .groups
            .iter()
            .filter_map(|g| Some((g, g.role_arn.as_deref().filter(|r| !r.is_empty())?)))
            .collect();
        // A group without precedence comes after every group with one.
        let rank = |g: &Group| (g.precedence.is_none(), g.precedence.unwrap_or(0));
        let Some(best) = with_role.iter().map(|(g, _)| rank(g)).min() else {
            return Vec::new();
        };
        let mut roles: Vec<&str> = Vec::new();
        let mut preferred: Vec<&str> = Vec::new();
        for (g, role) in &with_role {
            if !roles.contains(role) {
                roles.push(role);
            }
            if rank(g) == best && !preferred.contains(role) {
                preferred.push(role);
            }
        }
        let mut claims = Vec::new();
        if let [one] = preferred[..] {
            claims.push(("cognito:preferred_role", one.into()));
        }
        claims.push(("cognito:roles", roles.into()));
        claims
    }

    /// The access token's claims.
    pub fn access_claims(&self, jti: &str, event_id: &str) -> Value {
        let mut c = Map::new();
        c.insert("sub".into(), self.user.user_id.clone().into());
        if let Some(groups) = self.group_names() {
            c.insert("cognito:groups".into(), groups);
        }
        c.insert("iss".into(), self.issuer.into());
        c.insert("version".into(), 2.into());
        c.insert("client_id".into(), self.client.client_id.clone().into());
        c.insert("origin_jti".into(), self.origin_jti.into());
        c.insert("event_id".into(), event_id.into());
        c.insert("token_use".into(), "access".into());
        c.insert("scope".into(), self.scopes.join(" ").into());
        c.insert("auth_time".into(), self.auth_time.into());
        c.insert(
            "exp".into(),
            (self.now + self.client.access_token_validity).into(),
        );
        c.insert("iat".into(), self.now.into());
        c.insert("jti".into(), jti.into());
        c.insert("username".into(), self.user.username.clone().into());
        Value::Object(c)
    }

    /// The ID token's claims; `access_token`, if given, adds `at_hash` (OIDC Core
    /// §3.1.3.6).
    pub fn id_claims(&self, jti: &str, event_id: &str, access_token: Option<&str>) -> Value {
        let mut c = Map::new();
        c.insert("sub".into(), self.user.user_id.clone().into());
        if let Some(groups) = self.group_names() {
            c.insert("cognito:groups".into(), groups);
        }
        c.insert("iss".into(), self.issuer.into());
        for (name, value) in self.role_claims() {
            c.insert(name.into(), value);
        }
        c.insert("cognito:username".into(), self.user.username.clone().into());
        c.insert("origin_jti".into(), self.origin_jti.into());
        c.insert("aud".into(), self.client.client_id.clone().into());
        c.insert("event_id".into(), event_id.into());
        c.insert("token_use".into(), "id".into());
        c.insert("auth_time".into(), self.auth_time.into());
        c.insert(
            "exp".into(),
            (self.now + self.client.id_token_validity).into(),
        );
        c.insert("iat".into(), self.now.into());
        c.insert("jti".into(), jti.into());
        if let Some(access_token) = access_token {
            c.insert("at_hash".into(), at_hash(access_token).into());
        }
        if let Some(nonce) = self.nonce {
            c.insert("nonce".into(), nonce.into());
        }
        c.extend(visible_attributes(
            self.user,
            self.scopes,
            &self.client.read_attributes,
            self.schema,
        ));
        if !self.identities.is_empty() {
            c.insert("identities".into(), identities_claim(self.identities));
        }
        Value::Object(c)
    }

    /// Whether an ID token is issued at all: for `openid` (OIDC Core §3.1.2.1), and
    /// always for the Cognito API's sign-ins (`aws.cognito.signin.user.admin`).
    pub fn wants_id_token(&self) -> bool {
        self.has_scope("openid") || self.has_scope(ADMIN_SCOPE)
    }
}

/// The user's attributes a set of scopes may see (OIDC Core §5.4): `email` and
/// `phone` their pairs, `profile` the other standard claims; `custom:*` always, as in
/// Cognito's ID tokens. Of those, only what the client may read (`read_attributes`,
/// Cognito's `ReadAttributes`: none listed, every attribute) and never a developer-only
/// attribute. `*_verified` values become booleans.
pub fn visible_attributes(
    user: &User,
    scopes: &[String],
    read_attributes: &[String],
    schema: &Schema,
) -> Map<String, Value> {
    let has = |s: &str| scopes.iter().any(|x| x == s || x == ADMIN_SCOPE);
    user.attributes
        .iter()
        .filter(|(name, _)| schema.readable_by_client(read_attributes, name))
        .filter(|(name, _)| match name.as_str() {
            "email" | "email_verified" => has("email"),
            "phone_number" | "phone_number_verified" => has("phone"),
            n if n.starts_with("custom:") => true,
            _ => has("profile"),
        })
        .map(|(name, value)| {
            let v = if name.ends_with("_verified") {
                Value::Bool(value == "true")
            } else {
                Value::String(value.clone())
            };
            (name.clone(), v)
        })
        .collect()
}

/// The userInfo response (OIDC Core §5.3.2): `sub`, `username` and what the access
/// token's scopes and its client (`read_attributes`) may see.
pub fn userinfo(
    user: &User,
    scopes: &[String],
    read_attributes: &[String],
    schema: &Schema,
) -> Value {
    let mut c = Map::new();
    c.insert("sub".into(), user.user_id.clone().into());
    c.insert("username".into(), user.username.clone().into());
    c.extend(visible_attributes(user, scopes, read_attributes, schema));
    json!(c)
}

/// Cognito's `identities` claim: one object per linked provider identity, the first
/// (oldest) primary, dates in epoch milliseconds as strings.
fn identities_claim(identities: &[LinkedIdentity]) -> Value {
    Value::from(
        identities
            .iter()
            .enumerate()
            .map(|(i, id)| {
                json!({
                    "userId": id.provider_subject,
                    "providerName": id.provider_name,
                    "providerType": id.provider_type,
                    "issuer": null,
                    "primary": if i == 0 { "true" } else { "false" },
                    "dateCreated": (id.created_at * 1000).to_string(),
                })
            })
            .collect::<Vec<_>>(),
    )
}

/// Left half of the SHA-256 of the access token, base64url (OIDC Core §3.1.3.6).
fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}
