//! Our types in Cognito's JSON shapes (botocore's `cognito-idp` model). Times are
//! epoch seconds, as AWS JSON 1.1 sends timestamps.

use serde_json::{Value, json};

use crate::clients::AppClient;
use crate::federation::IdentityProvider;
use crate::groups::Group;
use crate::pool::Pool;
use crate::users::User;
use crate::users::schema::Schema;

/// `AttributeListType`: `sub` first, then the stored attributes, optionally only the
/// names asked for.
pub fn attributes(user: &User, only: Option<&[String]>) -> Value {
    let wanted = |name: &str| only.is_none_or(|names| names.iter().any(|n| n == name));
    let mut list = Vec::new();
    if wanted("sub") {
        list.push(json!({ "Name": "sub", "Value": user.user_id }));
    }
    for (name, value) in &user.attributes {
        if wanted(name) {
            list.push(json!({ "Name": name, "Value": value }));
        }
    }
    Value::Array(list)
}

/// `UserType` (ListUsers, AdminCreateUser).
pub fn user_type(user: &User, only: Option<&[String]>) -> Value {
    json!({
        "Username": user.username,
        "Attributes": attributes(user, only),
        "UserCreateDate": user.created_at,
        "UserLastModifiedDate": user.updated_at,
        "Enabled": user.enabled,
        "UserStatus": user.status.as_str(),
    })
}

/// `GroupType`.
pub fn group_type(g: &Group) -> Value {
    let mut v = json!({
        "GroupName": g.group_name,
        "UserPoolId": g.pool_id,
        "LastModifiedDate": g.updated_at,
        "CreationDate": g.created_at,
    });
    if let Some(d) = &g.description {
        v["Description"] = json!(d);
    }
    if let Some(p) = g.precedence {
        v["Precedence"] = json!(p);
    }
    if let Some(r) = &g.role_arn {
        v["RoleArn"] = json!(r);
    }
    v
}

/// The pool's `PreventUserExistenceErrors`, which its clients report (a pool setting
/// in cognate).
pub fn prevent_user_existence_errors(pool: &Pool) -> &'static str {
    if pool.settings.prevent_user_existence_errors {
        "ENABLED"
    } else {
        "LEGACY"
    }
}

/// A client's validities as Cognito reports them: in the units it was sent
/// (`TokenValidityUnits`, reported only then), else in Cognito's default units (hours,
/// hours, days). A validity that is no whole number of those (a client set up in
/// seconds through the CLI) has all three reported in seconds, with the units.
fn validities(c: &AppClient) -> (i64, i64, i64, Option<Value>) {
    let seconds = [
        c.access_token_validity,
        c.id_token_validity,
        c.refresh_token_validity,
    ];
    let units = match &c.reported.token_validity_units {
        Some(u) => [
            u.access_token.as_str(),
            u.id_token.as_str(),
            u.refresh_token.as_str(),
        ],
        None => ["hours", "hours", "days"],
    };
    let unit_seconds = units.map(|u| crate::clients::unit_seconds(u).unwrap_or(1));
    let whole = seconds.iter().zip(unit_seconds).all(|(s, u)| s % u == 0);
    let block =
        |u: [&str; 3]| json!({ "AccessToken": u[0], "IdToken": u[1], "RefreshToken": u[2] });
    if !whole {
        let [a, i, r] = seconds;
        return (a, i, r, Some(block(["seconds"; 3])));
    }
    let [a, i, r] = [0, 1, 2].map(|n| seconds[n] / unit_seconds[n]);
    (
        a,
        i,
        r,
        c.reported
            .token_validity_units
            .as_ref()
            .map(|_| block(units)),
    )
}

