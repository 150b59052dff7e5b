//! Which host names serve which pool (Cognito's user pool domains), and the URLs a pool
//! has because of them. One rule, [`Hosts::issuer`], names each pool's issuer:
//!
//! 1. with `--cognito-issuer`: `https://cognito-idp.<region>.amazonaws.com/<pool-id>`,
//!    Cognito's own, for apps that hard-code it;
//! 2. else the origin of the pool's custom domain, else of its prefix domain
//!    (`<prefix>.auth.<base>`), so the discovery document at the domain names the
//!    domain, as OpenID Connect Discovery §4.3 requires;
//! 3. else `<public-url>/<pool-id>`.
//!
//! A domain's origin takes the public URL's scheme and port (`http://myapp.auth.
//! example.test:9229` behind `http://127.0.0.1:9229`). Tokens verify against any of
//! the pool's names ([`Hosts::accepted_issuers`]): the rule's, the path form and each
//! served domain, so a token issued before a domain was added still verifies.
//!
//! The database is the truth: each instance caches what it read under the store's
//! [`Store::config_epoch`], which moves when this instance changes a domain and, within
//! the config check interval (`serve --config-check-ms`), when any other writer does.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::model::domains::{DomainKind, PoolDomain};
use crate::store::{Store, StoreError};

/// Host names remembered at most; requests naming random hosts cannot grow the cache
/// beyond this (it is emptied instead).
const MAX_CACHED_HOSTS: usize = 10_000;

/// The label between a prefix and the base domain: `<prefix>.auth.<base>`, as
/// Cognito's `<prefix>.auth.<region>.amazoncognito.com`.
const PREFIX_LABEL: &str = "auth";

struct Cached<T> {
    value: T,
    /// The store's config epoch the value was read under.
    epoch: u64,
}

/// Host names and pools, and the URL rules that follow from them.
pub struct Hosts {
    /// The public URL without a trailing slash.
    public_url: String,
    /// The public URL's scheme and explicit port, which every domain origin shares.
    scheme: String,
    port: Option<u16>,
    /// The public URL's host, lower case: never looked up as a domain.
    public_host: String,
    /// The base domain of prefix domains (`--domain-base`).
    base: Option<String>,
    cognito_issuer: bool,
    by_host: RwLock<HashMap<String, Cached<Option<String>>>>,
    by_pool: RwLock<HashMap<String, Cached<Arc<[PoolDomain]>>>>,
}

impl Hosts {
    /// The same rules with empty caches.
    pub fn with_empty_cache(&self) -> Self {
        Self::new(&self.public_url, self.base.as_deref(), self.cognito_issuer)
    }

    /// The rules for a server at `public_url` (an absolute http(s) URL, as
    /// [`crate::config::Config`] checks) with prefix domains under `base`.
    pub fn new(public_url: &str, base: Option<&str>, cognito_issuer: bool) -> Self {
        let public_url = public_url.trim_end_matches('/').to_string();
        let parsed = url::Url::parse(&public_url).ok();
        Self {
            scheme: parsed.as_ref().map_or("http", |u| u.scheme()).to_string(),
            port: parsed.as_ref().and_then(url::Url::port),
            public_host: parsed
                .as_ref()
                .and_then(|u| u.host_str())
                .unwrap_or_default()
                .to_ascii_lowercase(),
            public_url,
            base: base.map(str::to_string),
            cognito_issuer,
            by_host: RwLock::default(),
            by_pool: RwLock::default(),
        }
    }

    /// The public URL's host name (never a pool's domain).
    pub fn public_host(&self) -> &str {
        &self.public_host
    }

    /// The base domain of prefix domains, if one is configured.
    pub fn base(&self) -> Option<&str> {
        self.base.as_deref()
    }

    /// The host a domain is served at: a custom domain's name, or `<prefix>.auth.<base>`;
    /// `None` for a prefix domain when no base domain is configured.
    pub fn host_of(&self, d: &PoolDomain) -> Option<String> {
        match d.kind {
            DomainKind::Custom => Some(d.name.clone()),
            DomainKind::Prefix => self
                .base
                .as_ref()
                .map(|base| format!("{}.{PREFIX_LABEL}.{base}", d.name)),
        }
    }

