//! The properties the `cargo fuzz` targets (`fuzz/`) check, one `check_<target>` per
//! parser of untrusted input. Each calls the real parser and asserts what must hold for
//! any input: no panic, and nothing accepted that the rules refuse. The fuzz targets are
//! thin wrappers; `fuzz_regressions` below replays every kept crash input on stable Rust.
//!
//! Inputs that need structure are split at `\n`: the first line, the second, and so on.

use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http::{HeaderMap, HeaderName, HeaderValue};
use num_bigint_dig::BigUint;

use crate::api_keys::ApiKeys;
use crate::clients::redirect::{
    AllowEntry, is_registered, match_target, validate_registered, with_params,
};
use crate::clients::state_split::{Split, StateEncoding, split};
use crate::cognito_api::list_users;
use crate::oauth::authorize::{self, Rejection};
use crate::oauth::client_auth::parse_basic;
use crate::oauth::params::Params;
use crate::sigv4::{Authorization, Verifier};
use crate::users::admin::{Match, UserFilter};
use crate::users::srp::{self, SecretBlock};

/// A property check over one fuzz input.
pub type Check = fn(&[u8]);

/// Every target, by the name its fuzz target and regression folder carry.
pub const TARGETS: &[(&str, Check)] = &[
    ("authorize_query", check_authorize_query),
    ("token_form", check_token_form),
    ("state_split", check_state_split),
    ("redirect_match", check_redirect_match),
    ("sigv4_header", check_sigv4_header),
    ("list_users_filter", check_list_users_filter),
    ("basic_auth", check_basic_auth),
    ("jwt_header", check_jwt_header),
    ("srp_inputs", check_srp_inputs),
];

/// Lines of a fuzz input, as text; `None` for input that is not UTF-8 (every parser
/// here takes `&str`: HTTP layers above them refuse other bytes).
fn lines(data: &[u8]) -> Option<Vec<&str>> {
    std::str::from_utf8(data)
        .ok()
        .map(|s| s.split('\n').collect())
}

fn line<'a>(lines: &[&'a str], i: usize) -> &'a str {
    lines.get(i).copied().unwrap_or_default()
}

const CALLBACKS: [&str; 3] = [
    "https://app.example.com/cb",
    "myapp://callback",
    "http://localhost:3000/cb?x=1",
];
const ALLOW_LIST: [&str; 2] = [
    "https://app.example.com",
    "https://other.example.com:8443/app",
];

fn allow_entries() -> Vec<AllowEntry> {
    ALLOW_LIST
        .iter()
        .map(|e| AllowEntry::parse(e).unwrap())
        .collect()
}

/// Whether `url` (a parsed return-to) lies under [`ALLOW_LIST`].
fn on_allow_list(url: &url::Url) -> bool {
    let s = url.as_str();
    let on_root = s.starts_with("https://app.example.com/");
    let on_app = s.starts_with("https://other.example.com:8443/app")
        && (url.path() == "/app" || url.path().starts_with("/app/"));
    on_root || on_app
}

/// Builds what the checks share (a store with a pool and client, signing keys, an SRP
/// verifier) before fuzzing starts, so its seconds of key generation under the
/// sanitizer never count against an input's timeout.
pub fn init() {
    LazyLock::force(&FIXTURE);
    LazyLock::force(&SIGNED);
    LazyLock::force(&SRP_KEYS);
}

/// A server state on a private SQLite file, with one pool and one public client that
/// has [`CALLBACKS`] and a return-to allow-list, made once per process.
struct Fixture {
    runtime: tokio::runtime::Runtime,
    app: crate::state::AppState,
    pool_id: String,
    client: crate::clients::AppClient,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let db = std::env::temp_dir().join(format!("cognate-fuzz-{}.db", std::process::id()));
    for suffix in ["", "-shm", "-wal"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let store_args = crate::config::StoreArgs {
        database_url: format!("sqlite://{}", db.display()),
        master_key: Some(crate::crypto::MasterKey::generate_base64()),
        master_key_file: None,
    };
    let (app, pool_id, client) = runtime.block_on(async {
        let config = crate::config::Config::new("http://127.0.0.1:9229", None).unwrap();
        let app = crate::server::open(&store_args, config).await.unwrap();
        let pool = crate::pool::create(&app, "fuzz", "us-east-1")
            .await
            .unwrap();
        let mut new = crate::clients::ClientSettings::new("fuzz");
        new.callback_urls = CALLBACKS.map(String::from).to_vec();
        new.allowed_scopes = ["openid", "email", "profile"].map(String::from).to_vec();
        new.state_relay.allow_list = ALLOW_LIST.map(String::from).to_vec();
        let (client, _) =
            crate::clients::create(&app, &pool.pool_id, &new, crate::clients::NewSecret::None)
                .await
                .unwrap();
        (app, pool.pool_id, client)
    });
    Fixture {
        runtime,
        app,
        pool_id,
        client,
    }
});