/// `UserPoolClientType`; `secret` only where the API returns it. Every setting the API
/// was sent comes back as sent; the blocks it was not sent (`TokenValidityUnits`,
/// `RefreshTokenRotation`, `DefaultRedirectURI`) are left out, as Cognito leaves them.
pub fn client_type(c: &AppClient, secret: Option<&str>, pool: &Pool) -> Value {
    let (access, id, refresh, units) = validities(c);
    let mut v = json!({
        "UserPoolId": c.pool_id,
        "ClientName": c.name,
        "ClientId": c.client_id,
        "LastModifiedDate": c.updated_at,
        "CreationDate": c.created_at,
        "RefreshTokenValidity": refresh,
        "AccessTokenValidity": access,
        "IdTokenValidity": id,
        "WriteAttributes": c.write_attributes,
        "ExplicitAuthFlows": c.explicit_auth_flows,
        "SupportedIdentityProviders": c.supported_identity_providers,
        "CallbackURLs": c.callback_urls,
        "LogoutURLs": c.logout_urls,
        "AllowedOAuthFlows": c.allowed_flows,
        "AllowedOAuthScopes": c.allowed_scopes,
        "AllowedOAuthFlowsUserPoolClient": !c.allowed_flows.is_empty(),
        "PreventUserExistenceErrors": prevent_user_existence_errors(pool),
        "EnableTokenRevocation": c.enable_token_revocation,
        "EnablePropagateAdditionalUserContextData": false,
        "AuthSessionValidity": c.auth_session_validity,
    });
    // Reported only when the client lists its own, as Cognito reports it.
    if !c.read_attributes.is_empty() {
        v["ReadAttributes"] = json!(c.read_attributes);
    }
    if let Some(units) = units {
        v["TokenValidityUnits"] = units;
    }
    if let Some(uri) = &c.reported.default_redirect_uri {
        v["DefaultRedirectURI"] = json!(uri);
    }
    match &c.reported.refresh_token_rotation {
        Some(r) => {
            let mut block = json!({ "Feature": r.feature });
            if let Some(grace) = r.retry_grace_period_seconds {
                block["RetryGracePeriodSeconds"] = json!(grace);
            }
            v["RefreshTokenRotation"] = block;
        }
        // Set some other way (the CLI): reported when it differs from the default.
        None => {
            let default = crate::clients::ClientSettings::default();
            if c.refresh_token_rotation != default.refresh_token_rotation
                || c.refresh_token_retry_grace != default.refresh_token_retry_grace
            {
                let feature = if c.refresh_token_rotation {
                    "ENABLED"
                } else {
                    "DISABLED"
                };
                v["RefreshTokenRotation"] = json!({
                    "Feature": feature,
                    "RetryGracePeriodSeconds": c.refresh_token_retry_grace,
                });
            }
        }
    }
    if let Some(s) = secret {
        v["ClientSecret"] = json!(s);
    }
    v
}

/// The account pool ARNs name: cognate has no AWS account.
pub const ACCOUNT_ID: &str = "000000000000";

/// The region a pool id starts with (`us-east-1_AbC…`).
pub fn region_of(pool_id: &str) -> &str {
    pool_id
        .split_once('_')
        .map_or("us-east-1", |(region, _)| region)
}

/// A pool's ARN, which tags are set on (`TagResource`).
pub fn pool_arn(pool_id: &str) -> String {
    format!(
        "arn:aws:cognito-idp:{}:{ACCOUNT_ID}:userpool/{pool_id}",
        region_of(pool_id)
    )
}