    /// Whether `host` is where prefix domains live (`*.auth.<base>`), so a custom
    /// domain may not take it.
    pub fn is_under_prefix_space(&self, host: &str) -> bool {
        self.base
            .as_ref()
            .is_some_and(|base| host.ends_with(&format!(".{PREFIX_LABEL}.{base}")))
    }

    /// `scheme://host[:port]`, with the public URL's scheme and port.
    pub fn origin(&self, host: &str) -> String {
        match self.port {
            Some(port) => format!("{}://{host}:{port}", self.scheme),
            None => format!("{}://{host}", self.scheme),
        }
    }

    /// `<public-url>/<pool-id>`: where every pool's routes are, domain or not.
    pub fn path_base(&self, pool_id: &str) -> String {
        format!("{}/{pool_id}", self.public_url)
    }

    /// The public URL, under which the server's own routes (`/static/…`) are.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The pool's issuer (the module's rule), given its domains.
    pub fn issuer(&self, pool_id: &str, domains: &[PoolDomain]) -> String {
        if self.cognito_issuer {
            return cognito_issuer(pool_id);
        }
        self.preferred_domain(domains)
            .map(|host| self.origin(&host))
            .unwrap_or_else(|| self.path_base(pool_id))
    }

    /// Every issuer a token of the pool may name: the rule's, the path form, and the
    /// origin of each served domain.
    pub fn accepted_issuers(&self, pool_id: &str, domains: &[PoolDomain]) -> Vec<String> {
        let served = domains.iter().filter_map(|d| self.host_of(d));
        let names = [self.issuer(pool_id, domains), self.path_base(pool_id)]
            .into_iter()
            .chain(served.map(|host| self.origin(&host)));
        let mut all: Vec<String> = Vec::new();
        for name in names {
            if !all.contains(&name) {
                all.push(name);
            }
        }
        all
    }

    /// The served host of the custom domain, else of the prefix domain.
    fn preferred_domain(&self, domains: &[PoolDomain]) -> Option<String> {
        let of_kind = |kind| {
            domains
                .iter()
                .filter(move |d| d.kind == kind)
                .find_map(|d| self.host_of(d))
        };
        of_kind(DomainKind::Custom).or_else(|| of_kind(DomainKind::Prefix))
    }

    /// A pool's domains, from the cache or the store.
    pub async fn domains(
        &self,
        store: &Store,
        pool_id: &str,
    ) -> Result<Arc<[PoolDomain]>, StoreError> {
        let epoch = store.config_epoch().await?;
        if let Some(c) = self.by_pool.read().expect("domain cache lock").get(pool_id)
            && c.epoch == epoch
        {
            return Ok(c.value.clone());
        }
        let domains: Arc<[PoolDomain]> = store.domains_of_pool(pool_id).await?.into();
        let mut cache = self.by_pool.write().expect("domain cache lock");
        if cache.len() >= MAX_CACHED_HOSTS {
            cache.clear();
        }
        cache.insert(
            pool_id.to_string(),
            Cached {
                value: domains.clone(),
                epoch,
            },
        );
        Ok(domains)
    }

    /// The pool served at `host` (lower case, without a port), if any.
    pub async fn pool_for_host(
        &self,
        store: &Store,
        host: &str,
    ) -> Result<Option<String>, StoreError> {
        let epoch = store.config_epoch().await?;
        if let Some(c) = self.by_host.read().expect("domain cache lock").get(host)
            && c.epoch == epoch
        {
            return Ok(c.value.clone());
        }
        let pool_id = self.lookup(store, host).await?;
        let mut cache = self.by_host.write().expect("domain cache lock");
        if cache.len() >= MAX_CACHED_HOSTS {
            cache.clear();
        }
        cache.insert(
            host.to_string(),
            Cached {
                value: pool_id.clone(),
                epoch,
            },
        );
        Ok(pool_id)
    }

