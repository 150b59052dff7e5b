//! User pool domains (Cognito's `CreateUserPoolDomain`): the host names a pool's hosted
//! pages and OAuth endpoints are served at.

use serde::Serialize;

/// Cognito's two kinds of domain: a prefix under the service's own base domain, or a
/// host name the operator owns (created with a certificate).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DomainKind {
    Prefix,
    Custom,
}

impl DomainKind {
    /// The name stored in the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            DomainKind::Prefix => "prefix",
            DomainKind::Custom => "custom",
        }
    }

    /// The kind a stored `kind` names.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "prefix" => Some(DomainKind::Prefix),
            "custom" => Some(DomainKind::Custom),
            _ => None,
        }
    }
}

/// A domain of a pool, as the API names it: the prefix alone (`myapp`) or the custom
/// host name (`auth.example.com`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PoolDomain {
    pub name: String,
    pub pool_id: String,
    pub kind: DomainKind,
    /// The custom domain's certificate (Cognito's `CustomDomainConfig.CertificateArn`),
    /// recorded and reported; cognate serves no TLS itself.
    pub certificate_arn: Option<String>,
    /// Cognito's `ManagedLoginVersion` (1 classic hosted UI, 2 managed login); both
    /// serve cognate's hosted pages.
    pub managed_login_version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}
