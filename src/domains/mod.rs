//! User pool domains (Cognito's `CreateUserPoolDomain` and its siblings): a prefix
//! served at `<prefix>.auth.<base domain>`, or a custom host name the operator points
//! at cognate. Each pool has at most one of each kind, and a name belongs to one pool.
//! Cognito's rules and messages; the routing by `Host` is `host_routing`'s, the URLs
//! that follow (the issuer) are [`crate::hosts`]'s.

use crate::error::AppError;
pub use crate::model::domains::{DomainKind, PoolDomain};
use crate::services::Services;
use crate::store::StoreError;

/// Cognito's answer when a name is taken (by any pool, this one included).
pub const TAKEN: &str = "Domain already associated with another user pool.";

/// Cognito's answer to deleting a domain the pool does not have (Terraform ignores
/// exactly this on delete).
pub const NO_SUCH_DOMAIN: &str = "No such domain or user pool exists.";

/// Words Cognito refuses in a prefix.
const RESERVED: [&str; 3] = ["aws", "amazon", "cognito"];

/// Cognito's pattern for a prefix, `^[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?$`, and its
/// reserved words.
pub fn check_prefix(prefix: &str) -> Result<(), String> {
    let bytes = prefix.as_bytes();
    let inner_ok = bytes
        .iter()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
    let ends_ok = |b: Option<&u8>| b.is_some_and(|b| *b != b'-');
    if !(1..=63).contains(&bytes.len())
        || !inner_ok
        || !ends_ok(bytes.first())
        || !ends_ok(bytes.last())
    {
        return Err(
            "The domain name contains an invalid character. Domain names can only \
                    contain lower-case letters, numbers, and hyphens. Please enter a different \
                    name that follows this format: ^[a-z0-9](?:[a-z0-9\\-]{0,61}[a-z0-9])?$"
                .into(),
        );
    }
    match RESERVED.iter().find(|w| prefix.contains(*w)) {
        Some(word) => Err(format!("Domain cannot contain reserved word: {word}")),
        None => Ok(()),
    }
}

/// A custom domain is a lower-case host name with at least two labels, neither the
/// server's own host nor one under the prefix domains' `auth.<base>`.
pub fn check_custom(app: &Services, name: &str) -> Result<(), String> {
    if !name.contains('.') || !crate::config::is_host_name(name) {
        return Err(format!(
            "The custom domain {name:?} is not a fully qualified domain name in lower case, \
             such as auth.example.com."
        ));
    }
    if name == app.hosts.public_host() {
        return Err(format!(
            "The custom domain {name:?} is this server's own host name (its public URL)."
        ));
    }
    if app.hosts.is_under_prefix_space(name) {
        return Err(format!(
            "The custom domain {name:?} is under the prefix domains' auth.{}.",
            app.hosts.base().unwrap_or_default()
        ));
    }
    Ok(())
}

/// Cognito's pattern for an ARN (`arn:partition:service:region:account:resource`),
/// 20 to 2048 characters.
pub fn check_certificate_arn(arn: &str) -> Result<(), String> {
    let allowed = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=/,.@-".contains(c))
    };
    let parts: Vec<&str> = arn.split(':').collect();
    let ok = (20..=2048).contains(&arn.len())
        && (6..=8).contains(&parts.len())
        && parts[0] == "arn"
        && parts.iter().all(|p| allowed(p))
        && [1, 2, 5].iter().all(|&i| !parts[i].is_empty())
        && !parts[4].is_empty()
        && parts[4].bytes().all(|b| b.is_ascii_digit());
    match ok {
        true => Ok(()),
        false => Err(format!(
            "CertificateArn {arn:?} is not an ARN (arn:aws:acm:<region>:<account>:certificate/<id>)."
        )),
    }
}

/// `ManagedLoginVersion`: 1 (classic hosted UI, the default) or 2 (managed login).
fn check_managed_login_version(version: i64) -> Result<(), String> {
    match version {
        1 | 2 => Ok(()),
        _ => Err(format!(
            "ManagedLoginVersion {version} is not valid; use 1 (hosted UI) or 2 (managed login)."
        )),
    }
}

/// What a new domain is: a prefix, or a custom domain with its certificate.
pub struct NewDomain<'a> {
    pub name: &'a str,
    pub certificate_arn: Option<&'a str>,
    pub managed_login_version: Option<i64>,
}

