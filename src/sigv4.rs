//! AWS Signature Version 4 verification (`Authorization: AWS4-HMAC-SHA256 ...` header form)
//! for admin callers of the Cognito JSON API, such as boto3 and the AWS CLI, and
//! signing of cognate's own calls to AWS (Lambda triggers) by [`Signer`].
//!
//! Implements the "Create a signed AWS API request" steps of the AWS IAM user guide
//! (canonical request, string to sign, derived signing key) in reverse: rebuild what the
//! client signed from the client's own `SignedHeaders` list and compare in constant time.
//! Written by hand because `aws-sigv4` only signs; it is the reference signer in the tests.

use hmac::{Hmac, Mac};
use http::HeaderMap;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::api_keys::ApiKeys;

type HmacSha256 = Hmac<Sha256>;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const TERMINATOR: &str = "aws4_request";
/// Bounds on what a client may send; real headers are a few hundred bytes.
const MAX_AUTHORIZATION_LEN: usize = 4096;
const MAX_SIGNED_HEADERS: usize = 64;
const MAX_HEADER_NAME_LEN: usize = 128;
const MAX_SCOPE_PART_LEN: usize = 64;

/// RFC 3986 unreserved characters stay as they are; AWS encodes everything else.
const AWS_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// The same for paths, where `/` separates segments.
const AWS_ENCODE_PATH: &AsciiSet = &AWS_ENCODE.remove(b'/');

/// Checks SigV4-signed requests against the configured keys.
#[derive(Debug)]
pub struct Verifier {
    /// Accepted access keys.
    pub keys: ApiKeys,
    /// The service name the credential scope must carry: "cognito-idp".
    pub service: String,
    /// Regions the credential scope may name; `None` accepts any.
    pub regions: Option<Vec<String>>,
    /// Largest accepted distance in seconds between `X-Amz-Date` and the server clock.
    pub max_skew: i64,
}

/// Who signed a verified request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The access key id from the credential scope.
    pub access_key_id: String,
    /// The region from the credential scope.
    pub region: String,
}

/// Why a request is not authenticated. Messages never contain a secret or a signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    /// No `Authorization` header.
    #[error("missing authentication token")]
    Missing,
    /// The `Authorization` or `X-Amz-Date` header cannot be parsed, or lacks a part.
    #[error("incomplete signature: {0}")]
    Malformed(&'static str),
    /// The access key id is not configured.
    #[error("unknown access key id")]
    UnknownKey,
    /// `X-Amz-Date` is further than `max_skew` from the server clock.
    #[error("signature expired")]
    Expired,
    /// The credential scope names another date, service or region, or a bad terminator.
    #[error("wrong credential scope: {0}")]
    WrongScope(&'static str),
    /// The signature does not match the request.
    #[error("signature mismatch")]
    Mismatch,
}

impl SigV4Error {
    /// The AWS error type and message: Missing -> ("MissingAuthenticationTokenException", "Missing Authentication Token"), Malformed -> ("IncompleteSignatureException", ...), UnknownKey -> ("UnrecognizedClientException", "The security token included in the request is invalid."), Expired -> ("InvalidSignatureException", "Signature expired: ..."), WrongScope -> ("InvalidSignatureException", ...), Mismatch -> ("InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
    pub fn aws_error(&self) -> (&'static str, String) {
        match self {
            SigV4Error::Missing => (
                "MissingAuthenticationTokenException",
                "Missing Authentication Token".to_owned(),
            ),
            SigV4Error::Malformed(why) => ("IncompleteSignatureException", (*why).to_owned()),
            SigV4Error::UnknownKey => (
                "UnrecognizedClientException",
                "The security token included in the request is invalid.".to_owned(),
            ),
            SigV4Error::Expired => (
                "InvalidSignatureException",
                "Signature expired: X-Amz-Date is too far from the server time; \
                 check the client clock."
                    .to_owned(),
            ),
            SigV4Error::WrongScope(why) => ("InvalidSignatureException", (*why).to_owned()),
            SigV4Error::Mismatch => (
                "InvalidSignatureException",
                "The request signature we calculated does not match the signature you \
                 provided. Check your AWS Secret Access Key and signing method."
                    .to_owned(),
            ),
        }
    }
}

impl Verifier {
    /// A verifier for service "cognito-idp" in any region, with a 300 s clock skew.
    pub fn new(keys: ApiKeys) -> Self {
        Verifier {
            keys,
            service: "cognito-idp".to_owned(),
            regions: None,
            max_skew: 300,
        }
    }

    /// Verifies an `Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/cognito-idp/aws4_request, SignedHeaders=..., Signature=...` request.
    ///
    /// `path` is the path as sent (still percent-encoded), `query` the raw query without
    /// `?`, and `now` the server clock in epoch seconds. Checks run cheapest first:
    /// header syntax, scope, date and skew, key, then the signature itself.
    pub fn verify(
        &self,
        method: &str,
        path: &str,
        query: &str,
        headers: &HeaderMap,
        body: &[u8],
        now: i64,
    ) -> Result<Caller, SigV4Error> {
        let mut values = headers.get_all(http::header::AUTHORIZATION).iter();
        let value = values.next().ok_or(SigV4Error::Missing)?;
        if values.next().is_some() {
            return Err(SigV4Error::Malformed(
                "Only one Authorization header is allowed.",
            ));
        }
        let value = value.to_str().map_err(|_| {
            SigV4Error::Malformed("The Authorization header must be visible ASCII.")
        })?;
        let auth = Authorization::parse(value)?;

        if auth.service != self.service {
            return Err(SigV4Error::WrongScope(
                "Credential should be scoped to correct service.",
            ));
        }
        if let Some(regions) = &self.regions
            && !regions.iter().any(|r| r == auth.region)
        {
            return Err(SigV4Error::WrongScope(
                "Credential should be scoped to a valid region.",
            ));
        }
        if auth.terminator != TERMINATOR {
            return Err(SigV4Error::WrongScope(
                "Credential should be scoped with a valid terminator: 'aws4_request'.",
            ));
        }

        let amz_date = single_header(headers, "x-amz-date")?.ok_or(SigV4Error::Malformed(
            "Authorization header requires existence of a 'X-Amz-Date' header.",
        ))?;
        let signed_at = parse_amz_date(amz_date).ok_or(SigV4Error::Malformed(
            "X-Amz-Date must have the form YYYYMMDD'T'HHMMSS'Z'.",
        ))?;
        if amz_date.as_bytes()[..8] != *auth.date.as_bytes() {
            return Err(SigV4Error::WrongScope(
                "Date in Credential scope does not match YYYYMMDD from X-Amz-Date.",
            ));
        }
        // abs_diff cannot overflow, whatever `now` the caller passes.
        if signed_at.abs_diff(now) > self.max_skew.max(0).unsigned_abs() {
            return Err(SigV4Error::Expired);
        }
        if !auth.signed_headers.contains(&"host") {
            return Err(SigV4Error::Malformed(
                "'Host' must be a 'SignedHeader' in the AWS Authorization.",
            ));
        }
        // The headers that choose what happens must be signed whenever they are sent
        // (every SDK signs them): an unsigned X-Amz-Target could be swapped in transit,
        // turning a signed AdminEnableUser into AdminDisableUser with the same body.
        for (name, why) in [
            (
                "x-amz-date",
                "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.",
            ),
            (
                "x-amz-target",
                "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization.",
            ),
            (
                "content-type",
                "'Content-Type' must be a 'SignedHeader' in the AWS Authorization.",
            ),
        ] {
            if headers.contains_key(name) && !auth.signed_headers.contains(&name) {
                return Err(SigV4Error::Malformed(why));
            }
        }

        let secret = self
            .keys
            .secret_for(auth.access_key_id)
            .ok_or(SigV4Error::UnknownKey)?;

        // The payload hash is always computed from the body. A client that also sends
        // x-amz-content-sha256 must send that same hash: trusting the header alone
        // would leave the body unauthenticated (UNSIGNED-PAYLOAD is refused this way).
        let body_hash = hex::encode(Sha256::digest(body));
        let payload_hash = match single_header(headers, "x-amz-content-sha256")? {
            Some(claimed) if claimed.eq_ignore_ascii_case(&body_hash) => claimed,
            Some(_) => return Err(SigV4Error::Mismatch),
            None => &body_hash,
        };

        let canonical = canonical_request(
            method,
            path,
            query,
            headers,
            &auth.signed_headers,
            auth.signed_headers_raw,
            payload_hash,
        )?;
        let scope = format!(
            "{}/{}/{}/{TERMINATOR}",
            auth.date, auth.region, auth.service
        );
        let string_to_sign = format!(
            "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
            hex::encode(Sha256::digest(&canonical))
        );
        let key = signing_key(secret, auth.date, auth.region, auth.service);
        let expected = hmac(&key, string_to_sign.as_bytes());
        if !bool::from(expected.ct_eq(&auth.signature)) {
            return Err(SigV4Error::Mismatch);
        }
        Ok(Caller {
            access_key_id: auth.access_key_id.to_owned(),
            region: auth.region.to_owned(),
        })
    }
}

/// The parts of an `Authorization: AWS4-HMAC-SHA256 ...` header.
pub(crate) struct Authorization<'a> {
    pub(crate) access_key_id: &'a str,
    pub(crate) date: &'a str,
    pub(crate) region: &'a str,
    pub(crate) service: &'a str,
    pub(crate) terminator: &'a str,
    /// Lower-case, strictly ascending.
    pub(crate) signed_headers: Vec<&'a str>,
    pub(crate) signed_headers_raw: &'a str,
    pub(crate) signature: [u8; 32],
}

