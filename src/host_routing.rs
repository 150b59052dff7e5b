//! Serving a pool at its own host name, as Cognito serves a pool at its user pool
//! domain: a request whose `Host` names one of a pool's domains has its path rewritten
//! from `/oauth2/authorize` to `/<pool-id>/oauth2/authorize`, before routing, so the
//! pool's routes answer at the domain's root. `<public-url>/<pool-id>/…` keeps working
//! for every host, and a host no pool has changes nothing.
//!
//! `X-Forwarded-Host` counts only from a trusted proxy (`--trusted-proxies`, the rule
//! [`crate::client_addr`] applies to `X-Forwarded-For`), and then its last value, the
//! one the nearest proxy set. Anyone else's is ignored, so no client picks its pool.
//!
//! A rewritten request carries [`ThroughDomain`]; whatever the handlers write that
//! holds a URL (redirects, form actions, links, discovery) starts from its [`Base`],
//! so a browser stays on the host where its session cookie lives.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::uri::PathAndQuery;
use axum::http::{HeaderMap, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::state::{AppState, Inner};

/// Set on a request routed to a pool by its `Host`.
#[derive(Clone, Debug)]
pub struct ThroughDomain {
    pub pool_id: String,
    /// `scheme://host[:port]` of the domain, with the public URL's scheme and port.
    pub origin: String,
}

/// Where a pool's routes are, as one request reached them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Base {
    /// Prefix of the pool's routes: `<public-url>/<pool-id>`, or the domain's origin.
    pub pool: String,
    /// Prefix of the server's shared routes (`/static/cognate.css`): the public URL,
    /// or the domain's origin.
    pub site: String,
}

impl Base {
    /// The base of `pool_id`'s routes for a request that came `through` a domain, or
    /// not.
    pub fn of(app: &Inner, through: Option<&ThroughDomain>, pool_id: &str) -> Self {
        match through {
            Some(d) if d.pool_id == pool_id => Base {
                pool: d.origin.clone(),
                site: d.origin.clone(),
            },
            _ => Base {
                pool: app.hosts.path_base(pool_id),
                site: app.hosts.public_url().to_string(),
            },
        }
    }

    /// The origin (`scheme://host[:port]`) pages of this base are served from, as a
    /// browser's `Origin` header names it.
    pub fn origin(&self) -> String {
        url::Url::parse(&self.site)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default()
    }
}

/// The request's [`ThroughDomain`], if it was routed by `Host`.
pub struct Via(pub Option<ThroughDomain>);

impl Via {
    /// The base of `pool_id`'s routes for this request.
    pub fn base(&self, app: &Inner, pool_id: &str) -> Base {
        Base::of(app, self.0.as_ref(), pool_id)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Via {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Via(parts.extensions.get::<ThroughDomain>().cloned()))
    }
}

/// The middleware: wraps the whole router (it must run before routing).
pub async fn route_by_host(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    if !is_pool_path(req.uri().path()) {
        return next.run(req).await;
    }
    let Some(host) = requested_host(&req, &app) else {
        return next.run(req).await;
    };
    if host == app.hosts.public_host() {
        return next.run(req).await;
    }
    let pool_id = match app.hosts.pool_for_host(&app.store, &host).await {
        Ok(Some(pool_id)) => pool_id,
        Ok(None) => return next.run(req).await,
        Err(e) => return AppError::from(e).into_response(),
    };
    let Some(uri) = under_pool(req.uri(), &pool_id) else {
        return next.run(req).await;
    };
    *req.uri_mut() = uri;
    req.extensions_mut().insert(ThroughDomain {
        origin: app.hosts.origin(&host),
        pool_id,
    });
    next.run(req).await
}

/// Paths a domain serves for its pool: all but the Cognito API (`POST /`) and the
/// server's shared files, which every host serves as they are.
fn is_pool_path(path: &str) -> bool {
    path != "/" && !path.starts_with("/static/")
}

/// `uri` with its path moved under `/<pool_id>`, the query kept.
fn under_pool(uri: &Uri, pool_id: &str) -> Option<Uri> {
    let pq = uri.path_and_query().map_or("/", PathAndQuery::as_str);
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(format!("/{pool_id}{pq}").parse().ok()?);
    Uri::from_parts(parts).ok()
}

/// The host name a request asked for: a trusted proxy's `X-Forwarded-Host`, else
/// `Host` (else the request target's authority). Lower case, without port or final
/// dot; `None` for an IP literal or anything that is not a host name.
fn requested_host(req: &Request, app: &Inner) -> Option<String> {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let from_proxy =
        peer.is_some_and(|p| crate::client_addr::is_trusted_proxy(p, &app.config.trusted_proxies));
    let raw = match from_proxy.then(|| forwarded_host(req.headers())).flatten() {
        Some(forwarded) => forwarded,
        None => match req.headers().get(header::HOST) {
            Some(host) => host.to_str().ok()?.to_string(),
            None => req.uri().authority()?.as_str().to_string(),
        },
    };
    host_name(&raw)
}

/// The last `X-Forwarded-Host` value: the one the nearest (trusted) proxy set.
fn forwarded_host(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all("x-forwarded-host")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .rfind(|v| !v.is_empty())
        .map(str::to_string)
}

/// `Host: MyApp.Auth.Example.test.:9229` → `myapp.auth.example.test`.
fn host_name(raw: &str) -> Option<String> {
    if raw.starts_with('[') {
        return None;
    }
    let host = raw.split(':').next()?.trim_end_matches('.');
    let host = host.to_ascii_lowercase();
    crate::config::is_host_name(&host).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_normalised_and_ip_literals_are_not_hosts() {
        assert_eq!(
            host_name("MyApp.Auth.Example.test.:9229").as_deref(),
            Some("myapp.auth.example.test")
        );
        assert_eq!(host_name("localhost").as_deref(), Some("localhost"));
        assert_eq!(host_name("127.0.0.1:9229"), None);
        assert_eq!(host_name("[::1]:9229"), None);
        assert_eq!(host_name("evil.example/x"), None);
        assert_eq!(host_name(""), None);
    }

    #[test]
    fn the_nearest_proxys_forwarded_host_counts() {
        let mut h = HeaderMap::new();
        h.append("x-forwarded-host", "client-chosen.example".parse().unwrap());
        h.append("x-forwarded-host", "a.example, b.example".parse().unwrap());
        assert_eq!(forwarded_host(&h).as_deref(), Some("b.example"));
        assert_eq!(forwarded_host(&HeaderMap::new()), None);
    }

    #[test]
    fn pool_paths_move_under_the_pool_with_their_query() {
        let uri: Uri = "/oauth2/authorize?client_id=x&state=a%20b".parse().unwrap();
        assert_eq!(
            under_pool(&uri, "us-east-1_AbC").unwrap(),
            "/us-east-1_AbC/oauth2/authorize?client_id=x&state=a%20b"
        );
        assert!(!is_pool_path("/"));
        assert!(!is_pool_path("/static/cognate.css"));
        assert!(is_pool_path("/login"));
        assert!(is_pool_path("/.well-known/openid-configuration"));
    }
}
