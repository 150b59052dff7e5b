//! What the token endpoints share: client authentication (RFC 6749 §2.3.1),
//! redeeming a code (RFC 6749 §4.1.3 with PKCE, RFC 7636 §4.6) and reading a bearer
//! token (RFC 6750 §2.1). Each provider words the resulting errors its own way.

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use super::memory::{Grant, Memory, TOKEN_TTL, now};
use super::quirks::Quirk;
use super::{Inner, Provider};
use crate::error::OAuthError;
use crate::oauth::params::Params;
use crate::pkce;

/// Why a token request is refused, in RFC 6749 §5.2 terms.
#[derive(Debug)]
pub(super) enum Refusal {
    Request(String),
    Client(String),
    Grant(String),
    GrantType(String),
}

impl Refusal {
    pub fn message(&self) -> &str {
        match self {
            Refusal::Request(m)
            | Refusal::Client(m)
            | Refusal::Grant(m)
            | Refusal::GrantType(m) => m,
        }
    }
}

impl From<Refusal> for OAuthError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Request(m) => OAuthError::invalid_request(m),
            Refusal::Client(m) => OAuthError::invalid_client(m),
            Refusal::Grant(m) => OAuthError::invalid_grant(m),
            Refusal::GrantType(m) => OAuthError::unsupported_grant_type(m),
        }
    }
}

/// Parameters from the query and the form body together (Facebook takes either); a
/// parameter sent twice, even once in each, is refused.
pub(super) fn params(query: Option<&str>, body: &str) -> Result<Params, Refusal> {
    Params::parse(&format!("{}&{body}", query.unwrap_or_default())).map_err(Refusal::Request)
}

/// Requires `grant_type=authorization_code`, the only grant the stand-ins issue.
pub(super) fn require_code_grant(params: &Params) -> Result<(), Refusal> {
    match params.get("grant_type") {
        Some("authorization_code") => Ok(()),
        Some(_) => Err(Refusal::GrantType(
            "the stand-in supports grant_type=authorization_code only".into(),
        )),
        None => Err(Refusal::Request("grant_type is required".into())),
    }
}

/// The calling client's id, from HTTP Basic or `client_id`/`client_secret` in the
/// parameters (never both). Any non-empty secret is accepted: the stand-ins have no
/// client registry, but a relying party that forgets to send its secret must fail.
pub(super) fn authenticate(headers: &HeaderMap, params: &Params) -> Result<String, Refusal> {
    let basic = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(value) => Some(parse_basic(value.to_str().ok()).ok_or_else(|| {
            Refusal::Client("the Authorization header is not valid Basic authentication".into())
        })?),
    };
    let (id, secret) = match (basic, params.get("client_id"), params.get("client_secret")) {
        (Some(_), _, Some(_)) => {
            return Err(Refusal::Request(
                "use one client authentication method, not both".into(),
            ));
        }
        (Some((id, _)), Some(body_id), None) if body_id != id => {
            return Err(Refusal::Client(
                "client_id does not match the Basic credentials".into(),
            ));
        }
        (Some((id, secret)), _, None) => (id, secret),
        (None, Some(id), secret) => (id.to_string(), secret.unwrap_or_default().to_string()),
        (None, None, _) => {
            return Err(Refusal::Client("client authentication is required".into()));
        }
    };
    if id.is_empty() || secret.is_empty() {
        return Err(Refusal::Client(
            "a client_id and a non-empty client_secret are required".into(),
        ));
    }
    Ok(id)
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))`, as RFC 6749 §2.3.1 asks and
/// the `oauth2` crate sends.
fn parse_basic(value: Option<&str>) -> Option<(String, String)> {
    let encoded = value?.strip_prefix("Basic ")?.trim();
    let decoded = String::from_utf8(STANDARD.decode(encoded).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8()
            .ok()
            .map(|c| c.into_owned())
    };
    Some((decode(id)?, decode(secret)?))
}

/// Redeems the `code` of `params` for `client_id` at `provider`'s token endpoint:
/// the grant must be live, of this provider and client, for the same `redirect_uri`,
/// and proven with the PKCE verifier when it had a challenge.
pub(super) fn redeem(
    memory: &Memory,
    provider: Provider,
    params: &Params,
    client_id: &str,
) -> Result<Grant, Refusal> {
    let code = params
        .get("code")
        .ok_or_else(|| Refusal::Request("code is required".into()))?;
    let grant = memory
        .take_grant(code)
        .filter(|g| g.provider == provider)
        .ok_or_else(|| Refusal::Grant("the code is unknown, expired or already used".into()))?;
    if grant.client_id != client_id {
        return Err(Refusal::Grant(
            "the code was issued to another client".into(),
        ));
    }
    match params.get("redirect_uri") {
        None => return Err(Refusal::Request("redirect_uri is required".into())),
        Some(uri) if uri != grant.redirect_uri => {
            return Err(Refusal::Grant(
                "redirect_uri differs from the authorization request's".into(),
            ));
        }
        Some(_) => {}
    }
    match (&grant.code_challenge, params.get("code_verifier")) {
        (Some(challenge), Some(verifier)) if pkce::verify(challenge, verifier) => {}
        (Some(_), _) => {
            return Err(Refusal::Grant(
                "code_verifier does not match the code_challenge".into(),
            ));
        }
        // A verifier without a challenge means the challenge was lost or stripped
        // on the way (a PKCE downgrade), so it is refused rather than ignored.
        (None, Some(_)) => {
            return Err(Refusal::Grant(
                "code_verifier sent, but the authorization request had no code_challenge".into(),
            ));
        }
        (None, None) => {}
    }
    Ok(grant)
}

/// The token of `Authorization: Bearer …`, if any.
pub(super) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// A JSON response that caches must not keep (RFC 6749 §5.1).
pub(super) fn no_store(body: Value) -> Response {
    let mut res = Json(body).into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    res
}

/// Signs an ID token from `issuer` for `grant` over the subject and profile `claims`,
/// adding `iss`, `aud`, `iat`, `exp` and the nonce, with the grant's quirk applied.
pub(super) fn id_token(
    s: &Inner,
    issuer: String,
    grant: &Grant,
    mut claims: Map<String, Value>,
) -> String {
    let quirk = grant.quirk;
    let now = now();
    let (iat, exp) = match quirk {
        Some(Quirk::Expired) => (now - 7200, now - 7200),
        _ => (now, now + TOKEN_TTL),
    };
    let iss = match quirk {
        Some(Quirk::WrongIss) => format!("{}/evil", s.base),
        _ => issuer,
    };
    let aud = match quirk {
        Some(Quirk::WrongAud) => "someone-else",
        _ => grant.client_id.as_str(),
    };
    let nonce = match quirk {
        Some(Quirk::WrongNonce) => Some("not-the-nonce"),
        _ => grant.nonce.as_deref(),
    };
    claims.insert("iss".into(), iss.into());
    claims.insert("aud".into(), aud.into());
    claims.insert("iat".into(), iat.into());
    claims.insert("exp".into(), exp.into());
    if let Some(nonce) = nonce {
        claims.insert("nonce".into(), nonce.into());
    }
    s.keys
        .sign(&Value::Object(claims), quirk == Some(Quirk::BadSignature))
}
