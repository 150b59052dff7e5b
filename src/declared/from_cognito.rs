//! `cognate import-from-cognito`: reads a live Cognito user pool through the AWS JSON 1.1
//! API (`DescribeUserPool`, `ListUserPoolClients` + `DescribeUserPoolClient`,
//! `ListIdentityProviders` + `DescribeIdentityProvider`, `ListResourceServers`,
//! `ListGroups`, `ListUsersInGroup`, `ListUsers`), SigV4-signed with the caller's AWS
//! credentials, into the file `cognate apply` reads.
//!
//! Only what cognate's declarations hold is mapped; everything else is named in the
//! notes the caller prints. Cognito never exports password hashes, so native users come
//! in as `RESET_REQUIRED` and reset their password, or are left out for a
//! `UserMigration` trigger to check it against Cognito at their first sign-in.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use super::format::{
    AttributeDecl, ClientDecl, ExternalUserDecl, GroupDecl, PoolDecl, ProviderDecl,
    ResourceServerDecl, UiDecl, UserDecl,
};
use crate::config::AwsCredentials;
use crate::model::clients::{
    ClientSettings, RefreshTokenRotation, ReportedClientSettings, TokenValidityUnits,
};
use crate::model::federation::{ProviderDetails, ProviderType};
use crate::model::pool::{AccountRecovery, Override, PoolSettings};
use crate::model::resource_servers::Scope;

/// What to read and where secrets go.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    pub pool_id: String,
    /// Else `AWS_REGION`, else the pool id's prefix.
    pub region: Option<String>,
    /// Else `https://cognito-idp.<region>.amazonaws.com`.
    pub endpoint_url: Option<String>,
    /// Client and provider secrets are written here (one file each, owner only) and
    /// referenced as `file:`; without it clients get `generate` and providers `env:`.
    pub secrets_dir: Option<PathBuf>,
    /// Leave native users out, for a `UserMigration` trigger to bring each over at the
    /// first sign-in with the old password (it fires only for names the pool lacks).
    pub leave_users_to_migration: bool,
}

/// The file, and what the operator should know about it (dropped settings, skipped
/// providers, secrets to set, users to reset); a note that starts with `warning: `
/// is one.
pub struct Imported {
    pub document: Value,
    pub notes: Vec<String>,
}

/// A signed AWS JSON 1.1 client of one Cognito endpoint.
struct Cognito {
    http: reqwest::Client,
    url: String,
    region: String,
    credentials: AwsCredentials,
}

impl Cognito {
    fn new(options: &ImportOptions) -> anyhow::Result<Self> {
        let credentials = AwsCredentials::from_env()
            .context("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN)")?;
        let region = options
            .region
            .clone()
            .or_else(|| std::env::var("AWS_REGION").ok().filter(|r| !r.is_empty()))
            .or_else(|| options.pool_id.split_once('_').map(|(r, _)| r.to_string()))
            .context("give --region: the pool id names none")?;
        let endpoint = options
            .endpoint_url
            .clone()
            .unwrap_or_else(|| format!("https://cognito-idp.{region}.amazonaws.com"));
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()?,
            url: format!("{}/", endpoint.trim_end_matches('/')),
            region,
            credentials,
        })
    }

    /// One action; its answer, or Cognito's error as `Action: Exception: message`.
    async fn call(&self, action: &str, request: &Value) -> anyhow::Result<Value> {
        let target = format!("AWSCognitoIdentityProviderService.{action}");
        let body = serde_json::to_vec(request)?;
        let headers = [
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", target.as_str()),
        ];
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs();
        let c = &self.credentials;
        let signed = crate::sigv4::Signer {
            access_key_id: &c.access_key_id,
            secret_access_key: &c.secret_access_key,
            session_token: c.session_token.as_deref(),
            region: &self.region,
            service: "cognito-idp",
        }
        .sign_post(&self.url, &headers, &body, i64::try_from(now)?)
        .map_err(|e| anyhow::anyhow!("{action}: the request could not be signed: {e}"))?;
        let mut request = self.http.post(&self.url).body(body);
        for (name, value) in headers.iter().copied() {
            request = request.header(name, value);
        }
        for (name, value) in signed {
            request = request.header(name, value);
        }
        let response = request.send().await.with_context(|| action.to_string())?;
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let kind = answer["__type"].as_str().unwrap_or("error");
            let kind = kind.rsplit('#').next().unwrap_or(kind);
            let message = answer["message"]
                .as_str()
                .or(answer["Message"].as_str())
                .unwrap_or("");
            bail!("{action}: {kind} ({status}): {message}");
        }
        Ok(answer)
    }

    /// Every item of a paged list action: `list` from each page, following `token`
    /// (the request's and the answer's member of that name).
    async fn all(
        &self,
        action: &str,
        mut request: Value,
        list: &str,
        token: &str,
    ) -> anyhow::Result<Vec<Value>> {
        let mut items = Vec::new();
        loop {
            let mut page = self.call(action, &request).await?;
            if let Value::Array(more) = page[list].take() {
                items.extend(more);
            }
            match page[token].as_str().filter(|t| !t.is_empty()) {
                Some(next) => request[token] = json!(next),
                None => return Ok(items),
            }
        }
    }
}

