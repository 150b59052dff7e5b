//! Client authentication at the token and revocation endpoints (RFC 6749 §2.3.1):
//! HTTP Basic or `client_id`/`client_secret` in the body, never both. A public client
//! identifies itself with `client_id` alone and proves the grant with PKCE.

use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::params::Params;
use crate::clients::AppClient;
use crate::error::OAuthError;
use crate::state::Inner;

/// Credentials as presented.
pub(crate) struct Presented {
    pub(crate) client_id: String,
    pub(crate) secret: Option<String>,
}

fn presented(headers: &HeaderMap, form: &Params) -> Result<Presented, OAuthError> {
    let basic = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(value) => Some(parse_basic(value.to_str().ok()).ok_or_else(|| {
            OAuthError::invalid_client("the Authorization header is not valid Basic authentication")
        })?),
    };
    match (basic, form.get("client_id"), form.get("client_secret")) {
        // RFC 6749 §2.3: one method per request. A client-authentication failure, so
        // 401 with the Basic challenge.
        (Some(_), _, Some(_)) => Err(OAuthError::invalid_client(
            "use one client authentication method, not both",
        )),
        (Some(b), Some(id), None) if id != b.client_id => Err(OAuthError::invalid_client(
            "client_id does not match the credentials",
        )),
        (Some(b), _, None) => Ok(b),
        (None, Some(id), secret) => Ok(Presented {
            client_id: id.to_string(),
            secret: secret.map(str::to_string),
        }),
        (None, None, _) => Err(OAuthError::invalid_client(
            "client authentication is required",
        )),
    }
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))`.
pub(crate) fn parse_basic(value: Option<&str>) -> Option<Presented> {
    let encoded = value?.strip_prefix("Basic ")?.trim();
    let decoded = String::from_utf8(STANDARD.decode(encoded).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8()
            .ok()
            .map(|c| c.into_owned())
    };
    Some(Presented {
        client_id: decode(id)?,
        secret: Some(decode(secret)?),
    })
}

/// Authenticates the calling client of `pool_id`; every failure is `invalid_client`
/// (401) with the same description, so it does not tell which part was wrong.
pub async fn authenticate(
    app: &Inner,
    pool_id: &str,
    headers: &HeaderMap,
    form: &Params,
) -> Result<AppClient, OAuthError> {
    let p = presented(headers, form)?;
    let refused = || OAuthError::invalid_client("client authentication failed");
    let client = app
        .store
        .client_by_id(pool_id, &p.client_id)
        .await?
        .ok_or_else(refused)?;
    let ok = match (&p.secret, client.is_public()) {
        (Some(secret), false) => client.verify_secret(secret),
        (None, true) => true,
        _ => false,
    };
    if ok { Ok(client) } else { Err(refused()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_url_decoded() {
        let header = format!("Basic {}", STANDARD.encode("my%20id:s%3Acret"));
        let p = parse_basic(Some(&header)).unwrap();
        assert_eq!(p.client_id, "my id");
        assert_eq!(p.secret.as_deref(), Some("s:cret"));
        assert!(parse_basic(Some("Basic !!!")).is_none());
        assert!(parse_basic(Some("Bearer abc")).is_none());
        assert!(parse_basic(Some(&format!("Basic {}", STANDARD.encode("nocolon")))).is_none());
    }
}