impl<'a> Authorization<'a> {
    /// Parses `AWS4-HMAC-SHA256 Credential=.., SignedHeaders=.., Signature=..` (parameters
    /// in any order, separated by commas and optional spaces, each exactly once).
    pub(crate) fn parse(value: &'a str) -> Result<Self, SigV4Error> {
        use SigV4Error::Malformed;
        if value.len() > MAX_AUTHORIZATION_LEN {
            return Err(Malformed("The Authorization header is too long."));
        }
        let params = value
            .strip_prefix(ALGORITHM)
            .and_then(|rest| rest.strip_prefix(' '))
            .ok_or(Malformed(
                "Unsupported Authorization scheme: expected AWS4-HMAC-SHA256.",
            ))?;

        let (mut credential, mut signed, mut signature) = (None, None, None);
        for param in params.split(',') {
            let param = param.trim_matches(' ');
            let (name, value) = param.split_once('=').ok_or(Malformed(
                "Authorization header parameters must be Name=Value pairs.",
            ))?;
            let slot = match name {
                "Credential" => &mut credential,
                "SignedHeaders" => &mut signed,
                "Signature" => &mut signature,
                _ => return Err(Malformed("Unknown parameter in the Authorization header.")),
            };
            if slot.replace(value).is_some() {
                return Err(Malformed("Repeated parameter in the Authorization header."));
            }
        }
        let credential = credential.ok_or(Malformed(
            "Authorization header requires 'Credential' parameter.",
        ))?;
        let signed = signed.ok_or(Malformed(
            "Authorization header requires 'SignedHeaders' parameter.",
        ))?;
        let signature = signature.ok_or(Malformed(
            "Authorization header requires 'Signature' parameter.",
        ))?;

        let mut parts = credential.split('/');
        let (Some(access_key_id), Some(date), Some(region), Some(service), Some(terminator), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(Malformed(
                "Credential must have the form AKID/YYYYMMDD/region/service/aws4_request.",
            ));
        };
        if !crate::api_keys::is_access_key_id(access_key_id) {
            return Err(Malformed("Credential has an invalid access key id."));
        }
        if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Malformed("Credential date must have the form YYYYMMDD."));
        }
        if !is_scope_part(region) || !is_scope_part(service) || !is_scope_part(terminator) {
            return Err(Malformed(
                "Credential scope has an invalid region, service or terminator.",
            ));
        }

        let signed_headers: Vec<&str> = signed.split(';').collect();
        if signed_headers.len() > MAX_SIGNED_HEADERS {
            return Err(Malformed("SignedHeaders lists too many headers."));
        }
        if !signed_headers.iter().all(|h| is_signed_header_name(h)) {
            return Err(Malformed(
                "SignedHeaders must be lower-case header names separated by ';'.",
            ));
        }
        // Clients sort the list; requiring it keeps one canonical form per request.
        if !signed_headers.windows(2).all(|w| w[0] < w[1]) {
            return Err(Malformed(
                "SignedHeaders must be sorted and without repeats.",
            ));
        }

        let mut sig = [0u8; 32];
        if signature.len() != 64 || hex::decode_to_slice(signature, &mut sig).is_err() {
            return Err(Malformed("Signature must be 64 hexadecimal digits."));
        }

        Ok(Authorization {
            access_key_id,
            date,
            region,
            service,
            terminator,
            signed_headers,
            signed_headers_raw: signed,
            signature: sig,
        })
    }
}