/// Reads the pool and maps it.
pub async fn import(options: &ImportOptions) -> anyhow::Result<Imported> {
    let api = Cognito::new(options)?;
    let id = options.pool_id.as_str();
    let of_pool = json!({ "UserPoolId": id });
    let mut notes = Vec::new();

    let described = api.call("DescribeUserPool", &of_pool).await?;
    let pool = &described["UserPool"];
    let mut settings = pool_settings(pool, &mut notes);
    let schema = custom_attributes(pool);

    let mut skipped_providers = Vec::new();
    let mut identity_providers = Vec::new();
    let listed = api
        .all(
            "ListIdentityProviders",
            json!({ "UserPoolId": id, "MaxResults": 60 }),
            "Providers",
            "NextToken",
        )
        .await?;
    for p in listed {
        let name = p["ProviderName"].as_str().unwrap_or_default().to_string();
        let request = json!({ "UserPoolId": id, "ProviderName": name });
        let answer = api.call("DescribeIdentityProvider", &request).await?;
        match provider(id, &answer["IdentityProvider"], options, &mut notes)? {
            Some(decl) => identity_providers.push(decl),
            None => skipped_providers.push(name),
        }
    }
    // The groups Cognito (and cognate) make for each provider's users are not declared.
    let automatic: Vec<String> = identity_providers
        .iter()
        .map(|p| p.name.as_str())
        .chain(skipped_providers.iter().map(String::as_str))
        .map(|p| crate::federation::provider_group(id, p))
        .collect();

    let mut clients = Vec::new();
    let mut prevent_existence_errors = Vec::new();
    let listed = api
        .all(
            "ListUserPoolClients",
            json!({ "UserPoolId": id, "MaxResults": 60 }),
            "UserPoolClients",
            "NextToken",
        )
        .await?;
    for c in listed {
        let request = json!({ "UserPoolId": id, "ClientId": c["ClientId"] });
        let answer = api.call("DescribeUserPoolClient", &request).await?;
        let c = &answer["UserPoolClient"];
        if let Some(setting) = c["PreventUserExistenceErrors"].as_str() {
            prevent_existence_errors.push(setting == "ENABLED");
        }
        let mut decl = client(id, c, options, &mut notes)?;
        let what = format!("client {}", decl.settings.name);
        decl.ui_customization = ui(&api, id, decl.id.as_deref(), &what, &mut notes).await;
        decl.settings.supported_identity_providers.retain(|p| {
            let skipped = skipped_providers.contains(p);
            if skipped {
                notes.push(format!(
                    "client {}: identity provider {p} left out (not imported)",
                    decl.settings.name
                ));
            }
            !skipped
        });
        clients.push(decl);
    }
    // A pool setting in cognate, a client one in Cognito.
    if let Some(first) = prevent_existence_errors.first() {
        settings.prevent_user_existence_errors = prevent_existence_errors.contains(&true);
        if prevent_existence_errors.iter().any(|e| e != first) {
            notes.push(
                "PreventUserExistenceErrors differs between clients; cognate sets it for the \
                 whole pool: ENABLED"
                    .into(),
            );
        }
    }

    let resource_servers = api
        .all(
            "ListResourceServers",
            json!({ "UserPoolId": id, "MaxResults": 50 }),
            "ResourceServers",
            "NextToken",
        )
        .await?
        .iter()
        .map(|s| ResourceServerDecl {
            identifier: text(&s["Identifier"]),
            name: text(&s["Name"]),
            scopes: s["Scopes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|scope| Scope {
                    name: text(&scope["ScopeName"]),
                    description: text(&scope["ScopeDescription"]),
                })
                .collect(),
        })
        .collect();

    let mut groups = Vec::new();
    let mut members: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let listed = api
        .all(
            "ListGroups",
            json!({ "UserPoolId": id, "Limit": 60 }),
            "Groups",
            "NextToken",
        )
        .await?;
    for g in listed {
        let name = text(&g["GroupName"]);
        if automatic.contains(&name) {
            continue;
        }
        let request = json!({ "UserPoolId": id, "GroupName": name, "Limit": 60 });
        for u in api
            .all("ListUsersInGroup", request, "Users", "NextToken")
            .await?
        {
            members
                .entry(text(&u["Username"]))
                .or_default()
                .push(name.clone());
        }
        groups.push(GroupDecl {
            name,
            description: g["Description"].as_str().map(str::to_string),
            precedence: g["Precedence"].as_i64(),
            role_arn: g["RoleArn"].as_str().map(str::to_string),
        });
    }

    let listed = api
        .all(
            "ListUsers",
            json!({ "UserPoolId": id, "Limit": 60 }),
            "Users",
            "PaginationToken",
        )
        .await?;
    let (mut users, external_users) = users(listed, &identity_providers, &mut members, &mut notes);
    if options.leave_users_to_migration && !users.is_empty() {
        notes.push(format!(
            "{} native user(s) left out: a UserMigration trigger (settings.lambda_config) \
             brings each over at the first sign-in, without the group memberships",
            users.len()
        ));
        users.clear();
    } else if !users.is_empty() {
        notes.push(format!(
            "{} native user(s) come in as RESET_REQUIRED: Cognito never exports password \
             hashes. They set a new password by ForgotPassword (a code to their verified \
             email); or import with --leave-users-to-migration for a UserMigration trigger \
             to check their old password against Cognito.",
            users.len()
        ));
    }

    let decl = PoolDecl {
        id: Some(id.to_string()),
        name: text(&pool["Name"]),
        region: None,
        settings,
        schema,
        identity_providers,
        resource_servers,
        groups,
        clients,
        users,
        external_users,
        ui_customization: ui(&api, id, None, "pool", &mut notes).await,
    };
    Ok(Imported {
        document: json!({ "pools": [super::without_defaults(serde_json::to_value(&decl)?)] }),
        notes,
    })
}