/// The authorization endpoint's validation. The first byte chooses how much of a valid
/// request precedes the rest, so the fuzzer reaches the checks after the client lookup.
/// A request is accepted only with a registered redirect URI (byte for byte), a landing
/// on it or on the allow-list, allowed scopes and an S256-shaped challenge; a rejection
/// redirects only to such a landing, and nothing sent back holds a control character.
pub fn check_authorize_query(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(rest) = std::str::from_utf8(rest) else {
        return;
    };
    let f = &*FIXTURE;
    let id = &f.client.client_id;
    let query = match mode % 3 {
        0 => rest.to_string(),
        1 => format!("client_id={id}&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&{rest}"),
        _ => format!(
            "client_id={id}&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&response_type=code&code_challenge_method=S256&{rest}"
        ),
    };
    let result = f
        .runtime
        .block_on(authorize::validate(&f.app, &f.pool_id, None, &query));
    let landing_ok = |landing: &str| {
        CALLBACKS.contains(&landing) || url::Url::parse(landing).is_ok_and(|u| on_allow_list(&u))
    };
    match result {
        Ok(req) => {
            assert!(is_registered(&f.client.callback_urls, &req.redirect_uri));
            assert!(landing_ok(&req.landing), "landing {:?}", req.landing);
            assert!(
                req.scopes
                    .iter()
                    .all(|s| f.client.allowed_scopes.contains(s))
            );
            if let Some(challenge) = &req.code_challenge {
                let digest = URL_SAFE_NO_PAD.decode(challenge);
                assert!(
                    digest.is_ok_and(|d| d.len() == 32),
                    "challenge {challenge:?} is no S256 digest"
                );
            }
            // The request carried on to the login page reads back the same.
            let params = Params::parse(&query).unwrap();
            assert_eq!(Params::parse(&req.query).unwrap(), params);
            for v in [&req.state, &req.reply_state, &req.nonce, &req.login_hint] {
                assert!(!v.as_deref().unwrap_or_default().contains('\0'));
            }
        }
        Err(Rejection::Redirect(location)) => {
            assert!(
                location.bytes().all(|b| b.is_ascii_graphic()),
                "unsafe bytes in {location:?}"
            );
            let base = location
                .split_once('?')
                .map_or(location.as_str(), |(b, _)| b);
            assert!(
                CALLBACKS
                    .iter()
                    .any(|c| location.starts_with(c.split('?').next().unwrap()))
                    || url::Url::parse(base).is_ok_and(|u| on_allow_list(&u)),
                "error redirect to {location:?}"
            );
        }
        Err(Rejection::Page(_)) => {}
    }
}