/// Region, service and terminator: `us-east-1`, `cognito-idp`, `aws4_request`.
fn is_scope_part(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_SCOPE_PART_LEN
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// A lower-case RFC 9110 token.
fn is_signed_header_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_HEADER_NAME_LEN
        && s.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#$%&'*+-.^_`|~".contains(&b)
        })
}

/// The value of a header that may appear at most once, as text.
fn single_header<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, SigV4Error> {
    let mut values = headers.get_all(name).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(SigV4Error::Malformed(
            "X-Amz-Date and X-Amz-Content-Sha256 may appear only once.",
        ));
    }
    value
        .to_str()
        .map(Some)
        .map_err(|_| SigV4Error::Malformed("X-Amz-Date and X-Amz-Content-Sha256 must be ASCII."))
}

/// `YYYYMMDD'T'HHMMSS'Z'` as epoch seconds, or `None` if it is not exactly that.
fn parse_amz_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |acc, &d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
    };
    let year = i32::try_from(digits(0..4)?).ok()?;
    let month = time::Month::try_from(u8::try_from(digits(4..6)?).ok()?).ok()?;
    let day = u8::try_from(digits(6..8)?).ok()?;
    let hour = u8::try_from(digits(9..11)?).ok()?;
    let minute = u8::try_from(digits(11..13)?).ok()?;
    let second = u8::try_from(digits(13..15)?).ok()?;
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    let time = time::Time::from_hms(hour, minute, second).ok()?;
    Some(
        time::PrimitiveDateTime::new(date, time)
            .assume_utc()
            .unix_timestamp(),
    )
}

/// The canonical request (AWS IAM user guide, "Create a canonical request"):
/// method, URI, query, signed headers with their values, the header list, payload hash.
fn canonical_request(
    method: &str,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    signed_headers: &[&str],
    signed_headers_raw: &str,
    payload_hash: &str,
) -> Result<Vec<u8>, SigV4Error> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(method.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_uri(path).as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_query(query).as_bytes());
    out.push(b'\n');
    for name in signed_headers {
        let mut values = headers.get_all(*name).iter().peekable();
        if values.peek().is_none() {
            return Err(SigV4Error::Malformed(
                "A header listed in SignedHeaders is missing from the request.",
            ));
        }
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        // Repeated headers are joined with ',' in the order received, as the signers do.
        for (i, value) in values.enumerate() {
            if i > 0 {
                out.push(b',');
            }
            push_trimmed(&mut out, value.as_bytes());
        }
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(signed_headers_raw.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(payload_hash.as_bytes());
    Ok(out)
}

/// Appends `value` without leading and trailing spaces and with each run of inner spaces
/// folded to one, as the AWS docs and aws-sigv4 do (spaces only, not tabs).
fn push_trimmed(out: &mut Vec<u8>, value: &[u8]) {
    let mut after_space = false;
    let mut started = false;
    for &b in value {
        if b == b' ' {
            after_space = started;
            continue;
        }
        if after_space {
            out.push(b' ');
            after_space = false;
        }
        out.push(b);
        started = true;
    }
}

/// The canonical URI for every service but S3: the path as sent, with `.`/`..` segments
/// and empty segments removed, then URI-encoded once more (so `%20` becomes `%2520`).
/// This is what botocore and aws-sigv4 sign; for Cognito the path is always `/`.
fn canonical_uri(path: &str) -> String {
    let normalized = normalize_path(path);
    percent_encoding::percent_encode(normalized.as_bytes(), AWS_ENCODE_PATH).to_string()
}

/// RFC 3986 §5.2.4 dot-segment removal, as aws-sigv4's `normalize_uri_path` does it
/// (empty segments are dropped too; a trailing slash is kept).
fn normalize_path(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    let absolute = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    if !absolute.contains('.') && !absolute.contains("//") {
        return absolute;
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in absolute.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    let mut out = format!("/{}", segments.join("/"));
    let trailing = ["/", "/.", "/./", "/..", "/../"]
        .iter()
        .any(|end| absolute.ends_with(end));
    if trailing && !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// The canonical query: parameters decoded (`+` is a space, as aws-sigv4 reads it),
/// re-encoded the AWS way (`%20`, upper-case hex), sorted by name then value.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(name, value)| {
            (
                percent_encoding::utf8_percent_encode(&name, AWS_ENCODE).to_string(),
                percent_encoding::utf8_percent_encode(&value, AWS_ENCODE).to_string(),
            )
        })
        .collect();
    pairs.sort();
    let mut out = String::with_capacity(query.len() + 8);
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// `AWS4`+secret -> date -> region -> service -> `aws4_request`.
fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_secret = format!("AWS4{secret}");
    let k_date = hmac(k_secret.as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, TERMINATOR.as_bytes())
}

/// Signs requests cognate itself sends to AWS, with aws-sigv4 (the AWS SDK for Rust's
/// signer).
pub struct Signer<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub session_token: Option<&'a str>,
    pub region: &'a str,
    /// The signing name, e.g. `lambda`.
    pub service: &'a str,
}