/// The stylesheet of the pool (`client_id` `None`) or of one client; a client without
/// its own is answered with the pool's (`ClientId` `ALL`). The logo is a URL in
/// Cognito's answer, noted rather than fetched; a failed call is noted too (Cognito
/// answers only for pools with a domain).
async fn ui(
    api: &Cognito,
    pool_id: &str,
    client_id: Option<&str>,
    what: &str,
    notes: &mut Vec<String>,
) -> Option<UiDecl> {
    let mut request = json!({ "UserPoolId": pool_id });
    if let Some(c) = client_id {
        request["ClientId"] = json!(c);
    }
    let answer = match api.call("GetUICustomization", &request).await {
        Ok(answer) => answer,
        Err(e) => {
            notes.push(format!("{what}: hosted UI customization not imported: {e}"));
            return None;
        }
    };
    let ui = &answer["UICustomization"];
    if client_id.is_some() && ui["ClientId"].as_str() != client_id {
        return None;
    }
    if is_set(&ui["ImageUrl"]) {
        notes.push(format!(
            "{what}: the logo is not imported; add it as ui_customization.logo (base64)"
        ));
    }
    let css = ui["CSS"].as_str().filter(|c| !c.is_empty())?;
    Some(UiDecl {
        css: Some(css.to_string()),
        logo: None,
    })
}

/// A string member, or "".
fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

