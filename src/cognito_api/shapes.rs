//! Our types in Cognito's JSON shapes (botocore's `cognito-idp` model). Times are
//! epoch seconds, as AWS JSON 1.1 sends timestamps.

use serde_json::{Value, json};

use crate::clients::AppClient;
use crate::federation::IdentityProvider;
use crate::groups::Group;
use crate::pool::Pool;
use crate::users::User;

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

/// `UserPoolClientType`; `secret` only where the API returns it.
pub fn client_type(c: &AppClient, secret: Option<&str>) -> Value {
    let mut v = json!({
        "UserPoolId": c.pool_id,
        "ClientName": c.name,
        "ClientId": c.client_id,
        "LastModifiedDate": c.updated_at,
        "CreationDate": c.created_at,
        "RefreshTokenValidity": c.refresh_token_validity,
        "AccessTokenValidity": c.access_token_validity,
        "IdTokenValidity": c.id_token_validity,
        "TokenValidityUnits": { "AccessToken": "seconds", "IdToken": "seconds", "RefreshToken": "seconds" },
        "WriteAttributes": c.write_attributes,
        "ExplicitAuthFlows": c.explicit_auth_flows,
        "SupportedIdentityProviders": c.supported_identity_providers,
        "CallbackURLs": c.callback_urls,
        "LogoutURLs": c.logout_urls,
        "AllowedOAuthFlows": c.allowed_flows,
        "AllowedOAuthScopes": c.allowed_scopes,
        "AllowedOAuthFlowsUserPoolClient": !c.allowed_flows.is_empty(),
        "PreventUserExistenceErrors": "ENABLED",
        "EnableTokenRevocation": true,
    });
    // Reported when it differs from the default (Cognito's: no rotation).
    if c.refresh_token_rotation {
        v["RefreshTokenRotation"] =
            json!({ "Feature": "ENABLED", "RetryGracePeriodSeconds": c.refresh_token_retry_grace });
    }
    if let Some(s) = secret {
        v["ClientSecret"] = json!(s);
    }
    v
}

/// `UserPoolType`.
pub fn pool_type(p: &Pool, region: &str) -> Value {
    let s = &p.settings;
    let policy = &s.password_policy;
    let mut v = json!({
        "Id": p.pool_id,
        "Name": p.name,
        "Arn": format!("arn:aws:cognito-idp:{region}:000000000000:userpool/{}", p.pool_id),
        "Status": "Enabled",
        "CreationDate": p.created_at,
        "LastModifiedDate": p.updated_at,
        "Policies": { "PasswordPolicy": {
            "MinimumLength": policy.minimum_length,
            "RequireUppercase": policy.require_uppercase,
            "RequireLowercase": policy.require_lowercase,
            "RequireNumbers": policy.require_numbers,
            "RequireSymbols": policy.require_symbols,
            "TemporaryPasswordValidityDays": 7,
        }},
        "DeletionProtection": if s.deletion_protection { "ACTIVE" } else { "INACTIVE" },
        "LambdaConfig": {},
        "SchemaAttributes": schema_attributes(&s.required_attributes),
        "UsernameAttributes": s.username_attributes,
        // Usernames are compared case-insensitively (the `username_lc` column).
        "UsernameConfiguration": { "CaseSensitive": false },
        "AutoVerifiedAttributes": ["email"],
        "VerificationMessageTemplate": { "DefaultEmailOption": "CONFIRM_WITH_CODE" },
        "AdminCreateUserConfig": { "AllowAdminCreateUserOnly": !s.allow_self_signup },
        "MfaConfiguration": "OFF",
    });
    if let Some(o) = &s.messages.verification {
        v["EmailVerificationMessage"] = json!(o.body);
        v["EmailVerificationSubject"] = json!(o.subject);
        v["VerificationMessageTemplate"]["EmailMessage"] = json!(o.body);
        v["VerificationMessageTemplate"]["EmailSubject"] = json!(o.subject);
    }
    if let Some(o) = &s.messages.temporary_password {
        v["AdminCreateUserConfig"]["InviteMessageTemplate"] =
            json!({ "EmailMessage": o.body, "EmailSubject": o.subject });
    }
    v
}

/// `SchemaAttributesListType`: `sub` and the standard attributes, `required` marked.
/// Custom attributes need no declaration in cognate, so none are listed.
fn schema_attributes(required: &[String]) -> Value {
    let sub = std::iter::once("sub");
    let all = sub.chain(crate::users::STANDARD_ATTRIBUTES.iter().copied());
    let list = all
        .map(|name| {
            let boolean = name.ends_with("_verified");
            let mut a = json!({
                "Name": name,
                "AttributeDataType": if boolean { "Boolean" } else { "String" },
                "DeveloperOnlyAttribute": false,
                "Mutable": name != "sub",
                "Required": name == "sub" || required.iter().any(|r| r == name),
            });
            if !boolean {
                let min = if name == "sub" { "1" } else { "0" };
                a["StringAttributeConstraints"] = json!({ "MinLength": min, "MaxLength": "2048" });
            }
            a
        })
        .collect();
    Value::Array(list)
}

/// `UserPoolDescriptionType` (ListUserPools).
pub fn pool_description(p: &Pool) -> Value {
    json!({
        "Id": p.pool_id,
        "Name": p.name,
        "LambdaConfig": {},
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