/// `UserPoolType`, with the pool's declared `schema` and its number of users. Optional
/// blocks that were never set are left out, as Cognito leaves them out.
pub fn pool_type(p: &Pool, schema: &Schema, users: i64) -> Value {
    let s = &p.settings;
    let r = &s.reported;
    let policy = &s.password_policy;
    let mut policies = json!({ "PasswordPolicy": {
        "MinimumLength": policy.minimum_length,
        "RequireUppercase": policy.require_uppercase,
        "RequireLowercase": policy.require_lowercase,
        "RequireNumbers": policy.require_numbers,
        "RequireSymbols": policy.require_symbols,
        "PasswordHistorySize": policy.password_history_size,
        "TemporaryPasswordValidityDays": policy.temporary_password_validity_days,
    }});
    if let Some(sign_in) = &r.sign_in_policy {
        policies["SignInPolicy"] = sign_in.clone();
    }
    let mut template = json!({ "DefaultEmailOption": "CONFIRM_WITH_CODE" });
    for (key, value) in &r.verification_template_extras {
        template[key] = value.clone();
    }
    let mut admin = json!({ "AllowAdminCreateUserOnly": !s.allow_self_signup });
    let mut v = json!({
        "Id": p.pool_id,
        "Name": p.name,
        "Arn": pool_arn(&p.pool_id),
        "Status": "Enabled",
        "CreationDate": p.created_at,
        "LastModifiedDate": p.updated_at,
        "Policies": policies,
        "DeletionProtection": if s.deletion_protection { "ACTIVE" } else { "INACTIVE" },
        "LambdaConfig": s.lambda_config,
        "SchemaAttributes": schema_attributes(&s.required_attributes, schema),
        "MfaConfiguration": s.mfa.configuration.as_str(),
        "EstimatedNumberOfUsers": users,
        "UserPoolTags": s.tags,
        // Mail goes through cognate's own SMTP server, Cognito's "COGNITO_DEFAULT".
        "EmailConfiguration": r.email_configuration.clone()
            .unwrap_or_else(|| json!({ "EmailSendingAccount": "COGNITO_DEFAULT" })),
    });
    if !s.username_attributes.is_empty() {
        v["UsernameAttributes"] = json!(s.username_attributes);
    }
    if let Some(o) = &s.messages.verification {
        v["EmailVerificationMessage"] = json!(o.body);
        v["EmailVerificationSubject"] = json!(o.subject);
        template["EmailMessage"] = json!(o.body);
        template["EmailSubject"] = json!(o.subject);
    }
    v["VerificationMessageTemplate"] = template;
    let mut invite = serde_json::Map::new();
    if let Some(o) = &s.messages.temporary_password {
        invite.insert("EmailMessage".into(), json!(o.body));
        invite.insert("EmailSubject".into(), json!(o.subject));
    }
    if let Some(sms) = &r.invite_sms_message {
        invite.insert("SMSMessage".into(), json!(sms));
    }
    if !invite.is_empty() {
        admin["InviteMessageTemplate"] = Value::Object(invite);
    }
    v["AdminCreateUserConfig"] = admin;
    let optional = [
        (
            "AutoVerifiedAttributes",
            r.auto_verified_attributes.as_ref().map(|a| json!(a)),
        ),
        (
            "SmsVerificationMessage",
            r.sms_verification_message.as_ref().map(|m| json!(m)),
        ),
        (
            "SmsAuthenticationMessage",
            r.sms_authentication_message.as_ref().map(|m| json!(m)),
        ),
        ("UserPoolAddOns", r.user_pool_add_ons.clone()),
        ("UsernameConfiguration", r.username_configuration.clone()),
        ("AccountRecoverySetting", r.account_recovery_setting.clone()),
        (
            "UserAttributeUpdateSettings",
            r.user_attribute_update_settings.clone(),
        ),
        ("UserPoolTier", r.user_pool_tier.as_ref().map(|t| json!(t))),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            v[key] = value;
        }
    }
    v
}