/// Whether a member says something (not absent, null, false, empty or zero).
fn is_set(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(false) => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::Bool(true) => true,
    }
}

/// Notes the members of `object` outside `mapped` that say something.
fn note_unmapped(what: &str, object: &Value, mapped: &[&str], notes: &mut Vec<String>) {
    for (key, value) in object.as_object().into_iter().flatten() {
        if !mapped.contains(&key.as_str()) && is_set(value) {
            notes.push(format!("{what}: {key} is not imported"));
        }
    }
}

/// `UserPoolType` onto the settings cognate has.
fn pool_settings(p: &Value, notes: &mut Vec<String>) -> PoolSettings {
    const MAPPED: &[&str] = &[
        // Read-only facts, or the pool's other parts read separately.
        "Id",
        "Name",
        "Arn",
        "Status",
        "CreationDate",
        "LastModifiedDate",
        "EstimatedNumberOfUsers",
        "Domain",
        "CustomDomain",
        "SchemaAttributes",
        // Mapped here (or checked for a value cognate does not have).
        "Policies",
        "UsernameAttributes",
        "AdminCreateUserConfig",
        "VerificationMessageTemplate",
        "EmailVerificationMessage",
        "EmailVerificationSubject",
        "DeletionProtection",
        "UserPoolTags",
        "LambdaConfig",
        "AccountRecoverySetting",
        "UserAttributeUpdateSettings",
        "MfaConfiguration",
        "EmailConfiguration",
        "AutoVerifiedAttributes",
        "UsernameConfiguration",
        // The pricing tier.
        "UserPoolTier",
    ];
    note_unmapped("pool", p, MAPPED, notes);
    let mut s = PoolSettings {
        required_attributes: Vec::new(),
        ..PoolSettings::default()
    };
    let policy = &p["Policies"]["PasswordPolicy"];
    let count = |key: &str| policy[key].as_u64().and_then(|n| u32::try_from(n).ok());
    let flag = |key: &str| policy[key].as_bool().unwrap_or(false);
    if policy.is_object() {
        let pp = &mut s.password_policy;
        if let Some(n) = policy["MinimumLength"].as_u64() {
            pp.minimum_length = usize::try_from(n).unwrap_or(pp.minimum_length);
        }
        pp.require_uppercase = flag("RequireUppercase");
        pp.require_lowercase = flag("RequireLowercase");
        pp.require_numbers = flag("RequireNumbers");
        pp.require_symbols = flag("RequireSymbols");
        pp.password_history_size = count("PasswordHistorySize").unwrap_or(0);
        if let Some(days) = count("TemporaryPasswordValidityDays").filter(|d| *d != 0) {
            pp.temporary_password_validity_days = days;
        }
    }
    let factors = strings(&p["Policies"]["SignInPolicy"]["AllowedFirstAuthFactors"]);
    if factors.iter().any(|f| f != "PASSWORD") {
        notes.push("pool: sign-in factors other than PASSWORD are not imported".into());
    }
    for name in strings(&p["UsernameAttributes"]) {
        if name == "email" {
            s.username_attributes.push(name);
        } else {
            notes.push(format!("pool: UsernameAttributes {name} is not imported"));
        }
    }
    for a in p["SchemaAttributes"].as_array().into_iter().flatten() {
        let name = text(&a["Name"]);
        if a["Required"].as_bool() == Some(true) && name != "sub" && !name.contains(':') {
            s.required_attributes.push(name);
        }
    }
    let admin = &p["AdminCreateUserConfig"];
    s.allow_self_signup = admin["AllowAdminCreateUserOnly"].as_bool() != Some(true);
    let invite = &admin["InviteMessageTemplate"];
    s.messages.temporary_password = message(&invite["EmailSubject"], &invite["EmailMessage"]);
    if is_set(&invite["SMSMessage"]) {
        notes.push("pool: the invitation's SMS message is not imported (no SMS)".into());
    }
    let template = &p["VerificationMessageTemplate"];
    s.messages.verification = message(&template["EmailSubject"], &template["EmailMessage"])
        .or_else(|| {
            message(
                &p["EmailVerificationSubject"],
                &p["EmailVerificationMessage"],
            )
        });
    if template["DefaultEmailOption"].as_str() == Some("CONFIRM_WITH_LINK") {
        notes.push("pool: verification by link is not imported; cognate mails a code".into());
    }
    s.deletion_protection = p["DeletionProtection"].as_str() == Some("ACTIVE");
    if let Value::Object(tags) = &p["UserPoolTags"] {
        s.tags = tags.iter().map(|(k, v)| (k.clone(), text(v))).collect();
    }
    s.lambda_config = lambda_config(&p["LambdaConfig"], notes);
    let mut mechanisms: Vec<&Value> = p["AccountRecoverySetting"]["RecoveryMechanisms"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    mechanisms.sort_by_key(|m| m["Priority"].as_i64());
    match mechanisms.first().and_then(|m| m["Name"].as_str()) {
        Some("admin_only") => s.account_recovery = AccountRecovery::AdminOnly,
        Some("verified_phone_number") => notes.push(
            "pool: recovery by phone number is not imported (no SMS); verified email is used"
                .into(),
        ),
        _ => {}
    }
    let verify = &p["UserAttributeUpdateSettings"]["AttributesRequireVerificationBeforeUpdate"];
    for name in strings(verify) {
        if name == "email" {
            s.verify_before_update.push(name);
        } else {
            notes.push(format!(
                "pool: verification before updating {name} is not imported"
            ));
        }
    }
    if matches!(p["MfaConfiguration"].as_str(), Some("ON" | "OPTIONAL")) {
        notes.push("pool: MfaConfiguration is not imported (MFA is off)".into());
    }
    if p["EmailConfiguration"]["EmailSendingAccount"].as_str() == Some("DEVELOPER") {
        notes.push(
            "pool: EmailConfiguration (SES) is not imported; mail goes through cognate's SMTP"
                .into(),
        );
    }
    if strings(&p["AutoVerifiedAttributes"]).contains(&"phone_number".into()) {
        notes.push("pool: AutoVerifiedAttributes phone_number is not imported (no SMS)".into());
    }
    if p["UsernameConfiguration"]["CaseSensitive"].as_bool() == Some(true) {
        notes.push("pool: case-sensitive usernames are not imported (cognate's are not)".into());
    }
    s
}

/// A message override when both parts are given.
fn message(subject: &Value, body: &Value) -> Option<Override> {
    Some(Override {
        subject: subject.as_str().filter(|s| !s.is_empty())?.to_string(),
        body: body.as_str().filter(|s| !s.is_empty())?.to_string(),
    })
}

/// `LambdaConfig` as it is, less the members cognate's triggers do not have (custom
/// senders and their KMS key), which are noted.
fn lambda_config(sent: &Value, notes: &mut Vec<String>) -> crate::triggers::LambdaConfig {
    let config: crate::triggers::LambdaConfig =
        serde_json::from_value(sent.clone()).unwrap_or_default();
    let kept = serde_json::to_value(&config).unwrap_or_default();
    for (key, value) in sent.as_object().into_iter().flatten() {
        if is_set(value) && kept.get(key).is_none() {
            notes.push(format!("pool: LambdaConfig.{key} is not imported"));
        }
    }
    config
}

/// The custom attributes of `SchemaAttributes`; developer-only ones are listed as
/// `dev:custom:…`.
fn custom_attributes(p: &Value) -> Vec<AttributeDecl> {
    let mut out: Vec<AttributeDecl> = Vec::new();
    for a in p["SchemaAttributes"].as_array().into_iter().flatten() {
        let listed = text(&a["Name"]);
        let (name, dev) = match listed.strip_prefix("dev:") {
            Some(name) => (name.to_string(), true),
            None => (listed, false),
        };
        if !name.starts_with("custom:") || out.iter().any(|d| d.name == name) {
            continue;
        }
        out.push(AttributeDecl {
            name,
            data_type: a["AttributeDataType"]
                .as_str()
                .unwrap_or("String")
                .to_string(),
            mutable: a["Mutable"].as_bool().unwrap_or(true),
            developer_only: dev || a["DeveloperOnlyAttribute"].as_bool() == Some(true),
            constraints: serde_json::from_value(a.clone()).unwrap_or_default(),
        });
    }
    out
}

/// Where a secret goes: a file in the secrets folder, else `None`.
fn secret_file(
    options: &ImportOptions,
    name: &str,
    secret: &str,
) -> anyhow::Result<Option<String>> {
    options
        .secrets_dir
        .as_deref()
        .map(|dir| super::write_secret(dir, name, secret))
        .transpose()
}

/// `UserPoolClientType` as a declared client, its id kept.
fn client(
    pool_id: &str,
    c: &Value,
    options: &ImportOptions,
    notes: &mut Vec<String>,
) -> anyhow::Result<ClientDecl> {
    const MAPPED: &[&str] = &[
        "UserPoolId",
        "ClientName",
        "ClientId",
        "ClientSecret",
        "LastModifiedDate",
        "CreationDate",
        "RefreshTokenValidity",
        "AccessTokenValidity",
        "IdTokenValidity",
        "TokenValidityUnits",
        "ReadAttributes",
        "WriteAttributes",
        "ExplicitAuthFlows",
        "SupportedIdentityProviders",
        "CallbackURLs",
        "LogoutURLs",
        "DefaultRedirectURI",
        "AllowedOAuthFlows",
        "AllowedOAuthScopes",
        "AllowedOAuthFlowsUserPoolClient",
        "PreventUserExistenceErrors",
        "EnableTokenRevocation",
        "AuthSessionValidity",
        "RefreshTokenRotation",
    ];
    let client_id = text(&c["ClientId"]);
    let name = text(&c["ClientName"]);
    note_unmapped(&format!("client {name}"), c, MAPPED, notes);
    let default = ClientSettings::default();
    let units = &c["TokenValidityUnits"];
    // Cognito's units when none are given: hours, hours, days; 0 is "the default".
    let seconds = |key: &str, unit: &str, default_unit: &str, default: i64| {
        let unit = units[unit].as_str().unwrap_or(default_unit);
        match c[key].as_i64().filter(|v| *v > 0) {
            Some(v) => v.saturating_mul(crate::clients::unit_seconds(unit).unwrap_or(1)),
            None => default,
        }
    };
    let oauth = c["AllowedOAuthFlowsUserPoolClient"].as_bool() == Some(true);
    let explicit = match c.get("ExplicitAuthFlows") {
        Some(flows) if flows.is_array() => crate::clients::allow_forms(&strings(flows))
            .unwrap_or_else(|e| {
                notes.push(format!("client {name}: {e}; kept as listed"));
                strings(flows)
            }),
        _ => default.explicit_auth_flows.clone(),
    };
    let rotation = c["RefreshTokenRotation"]
        .as_object()
        .map(|r| RefreshTokenRotation {
            feature: r.get("Feature").map(text).unwrap_or_default(),
            retry_grace_period_seconds: r.get("RetryGracePeriodSeconds").and_then(Value::as_i64),
        });
    let settings = ClientSettings {
        name: name.clone(),
        callback_urls: strings(&c["CallbackURLs"]),
        logout_urls: strings(&c["LogoutURLs"]),
        // Cognito keeps flows and scopes of a client with OAuth off, and ignores them.
        allowed_scopes: if oauth {
            strings(&c["AllowedOAuthScopes"])
        } else {
            Vec::new()
        },
        allowed_flows: if oauth {
            strings(&c["AllowedOAuthFlows"])
        } else {
            Vec::new()
        },
        id_token_validity: seconds("IdTokenValidity", "IdToken", "hours", 3600),
        access_token_validity: seconds("AccessTokenValidity", "AccessToken", "hours", 3600),
        refresh_token_validity: seconds("RefreshTokenValidity", "RefreshToken", "days", 2_592_000),
        write_attributes: strings(&c["WriteAttributes"]),
        read_attributes: strings(&c["ReadAttributes"]),
        auth_session_validity: c["AuthSessionValidity"]
            .as_i64()
            .unwrap_or(default.auth_session_validity),
        enable_token_revocation: c["EnableTokenRevocation"].as_bool().unwrap_or(true),
        supported_identity_providers: strings(&c["SupportedIdentityProviders"]),
        explicit_auth_flows: explicit,
        // Without the block, Cognito does not rotate.
        refresh_token_rotation: rotation.as_ref().is_some_and(|r| r.feature == "ENABLED"),
        refresh_token_retry_grace: rotation
            .as_ref()
            .and_then(|r| r.retry_grace_period_seconds)
            .unwrap_or(0),
        reported: ReportedClientSettings {
            token_validity_units: units.as_object().map(|_| TokenValidityUnits {
                access_token: units["AccessToken"].as_str().unwrap_or("hours").into(),
                id_token: units["IdToken"].as_str().unwrap_or("hours").into(),
                refresh_token: units["RefreshToken"].as_str().unwrap_or("days").into(),
            }),
            refresh_token_rotation: rotation,
            default_redirect_uri: c["DefaultRedirectURI"].as_str().map(str::to_string),
        },
        ..default
    };
    let secret = match c["ClientSecret"].as_str().filter(|s| !s.is_empty()) {
        None => "none".to_string(),
        Some(secret) => secret_file(options, &format!("{pool_id}.client.{client_id}"), secret)?
            .unwrap_or_else(|| {
                notes.push(format!(
                    "client {name}: its secret is not kept (no --secrets-dir); apply makes a new one"
                ));
                "generate".into()
            }),
    };
    Ok(ClientDecl {
        id: Some(client_id),
        secret,
        ui_customization: None,
        settings,
    })
}

/// `IdentityProviderType` as a declared provider; `None` for a type cognate does not
/// have (SAML), which is noted.
fn provider(
    pool_id: &str,
    p: &Value,
    options: &ImportOptions,
    notes: &mut Vec<String>,
) -> anyhow::Result<Option<ProviderDecl>> {
    let name = text(&p["ProviderName"]);
    let kind = text(&p["ProviderType"]);
    let Some(provider_type) = ProviderType::parse(&kind) else {
        notes.push(format!(
            "warning: identity provider {name} ({kind}) skipped: cognate has no {kind} providers"
        ));
        return Ok(None);
    };
    let mut details = p["ProviderDetails"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    // Apple's private key takes the client secret's place (Cognito never describes it).
    let secret = details
        .remove("client_secret")
        .or_else(|| details.remove("private_key"))
        .map(|s| text(&s));
    let known = serde_json::to_value(ProviderDetails::default()).unwrap_or_default();
    details.retain(|key, value| {
        let kept = known.get(key).is_some();
        if !kept && is_set(value) {
            notes.push(format!("identity provider {name}: {key} is not imported"));
        }
        kept
    });
    let details: ProviderDetails = serde_json::from_value(Value::Object(details))
        .with_context(|| format!("identity provider {name}: ProviderDetails"))?;
    let file = match secret.as_deref().filter(|s| !s.is_empty()) {
        Some(secret) => secret_file(options, &format!("{pool_id}.provider.{name}"), secret)?,
        None => None,
    };
    let client_secret = file.unwrap_or_else(|| {
        let env = super::env_name(pool_id, &name);
        let why = if secret.is_some() {
            "(no --secrets-dir)"
        } else {
            "(the API did not return it)"
        };
        notes.push(format!(
            "set {env} to identity provider {name}'s client secret before `apply` {why}"
        ));
        format!("env:{env}")
    });
    Ok(Some(ProviderDecl {
        name,
        provider_type,
        details,
        client_secret: Some(client_secret),
        attribute_mapping: p["AttributeMapping"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), text(v)))
            .collect(),
        linking_policy: Default::default(),
        idp_identifiers: strings(&p["IdpIdentifiers"]),
    }))
}