impl Signer<'_> {
    /// The headers to add to a `POST` of `body` to `url` carrying `headers`, signed
    /// at `at` (epoch seconds): `authorization`, `x-amz-date` and, with a session
    /// token, `x-amz-security-token`.
    pub fn sign_post(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        at: i64,
    ) -> Result<Vec<(String, String)>, String> {
        use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
        let identity = aws_credential_types::Credentials::new(
            self.access_key_id,
            self.secret_access_key,
            self.session_token.map(str::to_string),
            None,
            "cognate",
        )
        .into();
        let time = std::time::UNIX_EPOCH
            + std::time::Duration::from_secs(u64::try_from(at).map_err(|e| e.to_string())?);
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(self.region)
            .name(self.service)
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| e.to_string())?
            .into();
        let request = SignableRequest::new(
            "POST",
            url,
            headers.iter().copied(),
            SignableBody::Bytes(body),
        )
        .map_err(|e| e.to_string())?;
        let (instructions, _) = sign(request, &params)
            .map_err(|e| e.to_string())?
            .into_parts();
        Ok(instructions
            .headers()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect())
    }
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use aws_credential_types::Credentials;
    use aws_sigv4::http_request::{
        PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign,
    };
    use aws_sigv4::sign::v4;
    use http::{HeaderValue, Uri};
    use proptest::prelude::*;

    use super::*;

    const AKID: &str = "AKIDCOGNATETEST";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    /// 2026-01-01T12:00:00Z
    const NOW: i64 = 1_767_268_800;
    const BODY: &[u8] = br#"{"UserPoolId":"us-east-1_abc","Username":"alice"}"#;

    fn verifier() -> Verifier {
        Verifier::new(ApiKeys::parse(&format!("{AKID}:{SECRET},AKIDOTHER:othersecret")).unwrap())
    }

    /// What the reference signer is asked to sign.
    struct Signing<'a> {
        access_key_id: &'a str,
        secret: &'a str,
        at: i64,
        region: &'a str,
        service: &'a str,
        path_and_query: &'a str,
        headers: Vec<(&'a str, &'a str)>,
        body: &'a [u8],
        content_sha256: bool,
    }

    impl Default for Signing<'_> {
        fn default() -> Self {
            Signing {
                access_key_id: AKID,
                secret: SECRET,
                at: NOW,
                region: "us-east-1",
                service: "cognito-idp",
                path_and_query: "/",
                headers: vec![
                    ("host", "127.0.0.1:9229"),
                    ("content-type", "application/x-amz-json-1.1"),
                    (
                        "x-amz-target",
                        "AWSCognitoIdentityProviderService.AdminGetUser",
                    ),
                ],
                body: BODY,
                content_sha256: false,
            }
        }
    }

    /// A request as the server sees it.
    struct Signed {
        path: String,
        query: String,
        headers: HeaderMap,
        body: Vec<u8>,
    }

    impl Signed {
        fn verify_with(&self, verifier: &Verifier, now: i64) -> Result<Caller, SigV4Error> {
            verifier.verify(
                "POST",
                &self.path,
                &self.query,
                &self.headers,
                &self.body,
                now,
            )
        }

        fn verify(&self) -> Result<Caller, SigV4Error> {
            self.verify_with(&verifier(), NOW)
        }

        fn authorization(&self) -> String {
            self.headers["authorization"].to_str().unwrap().to_owned()
        }

        fn set(&mut self, name: &'static str, value: &str) {
            self.headers
                .insert(name, HeaderValue::from_str(value).unwrap());
        }
    }

    /// Signs with aws-sigv4, the signer of the AWS SDK for Rust.
    fn sign_request(s: Signing<'_>) -> Signed {
        let identity = Credentials::new(s.access_key_id, s.secret, None, None, "test").into();
        let mut settings = SigningSettings::default();
        if s.content_sha256 {
            settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        }
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(s.region)
            .name(s.service)
            .time(UNIX_EPOCH + Duration::from_secs(u64::try_from(s.at).unwrap()))
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let uri = format!("http://127.0.0.1:9229{}", s.path_and_query);
        let signable = SignableRequest::new(
            "POST",
            &uri,
            s.headers.iter().copied(),
            SignableBody::Bytes(s.body),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        let mut request = http::Request::builder().method("POST").uri(&uri);
        for (name, value) in &s.headers {
            request = request.header(*name, *value);
        }
        let mut request = request.body(()).unwrap();
        instructions.apply_to_request_http1x(&mut request);
        let uri: Uri = uri.parse().unwrap();
        Signed {
            path: uri.path().to_owned(),
            query: uri.query().unwrap_or("").to_owned(),
            headers: request.headers().clone(),
            body: s.body.to_vec(),
        }
    }

    fn signed() -> Signed {
        sign_request(Signing::default())
    }

    // --- accepted ---

    // Matrix: SV-06
    #[test]
    fn a_request_signed_by_aws_sigv4_verifies() {
        // Arrange
        let request = signed();
        // Act
        let caller = request.verify();
        // Assert
        assert_eq!(
            caller,
            Ok(Caller {
                access_key_id: AKID.to_owned(),
                region: "us-east-1".to_owned()
            })
        );
        assert!(
            request
                .authorization()
                .contains("SignedHeaders=content-type;host;x-amz-date;x-amz-target,")
        );
    }

    #[test]
    fn a_second_configured_key_verifies() {
        let request = sign_request(Signing {
            access_key_id: "AKIDOTHER",
            secret: "othersecret",
            ..Signing::default()
        });
        assert_eq!(request.verify().unwrap().access_key_id, "AKIDOTHER");
    }

    // Matrix: SV-06
    #[test]
    fn an_unsorted_query_with_spaces_and_a_path_with_percent_20_verify() {
        let request = sign_request(Signing {
            path_and_query: "/a%20b/c~d/?b=two%20words&a=z&c=x+y&a=1&empty&e=%2F%3D",
            ..Signing::default()
        });
        assert_eq!(request.path, "/a%20b/c~d/");
        assert!(request.verify().is_ok());
    }

    #[test]
    fn an_unsigned_user_agent_added_after_signing_still_verifies() {
        let mut request = signed();
        request.set("user-agent", "Boto3/1.35.0 md/Botocore#1.35.0 ua/2.0");
        request.set("x-amzn-trace-id", "Root=1-abc");
        assert!(request.verify().is_ok());
    }

    #[test]
    fn a_user_agent_present_when_signing_is_left_unsigned_and_verifies() {
        let mut signing = Signing::default();
        signing.headers.push(("user-agent", "aws-cli/2.17.0"));
        let request = sign_request(signing);
        assert!(!request.authorization().contains("user-agent"));
        assert!(request.verify().is_ok());
    }

    // Matrix: SV-06
    #[test]
    fn header_values_are_trimmed_and_inner_spaces_folded() {
        let mut signing = Signing::default();
        signing
            .headers
            .push(("x-amz-user-agent", "  aws-sdk   rust  md/x  "));
        let request = sign_request(signing);
        assert!(request.verify().is_ok());
    }

    // Matrix: SV-06
    #[test]
    fn repeated_signed_headers_are_joined_with_commas() {
        let mut signing = Signing::default();
        signing.headers.push(("x-custom", "one"));
        signing.headers.push(("x-custom", "two"));
        let request = sign_request(signing);
        assert_eq!(request.headers.get_all("x-custom").iter().count(), 2);
        assert!(request.verify().is_ok());
    }

    #[test]
    fn a_signed_x_amz_content_sha256_verifies() {
        let request = sign_request(Signing {
            content_sha256: true,
            ..Signing::default()
        });
        assert!(request.authorization().contains("x-amz-content-sha256"));
        assert!(request.verify().is_ok());
    }

    // Matrix: SV-03
    #[test]
    fn a_date_at_the_edge_of_the_skew_verifies() {
        let request = signed();
        assert!(request.verify_with(&verifier(), NOW + 300).is_ok());
        assert!(request.verify_with(&verifier(), NOW - 300).is_ok());
    }

    #[test]
    fn any_region_verifies_when_regions_are_not_restricted() {
        let request = sign_request(Signing {
            region: "eu-west-1",
            ..Signing::default()
        });
        assert_eq!(request.verify().unwrap().region, "eu-west-1");
    }

    // Matrix: SV-06
    /// Requests captured from boto3 1.43.11 and aws-cli 1.45.11 (botocore 1.43.11) calling
    /// `admin_get_user` against a local endpoint; the signer here is botocore, not aws-sigv4.
    /// The user agents are shortened: botocore does not sign them.
    #[test]
    fn requests_captured_from_boto3_and_the_aws_cli_verify() {
        let captured = [
            (
                "Boto3/1.43.11 md/Botocore#1.43.11 ua/2.1 os/linux",
                "7d182cb045cc205ca212a6077e3779ebfbb8ea1b2a1c3527e988fa10a512dfe2",
                r#"{"UserPoolId": "us-east-1_abc", "Username": "alice"}"#,
            ),
            (
                "aws-cli/1.45.11 md/Botocore#1.43.11 ua/2.1 os/linux",
                "f724f8256dfb4e06b28f336a53a62959f888b0304120a2d8fc97cd55e3812ff6",
                r#"{"UserPoolId": "us-east-1_abc", "Username": "bob"}"#,
            ),
        ];
        for (user_agent, signature, body) in captured {
            let mut headers = HeaderMap::new();
            for (name, value) in [
                ("host", "127.0.0.1:43033"),
                ("accept-encoding", "identity"),
                (
                    "x-amz-target",
                    "AWSCognitoIdentityProviderService.AdminGetUser",
                ),
                ("content-type", "application/x-amz-json-1.1"),
                ("user-agent", user_agent),
                ("x-amz-date", "20261122T034932Z"),
                ("amz-sdk-request", "attempt=1"),
            ] {
                headers.insert(name, HeaderValue::from_static(value));
            }
            let auth = format!(
                "AWS4-HMAC-SHA256 Credential={AKID}/20261122/us-east-1/cognito-idp/aws4_request, \
                 SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature={signature}"
            );
            headers.insert("authorization", HeaderValue::from_str(&auth).unwrap());
            let now = parse_amz_date("20261122T034932Z").unwrap() + 42;
            let caller = verifier().verify("POST", "/", "", &headers, body.as_bytes(), now);
            assert!(caller.is_ok(), "{user_agent}: {caller:?}");
        }
    }

    // Matrix: SV-06
    /// The get-vanilla case of the AWS SigV4 test suite, independent of aws-sigv4.
    #[test]
    fn the_aws_test_suite_get_vanilla_vector_verifies() {
        let verifier = Verifier {
            keys: ApiKeys::parse("AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY").unwrap(),
            service: "service".to_owned(),
            regions: Some(vec!["us-east-1".to_owned()]),
            max_skew: 300,
        };
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("example.amazonaws.com"));
        headers.insert("x-amz-date", HeaderValue::from_static("20150830T123600Z"));
        headers.insert(
            "authorization",
            HeaderValue::from_static(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                 SignedHeaders=host;x-amz-date, \
                 Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            ),
        );
        let now = parse_amz_date("20150830T123600Z").unwrap();
        assert!(verifier.verify("GET", "/", "", &headers, b"", now).is_ok());
    }

    // --- refused ---

    // Matrix: SV-05
    #[test]
    fn a_tampered_body_is_a_mismatch() {
        let mut request = signed();
        request.body = br#"{"UserPoolId":"us-east-1_abc","Username":"mallory"}"#.to_vec();
        assert_eq!(request.verify(), Err(SigV4Error::Mismatch));
    }

    // Matrix: SV-05
    #[test]
    fn a_body_that_disagrees_with_x_amz_content_sha256_is_a_mismatch() {
        let mut request = sign_request(Signing {
            content_sha256: true,
            ..Signing::default()
        });
        request.body.push(b' ');
        assert_eq!(request.verify(), Err(SigV4Error::Mismatch));
    }

    // Matrix: SV-05
    #[test]
    fn an_unsigned_payload_is_a_mismatch() {
        let mut request = signed();
        request.set("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
        assert_eq!(request.verify(), Err(SigV4Error::Mismatch));
    }

    // Matrix: SV-05
    #[test]
    fn a_tampered_signed_header_or_path_or_query_is_a_mismatch() {
        let mut request = signed();
        request.set(
            "x-amz-target",
            "AWSCognitoIdentityProviderService.AdminDeleteUser",
        );
        assert_eq!(request.verify(), Err(SigV4Error::Mismatch));

        let mut request = signed();
        request.path = "/other".to_owned();
        assert_eq!(request.verify(), Err(SigV4Error::Mismatch));

        let mut request = signed();
        request.query = "a=1".to_owned();
        assert_eq!(request.verify(), Err(SigV4Error::Mismatch));

        let request = signed();
        let verified = verifier().verify("PUT", &request.path, "", &request.headers, BODY, NOW);
        assert_eq!(verified, Err(SigV4Error::Mismatch));
    }

    // Matrix: SV-02
    #[test]
    fn a_different_secret_is_a_mismatch() {
        let request = sign_request(Signing {
            secret: "not-the-secret",
            ..Signing::default()
        });
        assert_eq!(request.verify(), Err(SigV4Error::Mismatch));
    }

    // Matrix: SV-02
    #[test]
    fn an_unknown_access_key_id_is_refused() {
        let request = sign_request(Signing {
            access_key_id: "AKIDUNKNOWN",
            ..Signing::default()
        });
        assert_eq!(request.verify(), Err(SigV4Error::UnknownKey));
        let (kind, _) = SigV4Error::UnknownKey.aws_error();
        assert_eq!(kind, "UnrecognizedClientException");
    }

    // Matrix: SV-02
    #[test]
    fn a_prefix_of_a_configured_access_key_id_is_unknown() {
        let request = sign_request(Signing {
            access_key_id: "AKIDCOGNATE",
            ..Signing::default()
        });
        assert_eq!(request.verify(), Err(SigV4Error::UnknownKey));
    }

    // Matrix: SV-03
    #[test]
    fn a_request_signed_ten_minutes_ago_has_expired() {
        let request = sign_request(Signing {
            at: NOW - 600,
            ..Signing::default()
        });
        assert_eq!(request.verify(), Err(SigV4Error::Expired));
    }

    // Matrix: SV-03
    #[test]
    fn a_request_dated_ten_minutes_ahead_is_refused() {
        let request = sign_request(Signing {
            at: NOW + 600,
            ..Signing::default()
        });
        assert_eq!(request.verify(), Err(SigV4Error::Expired));
    }

    #[test]
    fn an_extreme_server_clock_does_not_overflow() {
        let request = signed();
        assert_eq!(
            request.verify_with(&verifier(), i64::MIN),
            Err(SigV4Error::Expired)
        );
        assert_eq!(
            request.verify_with(&verifier(), i64::MAX),
            Err(SigV4Error::Expired)
        );
    }

    // Matrix: SV-04
    #[test]
    fn a_credential_date_other_than_x_amz_date_is_the_wrong_scope() {
        // Signed a minute before midnight, then the date moved two minutes later.
        let before_midnight = NOW + 12 * 3600 - 60;
        let mut request = sign_request(Signing {
            at: before_midnight,
            ..Signing::default()
        });
        assert!(request.authorization().contains("/20260101/"));
        request.set("x-amz-date", "20260102T000100Z");
        assert!(matches!(
            request.verify_with(&verifier(), before_midnight + 120),
            Err(SigV4Error::WrongScope(_))
        ));
    }

    #[test]
    fn a_changed_x_amz_date_on_the_same_day_is_a_mismatch() {
        let mut request = signed();
        request.set("x-amz-date", "20260101T120100Z");
        assert_eq!(request.verify(), Err(SigV4Error::Mismatch));
    }

    // Matrix: SV-04
    #[test]
    fn a_wrong_service_is_the_wrong_scope() {
        let request = sign_request(Signing {
            service: "cognito-identity",
            ..Signing::default()
        });
        assert!(matches!(request.verify(), Err(SigV4Error::WrongScope(_))));
    }

    // Matrix: SV-04
    #[test]
    fn a_disallowed_region_is_the_wrong_scope() {
        let request = sign_request(Signing {
            region: "eu-west-1",
            ..Signing::default()
        });
        let verifier = Verifier {
            regions: Some(vec!["us-east-1".to_owned()]),
            ..verifier()
        };
        assert!(matches!(
            request.verify_with(&verifier, NOW),
            Err(SigV4Error::WrongScope(_))
        ));
        assert!(signed().verify_with(&verifier, NOW).is_ok());
    }

    // Matrix: SV-01
    #[test]
    fn a_missing_authorization_header_is_missing() {
        let mut request = signed();
        request.headers.remove("authorization");
        assert_eq!(request.verify(), Err(SigV4Error::Missing));
        assert_eq!(
            SigV4Error::Missing.aws_error(),
            (
                "MissingAuthenticationTokenException",
                "Missing Authentication Token".to_owned()
            )
        );
    }

    // Matrix: SV-01
    #[test]
    fn a_missing_or_malformed_x_amz_date_is_malformed() {
        let mut request = signed();
        request.headers.remove("x-amz-date");
        assert!(matches!(request.verify(), Err(SigV4Error::Malformed(_))));
        for bad in [
            "",
            "20260101",
            "20260101T120000",
            "20260101 120000Z",
            "2026-01-01T12:00:00Z",
            "20261301T120000Z",
            "20260230T120000Z",
            "20260101T246000Z",
            "2026010IT120000Z",
            "+0260101T120000Z",
            "20260101T120000ZZ",
        ] {
            let mut request = signed();
            request.set("x-amz-date", bad);
            assert!(
                matches!(request.verify(), Err(SigV4Error::Malformed(_))),
                "{bad}"
            );
        }
    }

    // Matrix: SV-05
    #[test]
    fn host_must_be_signed() {
        let mut request = signed();
        let auth = request
            .authorization()
            .replace("content-type;host;x-amz-date", "content-type;x-amz-date");
        request.set("authorization", &auth);
        assert!(matches!(request.verify(), Err(SigV4Error::Malformed(_))));
    }

    // Matrix: SV-05
    #[test]
    fn an_unsigned_target_content_type_or_date_is_refused() {
        for name in ["x-amz-target", "content-type"] {
            let mut s = Signing::default();
            s.headers.retain(|(n, _)| *n != name);
            let mut request = sign_request(s);
            // Added after signing, as a man in the middle would.
            request.set(name, "AWSCognitoIdentityProviderService.AdminDisableUser");
            assert!(
                matches!(request.verify(), Err(SigV4Error::Malformed(_))),
                "{name}"
            );
        }
        let mut request = signed();
        let auth = request.authorization().replace(
            "content-type;host;x-amz-date;x-amz-target",
            "content-type;host;x-amz-target",
        );
        request.set("authorization", &auth);
        assert!(matches!(request.verify(), Err(SigV4Error::Malformed(_))));
    }

    #[test]
    fn a_signed_header_absent_from_the_request_is_malformed() {
        let mut request = signed();
        request.headers.remove("x-amz-target");
        assert!(matches!(request.verify(), Err(SigV4Error::Malformed(_))));
    }

    // Matrix: SV-01
    #[test]
    fn two_authorization_headers_are_malformed() {
        let mut request = signed();
        let auth = request.headers["authorization"].clone();
        request.headers.append("authorization", auth);
        assert!(matches!(request.verify(), Err(SigV4Error::Malformed(_))));
    }

    #[test]
    fn a_non_ascii_authorization_header_is_malformed() {
        let mut request = signed();
        request.headers.insert(
            "authorization",
            HeaderValue::from_bytes(b"AWS4-HMAC-SHA256 Credential=\xff\xfe").unwrap(),
        );
        assert!(matches!(request.verify(), Err(SigV4Error::Malformed(_))));
    }

    // Matrix: SV-01
    #[test]
    fn every_truncation_of_the_authorization_header_is_malformed() {
        let request = signed();
        let auth = request.authorization();
        for end in 0..auth.len() {
            let mut truncated = signed();
            truncated.set("authorization", &auth[..end]);
            assert!(
                matches!(truncated.verify(), Err(SigV4Error::Malformed(_))),
                "truncated at {end}"
            );
        }
    }

    // Matrix: SV-01
    #[test]
    fn garbled_authorization_headers_are_malformed() {
        let request = signed();
        let auth = request.authorization();
        let sig = auth.rsplit_once("Signature=").unwrap().1.to_owned();
        let cred = format!("{AKID}/20260101/us-east-1/cognito-idp/aws4_request");
        let sh = "content-type;host;x-amz-date;x-amz-target";
        let garbled = vec![
            String::new(),
            " ".to_owned(),
            "AWS4-HMAC-SHA256".to_owned(),
            "AWS4-HMAC-SHA256 ".to_owned(),
            "Bearer eyJhbGciOiJub25lIn0".to_owned(),
            "AWS AKID:signature".to_owned(),
            auth.replacen("AWS4-HMAC-SHA256", "aws4-hmac-sha256", 1),
            auth.replacen("AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA256", 1),
            auth.replacen("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1),
            format!("{auth}, Signature={sig}"),
            format!("{auth}, Extra=1"),
            format!("{auth},"),
            auth.replace(", ", " "),
            auth.replace('=', ":"),
            auth.replace("Credential=", "credential="),
            auth.replace("Signature=", "Signature"),
            format!("AWS4-HMAC-SHA256 Credential={cred}, SignedHeaders={sh}"),
            format!("AWS4-HMAC-SHA256 Credential={cred}, Signature={sig}"),
            format!("AWS4-HMAC-SHA256 SignedHeaders={sh}, Signature={sig}"),
            format!("AWS4-HMAC-SHA256 ,,, Credential={cred}, SignedHeaders={sh}, Signature={sig}"),
            auth.replace(&cred, &format!("{AKID}/20260101/us-east-1/cognito-idp")),
            auth.replace(&cred, &format!("{cred}/extra")),
            auth.replace(&cred, ""),
            auth.replace(&cred, "/////"),
            auth.replace(&cred, "/20260101/us-east-1/cognito-idp/aws4_request"),
            auth.replace(AKID, "AKID-WITH-DASH"),
            auth.replace(AKID, &"A".repeat(200)),
            auth.replace("/20260101/", "/2026011/"),
            auth.replace("/20260101/", "/2026010x/"),
            auth.replace("/20260101/", "/２０２６0101/"),
            auth.replace("/us-east-1/", "/US-EAST-1/"),
            auth.replace("/us-east-1/", "//"),
            auth.replace("/us-east-1/", &format!("/{}/", "a".repeat(100))),
            auth.replace("/cognito-idp/", "/cognito idp/"),
            auth.replace(sh, ""),
            auth.replace(sh, "content-type;;host;x-amz-date;x-amz-target"),
            auth.replace(sh, "host;content-type;x-amz-date;x-amz-target"),
            auth.replace(sh, "content-type;host;host;x-amz-date;x-amz-target"),
            auth.replace(sh, "content-type;Host;x-amz-date;x-amz-target"),
            auth.replace(sh, "content-type;host;x-amz-date;x-amz-target;"),
            auth.replace(sh, "content-type;ho st;x-amz-date"),
            auth.replace(sh, "content-type;host:x-amz-date"),
            auth.replace(
                sh,
                &(0..100)
                    .map(|i| format!("h{i:03}"))
                    .collect::<Vec<_>>()
                    .join(";"),
            ),
            auth.replace(&sig, &sig[..63]),
            auth.replace(&sig, &format!("{sig}0")),
            auth.replace(&sig, &format!("{}zz", &sig[..62])),
            auth.replace(&sig, &format!("{}é", &sig[..62])),
            auth.replace(&sig, ""),
            format!("{auth}{}", " ".repeat(5000)),
            "AWS4-HMAC-SHA256 ==,==,==".to_owned(),
            "AWS4-HMAC-SHA256 Credential==/=/=/=/=, SignedHeaders==, Signature==".to_owned(),
        ];
        for bad in garbled {
            let mut request = signed();
            request.set("authorization", &bad);
            let result = request.verify();
            assert!(
                matches!(result, Err(SigV4Error::Malformed(_))),
                "{bad:?} gave {result:?}"
            );
        }
    }

    // Matrix: SV-04
    #[test]
    fn a_bad_terminator_is_the_wrong_scope() {
        let mut request = signed();
        let auth = request
            .authorization()
            .replace("/aws4_request", "/aws4_requesx");
        request.set("authorization", &auth);
        assert!(matches!(request.verify(), Err(SigV4Error::WrongScope(_))));
    }

    #[test]
    fn an_upper_case_signature_verifies_and_parameters_may_come_in_any_order() {
        let request = signed();
        let auth = request.authorization();
        let (head, sig) = auth.rsplit_once("Signature=").unwrap();
        let mut upper = signed();
        upper.set(
            "authorization",
            &format!("{head}Signature={}", sig.to_uppercase()),
        );
        assert!(upper.verify().is_ok());

        let params = head
            .strip_prefix("AWS4-HMAC-SHA256 ")
            .unwrap()
            .trim_end_matches([',', ' ']);
        let mut reordered = signed();
        reordered.set(
            "authorization",
            &format!("AWS4-HMAC-SHA256 Signature={sig},{params}"),
        );
        assert!(reordered.verify().is_ok());
    }

    // Matrix: SV-01, SV-02
    #[test]
    fn errors_map_to_aws_error_types() {
        let kinds = [
            (SigV4Error::Missing, "MissingAuthenticationTokenException"),
            (SigV4Error::Malformed("x"), "IncompleteSignatureException"),
            (SigV4Error::UnknownKey, "UnrecognizedClientException"),
            (SigV4Error::Expired, "InvalidSignatureException"),
            (SigV4Error::WrongScope("x"), "InvalidSignatureException"),
            (SigV4Error::Mismatch, "InvalidSignatureException"),
        ];
        for (error, kind) in kinds {
            assert_eq!(error.aws_error().0, kind);
        }
        assert!(
            SigV4Error::Expired
                .aws_error()
                .1
                .starts_with("Signature expired: ")
        );
        assert!(SigV4Error::Mismatch.aws_error().1.starts_with(
            "The request signature we calculated does not match the signature you provided."
        ));
    }

    // --- canonical forms ---

    // Matrix: SV-06
    #[test]
    fn canonical_uri_double_encodes_and_removes_dot_segments() {
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_uri("/a%20b/c"), "/a%2520b/c");
        assert_eq!(canonical_uri("/a/./b/../c//d/"), "/a/c/d/");
        assert_eq!(canonical_uri("/ü:@"), "/%C3%BC%3A%40");
    }

    // Matrix: SV-06
    #[test]
    fn canonical_query_decodes_reencodes_and_sorts() {
        assert_eq!(canonical_query(""), "");
        assert_eq!(
            canonical_query("b=two%20words&a=z&c=x+y&a=1&empty"),
            "a=1&a=z&b=two%20words&c=x%20y&empty="
        );
        assert_eq!(canonical_query("k=%7e%2f*"), "k=~%2F%2A");
    }

    // Matrix: SV-06
    #[test]
    fn header_values_fold_spaces_only() {
        let mut out = Vec::new();
        push_trimmed(&mut out, b"  a   b\tc  ");
        assert_eq!(out, b"a b\tc");
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let verifier = verifier();
        let shown = format!("{verifier:?} {:?}", verifier.keys);
        assert!(shown.contains(AKID));
        assert!(!shown.contains(SECRET));
        assert!(!shown.contains("othersecret"));
    }

    #[test]
    fn errors_never_show_the_signature() {
        let mut request = sign_request(Signing {
            secret: "wrong",
            ..Signing::default()
        });
        let auth = request.authorization();
        let sig = auth.rsplit_once("Signature=").unwrap().1.to_owned();
        let error = request.verify().unwrap_err();
        let (_, message) = error.aws_error();
        assert!(!format!("{error} {error:?} {message}").contains(&sig));
        request.set("authorization", &format!("{auth}x"));
        let error = request.verify().unwrap_err();
        assert!(!format!("{error} {error:?} {:?}", error.aws_error()).contains(&sig));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn any_authorization_header_is_refused_without_panicking(value in ".{0,300}") {
            let mut request = signed();
            if let Ok(value) = HeaderValue::from_str(&value) {
                request.headers.insert("authorization", value);
                prop_assert!(request.verify().is_err());
            }
        }

        #[test]
        fn any_parameters_after_the_scheme_are_refused_without_panicking(
            params in "[A-Za-z0-9=,;/ _-]{0,200}"
        ) {
            let mut request = signed();
            request.set("authorization", &format!("AWS4-HMAC-SHA256 {params}"));
            prop_assert!(request.verify().is_err());
        }

        #[test]
        fn any_authorization_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut request = signed();
            if let Ok(value) = HeaderValue::from_bytes(&bytes) {
                request.headers.insert("authorization", value);
                let _ = request.verify();
            }
        }

        #[test]
        fn any_path_query_and_date_never_panic(
            path in ".{0,100}", query in ".{0,100}", date in "[0-9TZ]{0,20}"
        ) {
            let mut request = signed();
            request.path = path;
            request.query = query;
            if let Ok(value) = HeaderValue::from_str(&date) {
                request.headers.insert("x-amz-date", value);
            }
            let _ = request.verify();
        }
    }

    #[test]
    fn the_reference_signer_signs_at_the_requested_time() {
        assert_eq!(signed().headers["x-amz-date"], "20260101T120000Z");
    }
}