/// A token request body: line 1 is the `Content-Type`, the rest the body. Accepted
/// only as a UTF-8 form without NUL or a repeated parameter, and it re-encodes to
/// the same parameters.
pub fn check_token_form(data: &[u8]) {
    let (content_type, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_bytes(content_type) {
        headers.insert(http::header::CONTENT_TYPE, v);
    }
    let Ok(params) = crate::oauth::token::parse_form(&headers, body) else {
        return;
    };
    let ct = std::str::from_utf8(content_type).unwrap();
    assert!(
        ct.split(';')
            .next()
            .unwrap()
            .trim()
            .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    );
    let text = std::str::from_utf8(body).expect("a form that is not UTF-8 was accepted");
    let mut seen = std::collections::HashSet::new();
    for (k, v) in url::form_urlencoded::parse(text.as_bytes()) {
        assert!(!k.contains('\0') && !v.contains('\0'));
        if !v.is_empty() {
            assert!(seen.insert(k.clone()), "repeated {k:?} was accepted");
            assert_eq!(params.get(&k), Some(v.as_ref()));
        }
    }
    assert_eq!(Params::parse(&params.encode()).unwrap(), params);
}

/// The overloaded-state splitter in every encoding and separator: every relayed target
/// is on the allow-list and printable ASCII, and the nonce is what preceded the
/// separator.
pub fn check_state_split(data: &[u8]) {
    let Ok(state) = std::str::from_utf8(data) else {
        return;
    };
    let allow = allow_entries();
    for encoding in [
        StateEncoding::Plain,
        StateEncoding::Hex,
        StateEncoding::Base64url,
    ] {
        for separator in ['_', '-'] {
            if let Ok(Split::Relay { nonce, target }) = split(&allow, separator, encoding, state) {
                let s = target.as_str();
                assert!(on_allow_list(&target), "escaped the allow-list: {s}");
                assert!(
                    s.bytes().all(|b| b.is_ascii_graphic()),
                    "unsafe bytes in {s:?}"
                );
                assert!(state.starts_with(&format!("{nonce}{separator}")));
                assert!(!nonce.is_empty() && !nonce.contains(separator));
            }
        }
    }
}

/// The authority of `raw` as written (`scheme://authority/...`), if it has one: only
/// right after the scheme (`mailto:a@b` has none, whatever follows).
fn raw_authority(raw: &str) -> Option<&str> {
    let (_, rest) = raw.split_once(':')?;
    let rest = rest.strip_prefix("//")?;
    Some(rest.split(['/', '?', '#']).next().unwrap_or_default())
}

/// Redirect URLs: line 1 is a URL an operator registers (and a return-to target),
/// lines 2 and 3 a code and state added to it. A registrable URL is printable ASCII
/// with no `@` in its authority, no fragment and no dangerous scheme; a matched target
/// starts with an allowed origin and stays under it; parameters added to a registered
/// URL read back unchanged.
pub fn check_redirect_match(data: &[u8]) {
    let Some(lines) = lines(data) else {
        return;
    };
    let raw = line(&lines, 0);
    if validate_registered(raw).is_ok() {
        assert!(raw.bytes().all(|b| b.is_ascii_graphic() && b != b'\\'));
        assert!(
            !raw_authority(raw).unwrap_or_default().contains('@'),
            "userinfo-like authority accepted: {raw:?}"
        );
        let url = url::Url::parse(raw).unwrap();
        assert!(url.fragment().is_none() && url.username().is_empty());
        assert!(
            !["javascript", "data", "file", "vbscript", "blob", "about"].contains(&url.scheme())
        );
        if url.scheme() == "http" {
            assert!(
                matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
                    || url.host_str().is_some_and(|h| h.starts_with("127."))
            );
        }
        let (code, state) = (line(&lines, 1), line(&lines, 2));
        let out = with_params(raw, &[("code", code), ("state", state)]);
        assert!(
            out.starts_with(raw.trim_end_matches('?')),
            "{out:?} left {raw:?}"
        );
        assert!(out.bytes().all(|b| b.is_ascii_graphic()));
        let parsed = url::Url::parse(&out).unwrap();
        let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
        assert!(pairs.ends_with(&[("code".into(), code.into()), ("state".into(), state.into())]));
    }
    let registered = CALLBACKS.map(String::from);
    assert_eq!(is_registered(&registered, raw), CALLBACKS.contains(&raw));
    if let Ok(target) = match_target(&allow_entries(), raw) {
        assert!(
            on_allow_list(&target),
            "escaped the allow-list: {raw:?} -> {target}"
        );
        assert!(ALLOW_LIST.iter().any(|origin| {
            let origin = origin.trim_end_matches("/app");
            raw.strip_prefix(origin)
                .is_some_and(|r| r.is_empty() || r.starts_with(['/', '?', '#']))
        }));
        assert!(target.username().is_empty() && target.password().is_none());
    }
}

/// SigV4: line 1 is the `Authorization` header, the next lines `name: value` headers,
/// then after an empty line the body. The header parser accepts only the documented
/// shape; verification never accepts a signature made with another secret.
pub fn check_sigv4_header(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
    let mut lines = head.split('\n');
    let value = lines.next().unwrap_or_default();
    if let Ok(auth) = Authorization::parse(value) {
        assert!(value.starts_with("AWS4-HMAC-SHA256 "));
        assert!(auth.signed_headers.windows(2).all(|w| w[0] < w[1]));
        assert!(auth.date.len() == 8 && auth.date.bytes().all(|b| b.is_ascii_digit()));
        assert!(!auth.access_key_id.is_empty());
        assert!(
            auth.signed_headers
                .iter()
                .all(|h| !h.is_empty() && !h.bytes().any(|b| b.is_ascii_uppercase()))
        );
    }
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(http::header::AUTHORIZATION, v);
    }
    for l in lines {
        if let Some((name, v)) = l.split_once(':')
            && let (Ok(name), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(v.trim()),
            )
        {
            headers.append(name, v);
        }
    }
    static VERIFIERS: LazyLock<(Verifier, Verifier)> = LazyLock::new(|| {
        (
            Verifier::new(ApiKeys::parse("AKIDEXAMPLE:secret").unwrap()),
            Verifier::new(ApiKeys::parse("AKIDEXAMPLE:other").unwrap()),
        )
    });
    let now = 1_767_225_600; // 2026-01-01T00:00:00Z
    let (right, wrong) = &*VERIFIERS;
    let first = right.verify("POST", "/", "", &headers, body.as_bytes(), now);
    let again = right.verify("POST", "/", "", &headers, body.as_bytes(), now);
    assert_eq!(first.is_ok(), again.is_ok());
    if first.is_ok() {
        assert!(
            wrong
                .verify("POST", "/", "", &headers, body.as_bytes(), now)
                .is_err()
        );
    }
    if let Err(e) = first {
        let (kind, message) = e.aws_error();
        assert!(!kind.is_empty() && !message.contains("secret"));
    }
}