/// `UserType`s as native and external users, with their groups (`members`, by
/// username, taken as they are used).
fn users(
    listed: Vec<Value>,
    providers: &[ProviderDecl],
    members: &mut BTreeMap<String, Vec<String>>,
    notes: &mut Vec<String>,
) -> (Vec<UserDecl>, Vec<ExternalUserDecl>) {
    let mut users = Vec::new();
    let mut external = Vec::new();
    for u in listed {
        let username = text(&u["Username"]);
        let mut attributes: BTreeMap<String, String> = u["Attributes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| (text(&a["Name"]), text(&a["Value"])))
            .collect();
        let sub = attributes.remove("sub");
        let identities = attributes.remove("identities");
        let groups = members.remove(&username).unwrap_or_default();
        if u["UserStatus"].as_str() == Some("EXTERNAL_PROVIDER") {
            match identity(&username, identities.as_deref(), providers) {
                Some((provider, subject)) => external.push(ExternalUserDecl {
                    provider,
                    subject: Some(subject),
                    email: None,
                    sub,
                    attributes,
                    groups,
                }),
                None => notes.push(format!(
                    "external user {username} skipped: its provider is not imported"
                )),
            }
            continue;
        }
        users.push(UserDecl {
            username,
            sub,
            status: Some("RESET_REQUIRED".into()),
            enabled: u["Enabled"].as_bool().unwrap_or(true),
            attributes,
            password_hash: None,
            groups,
        });
    }
    (users, external)
}

/// An external user's provider and subject: from its `identities` attribute, else
/// from its username (`<provider>_<subject>`, the provider's name in any case).
fn identity(
    username: &str,
    identities: Option<&str>,
    providers: &[ProviderDecl],
) -> Option<(String, String)> {
    let known = |name: &str| {
        providers
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| p.name.clone())
    };
    let listed: Vec<Value> = identities
        .and_then(|i| serde_json::from_str(i).ok())
        .unwrap_or_default();
    if let Some(first) = listed.first() {
        let provider = known(first["providerName"].as_str()?)?;
        return Some((provider, text(&first["userId"])));
    }
    let (prefix, subject) = username.split_once('_')?;
    Some((known(prefix)?, subject.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn google() -> ProviderDecl {
        serde_json::from_value(json!({ "name": "Google", "type": "Google", "client_id": "c" }))
            .unwrap()
    }

    #[test]
    fn an_external_users_identity_comes_from_identities_else_from_its_username() {
        let providers = [google()];
        let identities = r#"[{"userId":"123","providerName":"Google","providerType":"Google"}]"#;
        assert_eq!(
            identity("google_123", Some(identities), &providers),
            Some(("Google".into(), "123".into()))
        );
        assert_eq!(
            identity("google_456", None, &providers),
            Some(("Google".into(), "456".into()))
        );
        assert_eq!(identity("Okta_1", None, &providers), None);
    }

    #[test]
    fn client_validities_are_converted_to_seconds_with_their_units() {
        let c = json!({
            "ClientId": "abc", "ClientName": "web",
            "AccessTokenValidity": 5, "IdTokenValidity": 2, "RefreshTokenValidity": 0,
            "TokenValidityUnits": { "AccessToken": "minutes", "IdToken": "hours" },
            "ExplicitAuthFlows": ["ADMIN_NO_SRP_AUTH"],
            "AnalyticsConfiguration": { "ApplicationId": "x" },
        });
        let mut notes = Vec::new();
        let decl = client("us-east-1_x", &c, &ImportOptions::default(), &mut notes).unwrap();
        assert_eq!(decl.settings.access_token_validity, 300);
        assert_eq!(decl.settings.id_token_validity, 7200);
        assert_eq!(decl.settings.refresh_token_validity, 2_592_000);
        assert!(!decl.settings.refresh_token_rotation);
        assert!(
            decl.settings
                .explicit_auth_flows
                .contains(&"ALLOW_ADMIN_USER_PASSWORD_AUTH".to_string())
        );
        assert_eq!(decl.secret, "none");
        assert_eq!(
            notes,
            ["client web: AnalyticsConfiguration is not imported"]
        );
    }

    #[test]
    fn a_saml_provider_is_skipped_with_a_warning() {
        let saml = json!({ "ProviderName": "Okta", "ProviderType": "SAML",
                           "ProviderDetails": { "MetadataURL": "https://okta.example/m" } });
        let mut notes = Vec::new();
        let decl = provider("us-east-1_x", &saml, &ImportOptions::default(), &mut notes).unwrap();
        assert!(decl.is_none());
        assert_eq!(
            notes,
            ["warning: identity provider Okta (SAML) skipped: cognate has no SAML providers"]
        );
    }
}