/// `SchemaAttributesListType` as Cognito reports it: every standard attribute with its
/// default shape (`required` marked, a declaration's own settings applied), then the
/// declared custom attributes exactly as declared, developer-only ones as `dev:custom:…`.
fn schema_attributes(required: &[String], schema: &Schema) -> Value {
    let standard = std::iter::once("sub")
        .chain(crate::users::STANDARD_ATTRIBUTES.iter().copied())
        .chain(std::iter::once("updated_at"));
    let mut list: Vec<Value> = standard
        .map(|name| {
            let data_type = match name {
                "email_verified" | "phone_number_verified" => "Boolean",
                "updated_at" => "Number",
                _ => "String",
            };
            let declared = schema.get(name);
            let mut a = json!({
                "Name": name,
                "AttributeDataType": data_type,
                "DeveloperOnlyAttribute": declared.is_some_and(|d| d.developer_only),
                "Mutable": name != "sub" && declared.is_none_or(|d| d.mutable),
                "Required": name == "sub" || required.iter().any(|r| r == name),
            });
            let (min, max) = match name {
                "sub" => ("1", "2048"),
                "birthdate" => ("10", "10"),
                _ => ("0", "2048"),
            };
            match declared.map(|d| &d.constraints) {
                Some(c) if c.string.is_some() => {
                    a["StringAttributeConstraints"] = json!(c.string);
                }
                _ if data_type == "String" => {
                    a["StringAttributeConstraints"] = json!({ "MinLength": min, "MaxLength": max });
                }
                _ if data_type == "Number" => {
                    a["NumberAttributeConstraints"] = json!({ "MinValue": "0" });
                }
                _ => {}
            }
            a
        })
        .collect();
    for d in schema
        .attributes()
        .filter(|d| d.name.starts_with("custom:"))
    {
        let name = match d.developer_only {
            true => format!("dev:{}", d.name),
            false => d.name.clone(),
        };
        let mut a = json!({
            "Name": name,
            "AttributeDataType": d.data_type,
            "DeveloperOnlyAttribute": d.developer_only,
            "Mutable": d.mutable,
            "Required": false,
        });
        if let Some(c) = &d.constraints.string {
            a["StringAttributeConstraints"] = json!(c);
        }
        if let Some(c) = &d.constraints.number {
            a["NumberAttributeConstraints"] = json!(c);
        }
        list.push(a);
    }
    Value::Array(list)
}

/// `UserPoolDescriptionType` (ListUserPools).
pub fn pool_description(p: &Pool) -> Value {
    json!({
        "Id": p.pool_id,
        "Name": p.name,
        "LambdaConfig": p.settings.lambda_config,
        "Status": "Enabled",
        "LastModifiedDate": p.updated_at,
        "CreationDate": p.created_at,
    })
}

/// `UserPoolClientDescription` (ListUserPoolClients).
pub fn client_description(c: &AppClient) -> Value {
    json!({ "ClientId": c.client_id, "UserPoolId": c.pool_id, "ClientName": c.name })
}

/// `ProviderDescription` (ListIdentityProviders).
pub fn provider_description(idp: &IdentityProvider) -> Value {
    json!({
        "ProviderName": idp.provider_name,
        "ProviderType": idp.provider_type.as_str(),
        "LastModifiedDate": idp.updated_at,
        "CreationDate": idp.created_at,
    })
}

/// `IdentityProviderType`.
pub fn provider_type(idp: &IdentityProvider) -> Value {
    let d = &idp.details;
    let mut details = serde_json::Map::new();
    details.insert("client_id".into(), json!(d.client_id));
    details.insert("authorize_scopes".into(), json!(idp.scopes()));
    for (key, value) in [
        ("authorize_url", &d.authorize_url),
        ("token_url", &d.token_url),
        ("attributes_url", &d.attributes_url),
        ("oidc_issuer", &d.oidc_issuer),
        ("jwks_uri", &d.jwks_uri),
        ("team_id", &d.team_id),
        ("key_id", &d.key_id),
    ] {
        if let Some(v) = value {
            details.insert(key.into(), json!(v));
        }
    }
    json!({
        "UserPoolId": idp.pool_id,
        "ProviderName": idp.provider_name,
        "ProviderType": idp.provider_type.as_str(),
        "ProviderDetails": details,
        "AttributeMapping": idp.attribute_mapping,
        "IdpIdentifiers": idp.idp_identifiers,
        "LastModifiedDate": idp.updated_at,
        "CreationDate": idp.created_at,
    })
}