/// Writes a filter back as text, escaping as the grammar says.
fn render_filter(filter: &UserFilter) -> Option<String> {
    let (name, m) = match filter {
        UserFilter::Username(m) => ("username", m),
        UserFilter::Attribute(a, m) => (*a, m),
        UserFilter::Status(m) => ("cognito:user_status", m),
        UserFilter::Sub(m) => ("sub", m),
        UserFilter::Enabled(_) | UserFilter::Nothing => return None,
    };
    let (op, v) = match m {
        Match::Exact(v) => ("=", v),
        Match::Prefix(v) => ("^=", v),
    };
    Some(format!(
        "{name} {op} \"{}\"",
        v.replace('\\', "\\\\").replace('"', "\\\"")
    ))
}

/// The `ListUsers` filter: bounded, free of control characters, and a parsed filter
/// written back parses to the same filter.
pub fn check_list_users_filter(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(Some(filter)) = list_users::parse(text) else {
        return;
    };
    assert!(text.chars().count() <= list_users::MAX_FILTER_CHARS);
    assert!(!text.chars().any(char::is_control));
    if let Some(again) = render_filter(&filter)
        && again.chars().count() <= list_users::MAX_FILTER_CHARS
    {
        assert_eq!(list_users::parse(&again), Ok(Some(filter)), "{again:?}");
    }
}

/// HTTP Basic client credentials: accepted only with the `Basic ` scheme, and what was
/// decoded encodes back to the same credentials.
pub fn check_basic_auth(data: &[u8]) {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    let Some(p) = parse_basic(Some(value)) else {
        return;
    };
    assert!(value.starts_with("Basic "));
    let secret = p.secret.expect("Basic always carries a secret");
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let again = format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", enc(&p.client_id), enc(&secret)))
    );
    let q = parse_basic(Some(&again)).expect("re-encoded credentials parse");
    assert_eq!((q.client_id, q.secret), (p.client_id, Some(secret)));
}

/// A pool's keys and a token they signed, valid at [`JWT_NOW`].
struct Signed {
    keys: std::sync::Arc<crate::keys::PoolKeys>,
    issuer: String,
    token: String,
}

const JWT_NOW: i64 = 1_767_225_600;

static SIGNED: LazyLock<Signed> = LazyLock::new(|| {
    let f = &*FIXTURE;
    let keys = f
        .runtime
        .block_on(f.app.keys.pool(&f.app.store, &f.pool_id))
        .unwrap()
        .unwrap();
    let issuer = f.runtime.block_on(f.app.issuer(&f.pool_id)).unwrap();
    let claims =
        serde_json::json!({ "iss": issuer, "sub": "u", "iat": JWT_NOW, "exp": JWT_NOW + 3600 });
    let token = keys.sign(&claims);
    Signed {
        keys,
        issuer,
        token,
    }
});