    async fn lookup(&self, store: &Store, host: &str) -> Result<Option<String>, StoreError> {
        let prefix = self.base.as_ref().and_then(|base| {
            host.strip_suffix(&format!(".{PREFIX_LABEL}.{base}"))
                .filter(|p| !p.contains('.'))
        });
        let (name, kind) = match prefix {
            Some(prefix) => (prefix, DomainKind::Prefix),
            // A custom domain has a dot; anything else would cost a query for nothing.
            None if host.contains('.') => (host, DomainKind::Custom),
            None => return Ok(None),
        };
        Ok(store
            .domain_by_name(name)
            .await?
            .filter(|d| d.kind == kind)
            .map(|d| d.pool_id))
    }

    /// The pool id an issuer names, if it is one of the forms [`Hosts::issuer`] makes
    /// (a candidate: the caller checks the id and verifies the token against the
    /// pool's accepted issuers).
    pub async fn pool_of_issuer(
        &self,
        store: &Store,
        issuer: &str,
    ) -> Result<Option<String>, StoreError> {
        if let Some(pool_id) = issuer.strip_prefix(&format!("{}/", self.public_url)) {
            return Ok(Some(pool_id.to_string()));
        }
        if self.cognito_issuer
            && let Some((_, pool_id)) = issuer
                .strip_prefix("https://cognito-idp.")
                .and_then(|rest| rest.split_once(".amazonaws.com/"))
        {
            return Ok(Some(pool_id.to_string()));
        }
        let Some(host) = url::Url::parse(issuer)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        else {
            return Ok(None);
        };
        if self.origin(&host) != issuer || host == self.public_host {
            return Ok(None);
        }
        self.pool_for_host(store, &host).await
    }
}

/// Cognito's issuer for a pool: `https://cognito-idp.<region>.amazonaws.com/<pool-id>`,
/// the region read from the id (`us-east-1_AbC…`).
pub fn cognito_issuer(pool_id: &str) -> String {
    let region = pool_id.split_once('_').map_or("us-east-1", |(r, _)| r);
    format!("https://cognito-idp.{region}.amazonaws.com/{pool_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain(name: &str, kind: DomainKind) -> PoolDomain {
        PoolDomain {
            name: name.into(),
            pool_id: "eu-west-1_AbC".into(),
            kind,
            certificate_arn: None,
            managed_login_version: 1,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn the_issuer_is_the_custom_domain_then_the_prefix_domain_then_the_path() {
        let hosts = Hosts::new("http://127.0.0.1:9229/", Some("example.test"), false);
        let pool = "eu-west-1_AbC";
        assert_eq!(
            hosts.issuer(pool, &[]),
            "http://127.0.0.1:9229/eu-west-1_AbC"
        );
        let prefix = domain("myapp", DomainKind::Prefix);
        let custom = domain("login.example.org", DomainKind::Custom);
        assert_eq!(
            hosts.issuer(pool, std::slice::from_ref(&prefix)),
            "http://myapp.auth.example.test:9229"
        );
        let both = [prefix, custom];
        assert_eq!(hosts.issuer(pool, &both), "http://login.example.org:9229");
        assert_eq!(
            hosts.accepted_issuers(pool, &both),
            [
                "http://login.example.org:9229",
                "http://127.0.0.1:9229/eu-west-1_AbC",
                "http://myapp.auth.example.test:9229",
            ]
        );
    }

    #[test]
    fn a_prefix_domain_without_a_base_is_not_served_and_changes_nothing() {
        let hosts = Hosts::new("https://id.example.com", None, false);
        let prefix = [domain("myapp", DomainKind::Prefix)];
        assert_eq!(hosts.host_of(&prefix[0]), None);
        assert_eq!(
            hosts.issuer("eu-west-1_AbC", &prefix),
            "https://id.example.com/eu-west-1_AbC"
        );
    }

    #[test]
    fn the_cognito_issuer_wins_when_the_operator_opts_in() {
        let hosts = Hosts::new("https://id.example.com", Some("example.com"), true);
        let prefix = [domain("myapp", DomainKind::Prefix)];
        assert_eq!(
            hosts.issuer("eu-west-1_AbC", &prefix),
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC"
        );
        // The domain's origin has no explicit port behind a default-port public URL.
        assert_eq!(
            hosts.accepted_issuers("eu-west-1_AbC", &prefix)[2],
            "https://myapp.auth.example.com"
        );
        assert!(hosts.is_under_prefix_space("x.auth.example.com"));
        assert!(!hosts.is_under_prefix_space("auth.example.com"));
    }
}
