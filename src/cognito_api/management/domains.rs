//! `CreateUserPoolDomain`, `DescribeUserPoolDomain`, `UpdateUserPoolDomain` and
//! `DeleteUserPoolDomain`, shaped as Terraform's `aws_cognito_user_pool_domain` reads
//! them: a domain is `ACTIVE` at once, an unknown one is `{"DomainDescription": {}}`,
//! and deleting a missing one is `InvalidParameterException` "No such domain…".
//!
//! Where cognate differs: nothing is provisioned, so `CloudFrontDistribution` (and
//! `CloudFrontDomain`) name the host to point the domain's DNS at, the public URL's;
//! `S3Bucket` is a fixed name; the certificate is recorded, not used (TLS ends at the
//! operator's proxy). `Routing` (replicated pools) and `CustomDomainConfig`'s
//! `SecurityPolicy` are refused.

use serde::Deserialize;
use serde_json::{Value, json};

use super::existing_pool;
use crate::cognito_api::{ActionResult, CognitoError, parse};
use crate::domains::{self, DomainKind, DomainUpdate, NewDomain, PoolDomain};
use crate::state::Inner;

/// The account id cognate's ARNs carry.
const ACCOUNT_ID: &str = "000000000000";

/// What `S3Bucket` says: cognate keeps its hosted pages' files in the binary.
const S3_BUCKET: &str = "cognate-hosted-ui";

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DomainRequest {
    domain: String,
    user_pool_id: String,
    custom_domain_config: Option<CustomDomainConfig>,
    managed_login_version: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CustomDomainConfig {
    certificate_arn: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DomainNameRequest {
    domain: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteDomainRequest {
    domain: String,
    user_pool_id: String,
}

impl DomainRequest {
    /// Refuses what cognate does not do; the certificate, if a `CustomDomainConfig` was
    /// sent.
    fn certificate(&self) -> Result<Option<&str>, CognitoError> {
        // `Routing` and `CustomDomainConfig.SecurityPolicy` are refused with the other
        // fields cognate does not take (`fields.json`).
        let Some(config) = &self.custom_domain_config else {
            return Ok(None);
        };
        config
            .certificate_arn
            .as_deref()
            .map(Some)
            .ok_or_else(|| CognitoError::invalid("CustomDomainConfig requires a CertificateArn."))
    }
}

pub(super) async fn create_user_pool_domain(app: &Inner, request: &Value) -> ActionResult {
    let req: DomainRequest = parse(request)?;
    let certificate_arn = req.certificate()?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    let new = NewDomain {
        name: &req.domain,
        certificate_arn,
        managed_login_version: req.managed_login_version,
    };
    let domain = domains::create(app, &pool.pool_id, &new).await?;
    Ok(answer(app, &domain))
}

pub(super) async fn describe_user_pool_domain(app: &Inner, request: &Value) -> ActionResult {
    let req: DomainNameRequest = parse(request)?;
    let description = match domains::describe(app, &req.domain).await? {
        Some(d) => description(app, &d),
        // AWS answers an unknown domain with an empty description, not an error.
        None => json!({}),
    };
    Ok(json!({ "DomainDescription": description }))
}

pub(super) async fn update_user_pool_domain(app: &Inner, request: &Value) -> ActionResult {
    let req: DomainRequest = parse(request)?;
    let certificate_arn = req.certificate()?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    let change = DomainUpdate {
        certificate_arn,
        managed_login_version: req.managed_login_version,
    };
    let domain = domains::update(app, &pool.pool_id, &req.domain, &change).await?;
    Ok(answer(app, &domain))
}

pub(super) async fn delete_user_pool_domain(app: &Inner, request: &Value) -> ActionResult {
    let req: DeleteDomainRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    domains::delete(app, &pool.pool_id, &req.domain).await?;
    Ok(json!({}))
}

/// The pool's domains as `DescribeUserPool` reports them: `Domain` (the prefix) and
/// `CustomDomain`.
pub(super) async fn add_to_pool(
    app: &Inner,
    pool_id: &str,
    user_pool: &mut Value,
) -> Result<(), CognitoError> {
    for d in app.store.domains_of_pool(pool_id).await? {
        let field = match d.kind {
            DomainKind::Prefix => "Domain",
            DomainKind::Custom => "CustomDomain",
        };
        user_pool[field] = json!(d.name);
    }
    Ok(())
}

/// The answer to `CreateUserPoolDomain` and `UpdateUserPoolDomain`.
fn answer(app: &Inner, d: &PoolDomain) -> Value {
    let mut v = json!({ "ManagedLoginVersion": d.managed_login_version });
    // Cognito names a CloudFront host for custom domains only.
    if d.kind == DomainKind::Custom {
        v["CloudFrontDomain"] = json!(app.hosts.public_host());
    }
    v
}

/// `DomainDescriptionType`.
fn description(app: &Inner, d: &PoolDomain) -> Value {
    let mut v = json!({
        "UserPoolId": d.pool_id,
        "AWSAccountId": ACCOUNT_ID,
        "Domain": d.name,
        "S3Bucket": S3_BUCKET,
        "CloudFrontDistribution": app.hosts.public_host(),
        "Version": version(d.updated_at),
        "Status": "ACTIVE",
        "ManagedLoginVersion": d.managed_login_version,
    });
    if let Some(arn) = &d.certificate_arn {
        v["CustomDomainConfig"] = json!({ "CertificateArn": arn });
    }
    v
}

/// Cognito's `Version`: the time of the last change, `YYYYMMDDhhmmss` in UTC.
fn version(updated_at: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(updated_at)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_version_is_the_change_time_in_cognitos_format() {
        assert_eq!(super::version(1_548_698_042), "20190128175402");
    }
}