/// JWT headers: the input as a whole token, and as the header segment of a token the
/// pool signed. Nothing verifies but the untouched signed token; the header parser
/// gives an object only for a base64url JSON object without repeated members.
pub fn check_jwt_header(data: &[u8]) {
    let s = &*SIGNED;
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(claims) = s
            .keys
            .verify(text, std::slice::from_ref(&s.issuer), JWT_NOW)
        {
            assert_eq!(
                text, s.token,
                "a token cognate did not sign verified: {claims}"
            );
        }
        if let Some(obj) = crate::tokens::jwt::json_object(text) {
            let bytes = URL_SAFE_NO_PAD.decode(text).unwrap();
            let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(value.as_object(), Some(&obj));
        }
    }
    let (header, rest) = s.token.split_once('.').unwrap();
    let forged = format!("{}.{rest}", URL_SAFE_NO_PAD.encode(data));
    if s.keys
        .verify(&forged, std::slice::from_ref(&s.issuer), JWT_NOW)
        .is_some()
    {
        assert_eq!(
            URL_SAFE_NO_PAD.encode(data),
            header,
            "a changed header verified"
        );
    }
}

/// A master key and a user's SRP verifier.
static SRP_KEYS: LazyLock<(crate::crypto::MasterKey, srp::Verifier)> = LazyLock::new(|| {
    let key = crate::crypto::MasterKey::generate_base64();
    let master = crate::crypto::MasterKey::from_base64(&key).unwrap();
    (
        master,
        srp::make_verifier("us-east-1_fuzz", "user", "Passw0rd!"),
    )
});

static SRP_N: LazyLock<BigUint> =
    LazyLock::new(|| BigUint::parse_bytes(srp::N_HEX.as_bytes(), 16).unwrap());

/// SRP inputs: line 1 `SRP_A`, line 2 `SECRET_BLOCK`, line 3 `TIMESTAMP`, line 4
/// `PASSWORD_CLAIM_SIGNATURE`; the raw input is also decoded as an opened secret
/// block. `SRP_A` is accepted only as hex with 0 < A < N; a secret block this server
/// did not seal never verifies; a timestamp is accepted only in Cognito's shape; a
/// decoded block encodes back to what decodes the same.
pub fn check_srp_inputs(data: &[u8]) {
    if let Some(block) = SecretBlock::decode(data) {
        assert_eq!(SecretBlock::decode(&block.encode()), Some(block));
    }
    let Some(lines) = lines(data) else {
        return;
    };
    let (a, block, timestamp, claim) = (
        line(&lines, 0),
        line(&lines, 1),
        line(&lines, 2),
        line(&lines, 3),
    );
    if let Ok(value) = srp::parse_srp_a(a) {
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(value > BigUint::from(0u32) && value < *SRP_N);
        assert_eq!(BigUint::parse_bytes(a.as_bytes(), 16), Some(value));
    }
    if srp::is_cognito_timestamp(timestamp) {
        let parts: Vec<&str> = timestamp.split(' ').collect();
        assert_eq!(parts.len(), 6);
        assert_eq!(parts[4], "UTC");
    }
    let (master, verifier) = &*SRP_KEYS;
    let verified = srp::verify(
        master,
        "us-east-1_fuzz",
        "user",
        verifier,
        block,
        timestamp,
        claim,
        0,
    );
    assert!(
        verified.is_err(),
        "a secret block this server never sealed verified"
    );
}

#[cfg(test)]
mod tests {
    use super::TARGETS;

    /// Replays every input the fuzzers ever crashed on (`fuzz/regressions/<target>/`),
    /// so stable CI keeps them fixed without nightly or cargo-fuzz.
    #[test]
    fn fuzz_regressions() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
        let mut replayed = 0;
        for dir in std::fs::read_dir(&root).unwrap() {
            let dir = dir.unwrap().path();
            let name = dir.file_name().unwrap().to_str().unwrap().to_string();
            let (_, check) = TARGETS
                .iter()
                .find(|(t, _)| *t == name)
                .unwrap_or_else(|| panic!("fuzz/regressions/{name} names no fuzz target"));
            let mut files: Vec<_> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|f| f.unwrap().path())
                .collect();
            files.sort();
            for file in files {
                eprintln!("replaying {}", file.display());
                check(&std::fs::read(&file).unwrap());
                replayed += 1;
            }
        }
        assert!(
            replayed > 0,
            "no regression inputs under {}",
            root.display()
        );
    }

    /// Every target passes on a few well-formed inputs (the fuzzers' seeds start here).
    #[test]
    fn checks_accept_well_formed_inputs() {
        for (_, check) in TARGETS {
            check(b"");
            check(b"\x02scope=openid&state=abc_https://app.example.com/x");
        }
    }
}