/// Creates a domain for `pool_id`: a custom domain when it has a certificate, else a
/// prefix. Active at once (Cognito's `CREATING` is skipped: nothing needs provisioning).
pub async fn create(
    app: &Services,
    pool_id: &str,
    new: &NewDomain<'_>,
) -> Result<PoolDomain, AppError> {
    let kind = match new.certificate_arn {
        Some(arn) => {
            check_custom(app, new.name).map_err(AppError::Invalid)?;
            check_certificate_arn(arn).map_err(AppError::Invalid)?;
            DomainKind::Custom
        }
        None => {
            check_prefix(new.name).map_err(AppError::Invalid)?;
            DomainKind::Prefix
        }
    };
    let managed_login_version = new.managed_login_version.unwrap_or(1);
    check_managed_login_version(managed_login_version).map_err(AppError::Invalid)?;
    if app.store.pool_by_id(pool_id).await?.is_none() {
        return Err(AppError::NotFound("user pool"));
    }
    if app.store.domain_by_name(new.name).await?.is_some() {
        return Err(AppError::Invalid(TAKEN.into()));
    }
    let has_one = |domains: &[PoolDomain]| domains.iter().any(|d| d.kind == kind);
    if has_one(&app.store.domains_of_pool(pool_id).await?) {
        return Err(already_has(pool_id, kind));
    }
    let now = app.clock.now();
    let domain = PoolDomain {
        name: new.name.to_string(),
        pool_id: pool_id.to_string(),
        kind,
        certificate_arn: new.certificate_arn.map(str::to_string),
        managed_login_version,
        created_at: now,
        updated_at: now,
    };
    match app.store.insert_domain(&domain).await {
        Ok(()) => {}
        // Another request took the name, or gave the pool its domain, meanwhile.
        Err(StoreError::Conflict) => {
            return Err(match app.store.domain_by_name(new.name).await? {
                Some(_) => AppError::Invalid(TAKEN.into()),
                None => already_has(pool_id, kind),
            });
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(pool_id = %pool_id, domain = %domain.name, kind = kind.as_str(), "user pool domain created");
    Ok(domain)
}

fn already_has(pool_id: &str, kind: DomainKind) -> AppError {
    let what = match kind {
        DomainKind::Prefix => "an Amazon Cognito prefix domain",
        DomainKind::Custom => "a custom domain",
    };
    AppError::Invalid(format!(
        "User pool {pool_id} already has {what}; delete it first."
    ))
}

/// The domain named `name`, whichever pool has it.
pub async fn describe(app: &Services, name: &str) -> Result<Option<PoolDomain>, AppError> {
    Ok(app.store.domain_by_name(name).await?)
}

/// What `UpdateUserPoolDomain` changes; `None` keeps the current value.
pub struct DomainUpdate<'a> {
    pub certificate_arn: Option<&'a str>,
    pub managed_login_version: Option<i64>,
}

/// Changes a domain's certificate (custom domains only) or managed login version.
/// A prefix domain accepts an empty certificate, which Terraform sends for it.
pub async fn update(
    app: &Services,
    pool_id: &str,
    name: &str,
    change: &DomainUpdate<'_>,
) -> Result<PoolDomain, AppError> {
    let mut domain = app
        .store
        .domain_by_name(name)
        .await?
        .filter(|d| d.pool_id == pool_id)
        .ok_or_else(|| AppError::Invalid(NO_SUCH_DOMAIN.into()))?;
    match (domain.kind, change.certificate_arn) {
        (_, None) | (DomainKind::Prefix, Some("")) => {}
        (DomainKind::Prefix, Some(_)) => {
            return Err(AppError::Invalid(format!(
                "{name} is a prefix domain: it has no certificate."
            )));
        }
        (DomainKind::Custom, Some(arn)) => {
            check_certificate_arn(arn).map_err(AppError::Invalid)?;
            domain.certificate_arn = Some(arn.to_string());
        }
    }
    if let Some(version) = change.managed_login_version {
        check_managed_login_version(version).map_err(AppError::Invalid)?;
        domain.managed_login_version = version;
    }
    domain.updated_at = app.clock.now();
    if !app.store.update_domain(&domain).await? {
        return Err(AppError::Invalid(NO_SUCH_DOMAIN.into()));
    }
    Ok(domain)
}

/// Deletes the domain `name` of `pool_id`; from then on its host serves nothing, and
/// the pool's issuer falls back to its other domain or to `<public-url>/<pool-id>`.
pub async fn delete(app: &Services, pool_id: &str, name: &str) -> Result<(), AppError> {
    if !app.store.delete_domain(name, pool_id).await? {
        return Err(AppError::Invalid(NO_SUCH_DOMAIN.into()));
    }
    tracing::info!(pool_id = %pool_id, domain = %name, "user pool domain deleted");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_follow_cognitos_pattern_and_reserved_words() {
        for ok in ["myapp", "a", "my-app-2", &"x".repeat(63)] {
            assert_eq!(check_prefix(ok), Ok(()), "{ok}");
        }
        for bad in ["", "-a", "a-", "My", "my.app", "my_app", &"x".repeat(64)] {
            assert!(
                check_prefix(bad).unwrap_err().contains("invalid character"),
                "{bad}"
            );
        }
        assert_eq!(
            check_prefix("my-aws-app").unwrap_err(),
            "Domain cannot contain reserved word: aws"
        );
        assert!(check_prefix("amazonia").is_err());
        assert!(check_prefix("notcognito").is_err());
    }

    #[test]
    fn certificate_arns_follow_the_arn_pattern() {
        let good = "arn:aws:acm:us-east-1:123456789012:certificate/a1b2c3d4-5678";
        assert_eq!(check_certificate_arn(good), Ok(()));
        for bad in [
            "",
            "certificate/a1b2c3d4-5678-90ab-cdef",
            "arn:aws:acm:us-east-1:12345678901x:certificate/a1",
            "arn:aws:acm:us-east-1:123456789012:cert ificate/a1",
            "arn:aws::us-east-1:123456789012:certificate/a1",
        ] {
            assert!(check_certificate_arn(bad).is_err(), "{bad}");
        }
    }
}
