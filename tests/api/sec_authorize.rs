//! Security matrix rows of `/oauth2/authorize` (AZ-*): what is refused on a page, what
//! goes back to the client as an error, and what a code looks like.

use std::collections::{HashMap, HashSet};

use cognate::clients::{AppClient, ClientSettings};
use reqwest::StatusCode;

use crate::helpers::{
    CALLBACK, PASSWORD, Pkce, TestApp, browser, jwt_claims, location, query_param,
};
use crate::state_relay::payload;

/// A refused authorization request: HTML error page, 400, no `Location`, no cookie set,
/// the generic message, and the raw value not reflected.
async fn assert_page(res: reqwest::Response, needle: &str, raw: &str) {
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{raw:?}");
    assert!(
        res.headers().get("location").is_none(),
        "{raw:?}: an untrusted request must not redirect"
    );
    assert!(
        res.headers().get("set-cookie").is_none(),
        "{raw:?}: a refused request must not touch the session"
    );
    let body = res.text().await.unwrap();
    assert!(body.contains(needle), "{raw:?}: {body}");
    assert!(
        raw.len() < 4 || !body.contains(raw),
        "{raw:?} reflected in the page"
    );
}

/// Where a trusted error redirect went, checked as AZ-03 requires: to the registered
/// URI, with `error`, the state echoed, and a description free of control characters.
fn assert_error_redirect(app: &TestApp, res: &reqwest::Response, error: &str, state: &str) {
    assert_eq!(res.status(), StatusCode::FOUND);
    let to = location(res);
    assert!(to.starts_with(&format!("{CALLBACK}?")), "{to}");
    assert_eq!(query_param(&to, "error").as_deref(), Some(error), "{to}");
    assert_eq!(query_param(&to, "state").as_deref(), Some(state), "{to}");
    assert!(query_param(&to, "code").is_none(), "{to}");
    let description = query_param(&to, "error_description").unwrap_or_default();
    assert!(
        !description.contains(['\r', '\n', '\t']),
        "control characters in {description:?}"
    );
    // RFC 6749 §4.1.2.1: %x20-21 / %x23-5B / %x5D-7E only.
    assert!(
        description
            .bytes()
            .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\'),
        "{description:?}"
    );
    if let Some(iss) = query_param(&to, "iss") {
        assert_eq!(iss, app.issuer(), "RFC 9207 iss");
    }
    assert!(!to.contains('#'), "nothing may travel in a fragment: {to}");
}

async fn get(b: &reqwest::Client, url: &str) -> reqwest::Response {
    b.get(url).send().await.unwrap()
}

/// A client registering a trailing-slash callback and one with a query, for the
/// "slash removed" and "query reordered" variants.
async fn strict_client(app: &TestApp) -> AppClient {
    let mut new = ClientSettings::new("Strict App");
    new.callback_urls = vec![
        "https://app.example.com/a/".into(),
        "https://app.example.com/cb?b=2&a=1".into(),
    ];
    cognate::clients::create(
        &app.state,
        &app.pool_id,
        &new,
        cognate::clients::NewSecret::None,
    )
    .await
    .unwrap()
    .0
}

// Matrix: AZ-01
#[tokio::test]
async fn a_redirect_uri_not_byte_identical_to_a_registered_one_is_an_error_page() {
    // Arrange: a signed-in browser, so a wrongly accepted URI would get a code at once.
    let app = TestApp::spawn().await;
    app.login_and_authorize(&app.public, Some(&Pkce::new()))
        .await;
    let strict = strict_client(&app).await;
    let pkce = Pkce::new();
    // The public client registers http://localhost:3000/callback and
    // https://app.example.com/cb.
    let variants = [
        "http://localhost:3000/callback/",
        "http://localhost:3000/callback?x=1",
        "http://localhost:3000/callback?",
        "http://localhost:3000/callback#",
        "http://localhost:3000/callback#frag",
        "http://localhosts:3000/callback",
        "http://LOCALHOST:3000/callback",
        "HTTP://localhost:3000/callback",
        "http://localhost:3000/callback/../callback",
        "http://localhost:3000/x/../callback",
        "http://localhost:3000/callback/%2e%2e/callback",
        "http://localhost:3000/callback/%252e%252e/callback",
        "http://localhost:3000/Callback",
        "http://user@localhost:3000/callback",
        "http://user:pw@localhost:3000/callback",
        "http://localhost:3001/callback",
        "http://localhost/callback",
        "http://127.0.0.1:3000/callback",
        "https://app.example.com/cb/",
        "https://app.example.com/cb?x=1",
        "http://app.example.com/cb",
        "https://APP.EXAMPLE.COM/cb",
        "HTTPS://app.example.com/cb",
        "https://app.example.com:443/cb",
        "https://app.example.com./cb",
        "https://app.example.com/cb#x",
        "https://u@app.example.com/cb",
        "https://app.example.com/cb/../cb",
        "https://app.example.com/cb%2f..%2fx",
        "https://app.example.com/cb%20",
        " https://app.example.com/cb",
        "https://app.example.com/cb\t",
        "https://app.example.com/CB",
        "https://app.example.comx/cb",
        "https://evil.example.com/cb",
        "//app.example.com/cb",
        "/cb",
        "javascript:alert(1)//https://app.example.com/cb",
    ];
    for v in variants {
        let url = app.authorize_url(&app.public, Some(&pkce), &[("redirect_uri", v)]);
        assert_page(
            get(&app.browser, &url).await,
            "redirect_uri is not registered",
            v,
        )
        .await;
    }
    for v in [
        "https://app.example.com/a",
        "https://app.example.com/a//",
        "https://app.example.com/cb?a=1&b=2",
        "https://app.example.com/cb?b=2&a=3",
        "https://app.example.com/cb?b=2",
        "https://app.example.com/cb?b=2&a=1&",
        "https://app.example.com/cb?b=2&amp;a=1",
    ] {
        let url = app.authorize_url(&strict, None, &[("redirect_uri", v)]);
        assert_page(
            get(&app.browser, &url).await,
            "redirect_uri is not registered",
            v,
        )
        .await;
    }
    // Every payload of the shared open-redirect list, as the redirect URI itself.
    let lines = payload("open_redirect.txt");
    assert!(lines.len() > 90);
    for line in &lines {
        let url = app.authorize_url(&app.public, Some(&pkce), &[("redirect_uri", line)]);
        let res = get(&app.browser, &url).await;
        let needle = match line.contains('\0') {
            true => "contains a NUL character",
            false => "redirect_uri is not registered",
        };
        assert_page(res, needle, line).await;
    }
    // Control: the registered values themselves are accepted (the session answers with
    // a code straight away).
    for ok in [
        "https://app.example.com/a/",
        "https://app.example.com/cb?b=2&a=1",
    ] {
        let url = app.authorize_url(&strict, None, &[("redirect_uri", ok)]);
        let res = get(&app.browser, &url).await;
        assert_eq!(res.status(), StatusCode::FOUND, "{ok}");
        assert!(location(&res).starts_with(ok), "{}", location(&res));
    }
}

// Matrix: AZ-02
#[tokio::test]
async fn missing_unknown_or_duplicated_client_parameters_are_an_error_page() {
    let app = TestApp::spawn().await;
    app.login_and_authorize(&app.public, Some(&Pkce::new()))
        .await;
    let pkce = Pkce::new();
    let base = app.authorize_url(&app.public, Some(&pkce), &[]);
    let id = app.public.client_id.as_str();

    let missing = base.replace(&format!("redirect_uri={}", urlencode(CALLBACK)), "x=y");
    assert!(!missing.contains("redirect_uri"));
    assert_page(
        get(&app.browser, &missing).await,
        "redirect_uri is missing",
        "",
    )
    .await;

    for bad_id in [
        "nosuchclient".to_string(),
        format!("{id} "),
        format!(" {id}"),
        id.to_uppercase(),
        format!("{id}x"),
    ] {
        let url = base.replace(
            &format!("client_id={id}"),
            &format!("client_id={}", urlencode(&bad_id)),
        );
        assert_page(
            get(&app.browser, &url).await,
            "client_id is not known",
            &bad_id,
        )
        .await;
    }
    // A NUL (which PostgreSQL text cannot even hold) is refused before any lookup.
    let nul = base.replace(&format!("client_id={id}"), &format!("client_id={id}%00"));
    assert_page(get(&app.browser, &nul).await, "NUL character", "").await;
    let no_id = base.replace(&format!("client_id={id}"), "x=y");
    assert_page(get(&app.browser, &no_id).await, "client_id is missing", "").await;

    // Duplicates, with equal or different values, in either position: refused, never
    // "first wins" (the first value is valid in every case here).
    for dup in [
        format!("client_id={id}"),
        "client_id=nosuchclient".to_string(),
        format!("redirect_uri={}", urlencode(CALLBACK)),
        format!("redirect_uri={}", urlencode("https://evil.example.com/")),
        "response_type=code".to_string(),
        "response_type=token".to_string(),
    ] {
        for url in [
            format!("{base}&{dup}"),
            base.replacen('?', &format!("?{dup}&"), 1),
        ] {
            assert_page(get(&app.browser, &url).await, "more than once", "").await;
        }
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

// Matrix: AZ-03
#[tokio::test]
async fn errors_for_a_trusted_redirect_uri_come_back_clean_with_the_state() {
    let app = TestApp::spawn().await;
    let pkce = Pkce::new();
    let state = "s-\"<&>'\u{e9}";
    let cases: [(&[(&str, &str)], &str); 7] = [
        (&[("scope", "openid admin")], "invalid_scope"),
        (
            &[("scope", "openid\r\nSet-Cookie: x=1\tadmin")],
            "invalid_scope",
        ),
        (&[("scope", "\"<script>\\")], "invalid_scope"),
        (&[("response_type", "")], "invalid_request"),
        (&[("response_type", "token")], "unsupported_response_type"),
        (
            &[("identity_provider", "NoSuchProvider\r\n")],
            "invalid_request",
        ),
        (&[("prompt", "none")], "login_required"),
    ];
    for (extra, error) in cases {
        let mut extra = extra.to_vec();
        extra.push(("state", state));
        let url = app.authorize_url(&app.public, Some(&pkce), &extra);
        let res = get(&browser(), &url).await;
        assert_error_redirect(&app, &res, error, state);
    }
    // A missing response_type altogether.
    let url = app
        .authorize_url(&app.public, Some(&pkce), &[("state", state)])
        .replace("response_type=code&", "");
    assert!(!url.contains("response_type"));
    assert_error_redirect(&app, &get(&browser(), &url).await, "invalid_request", state);
}

// Matrix: AZ-04
#[tokio::test]
async fn implicit_hybrid_and_other_response_modes_are_refused() {
    let app = TestApp::spawn().await;
    // A signed-in browser: a wrongly accepted request would be answered at once.
    app.login_and_authorize(&app.public, Some(&Pkce::new()))
        .await;
    let pkce = Pkce::new();
    for rt in [
        "token",
        "id_token",
        "code id_token",
        "code token",
        "id_token token",
        "none",
    ] {
        let url = app.authorize_url(&app.public, Some(&pkce), &[("response_type", rt)]);
        let res = get(&app.browser, &url).await;
        assert_error_redirect(&app, &res, "unsupported_response_type", "st-1");
        assert!(!location(&res).contains("access_token"));
        assert!(!location(&res).contains("id_token="));
    }
    for mode in ["form_post", "fragment", "web_message", "query.jwt"] {
        let url = app.authorize_url(&app.public, Some(&pkce), &[("response_mode", mode)]);
        let res = get(&app.browser, &url).await;
        assert_error_redirect(&app, &res, "invalid_request", "st-1");
    }
    // The one mode there is may be named.
    let url = app.authorize_url(&app.public, Some(&pkce), &[("response_mode", "query")]);
    let res = get(&app.browser, &url).await;
    assert!(query_param(&location(&res), "code").is_some());

    // A client not enabled for the code flow.
    let mut new = ClientSettings::new("No Code Flow");
    new.callback_urls = vec![CALLBACK.into()];
    new.allowed_flows = vec![];
    let (client, _) = cognate::clients::create(
        &app.state,
        &app.pool_id,
        &new,
        cognate::clients::NewSecret::None,
    )
    .await
    .unwrap();
    let url = app.authorize_url(&client, Some(&pkce), &[]);
    assert_error_redirect(
        &app,
        &get(&app.browser, &url).await,
        "unauthorized_client",
        "st-1",
    );
}

// Matrix: AZ-05
#[tokio::test]
async fn malformed_or_missing_pkce_is_invalid_request() {
    let app = TestApp::spawn().await;
    app.login_and_authorize(&app.public, Some(&Pkce::new()))
        .await;
    let good = Pkce::new().challenge;
    let c42 = "a".repeat(42);
    let c129 = "a".repeat(129);
    let c43_bad = format!("{}+/", &good[..41]);
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![
            ("code_challenge", &good),
            ("code_challenge_method", "plain"),
        ],
        vec![("code_challenge", &good), ("code_challenge_method", "s256")],
        vec![("code_challenge", &good), ("code_challenge_method", "S512")],
        vec![("code_challenge", &good)],
        vec![("code_challenge_method", "S256")],
        vec![("code_challenge", &c42), ("code_challenge_method", "S256")],
        vec![("code_challenge", &c129), ("code_challenge_method", "S256")],
        vec![
            ("code_challenge", &c43_bad),
            ("code_challenge_method", "S256"),
        ],
        vec![
            (
                "code_challenge",
                "ąąąąąąąąąąąąąąąąąąąąąąąąąąąąąąąąąąąąąąąąąąą",
            ),
            ("code_challenge_method", "S256"),
        ],
    ];
    for extra in cases {
        let url = app.authorize_url(&app.public, None, &extra);
        let res = get(&app.browser, &url).await;
        assert_error_redirect(&app, &res, "invalid_request", "st-1");
    }
    // A public client without any challenge.
    let res = get(&app.browser, &app.authorize_url(&app.public, None, &[])).await;
    assert_error_redirect(&app, &res, "invalid_request", "st-1");
    // With S256 the only method, a challenge is a SHA-256 digest in base64url: exactly
    // 43 characters with canonical trailing bits (found by fuzz/authorize_query). 44 to
    // 128 characters, valid for a verifier, could never match one.
    for c in ["a".repeat(44), "a".repeat(128), "a".repeat(43)] {
        let url = app.authorize_url(
            &app.public,
            None,
            &[("code_challenge", &c), ("code_challenge_method", "S256")],
        );
        assert_error_redirect(
            &app,
            &get(&app.browser, &url).await,
            "invalid_request",
            "st-1",
        );
    }
    // Control: a real S256 challenge is accepted.
    let url = app.authorize_url(
        &app.public,
        None,
        &[("code_challenge", &good), ("code_challenge_method", "S256")],
    );
    assert!(query_param(&location(&get(&app.browser, &url).await), "code").is_some());
    // Not done: refusing a challenge a client reuses (optional in the row). PKCE binds
    // each code to its own challenge and every code is single-use, so a reused
    // challenge gains an attacker nothing a reused code would not.
}

// Matrix: AZ-06
#[tokio::test]
async fn state_comes_back_once_byte_exact_and_is_never_reflected_raw() {
    let app = TestApp::spawn().await;
    let long: String = "Az09-._~!$'()*,;:@/?".chars().cycle().take(2048).collect();
    let states = [
        "a&b=c#d+e%41 f\"g'h".to_string(),
        "<script>alert(1)</script>".to_string(),
        "\u{1f600} emoji and ünïcödé".to_string(),
        "%25%2541+%20".to_string(),
        "  leading and trailing  ".to_string(),
        long,
    ];
    for state in &states {
        // A new browser: the login page in between is scanned for the raw value.
        let b = browser();
        let pkce = Pkce::new();
        let url = app.authorize_url(&app.public, Some(&pkce), &[("state", state)]);
        let res = get(&b, &url).await;
        let login = location(&res);
        let page = get(&b, &login).await.text().await.unwrap();
        if state.contains(['<', '"', '\'']) {
            assert!(!page.contains(state.as_str()), "state reflected raw");
        }
        let callback = app.sign_in(&b, &url, "alice", PASSWORD).await;
        let states: Vec<String> = url::Url::parse(&callback)
            .unwrap()
            .query_pairs()
            .filter(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
            .collect();
        assert_eq!(states, vec![state.clone()], "exactly once, byte-exact");
    }
    // 2049 bytes are refused (the state is then not echoed).
    let url = app.authorize_url(
        &app.public,
        Some(&Pkce::new()),
        &[("state", &"s".repeat(2049))],
    );
    let to = location(&get(&browser(), &url).await);
    assert_eq!(
        query_param(&to, "error").as_deref(),
        Some("invalid_request")
    );
    assert!(query_param(&to, "state").is_none());

    // Unknown extra parameters are ignored, and the order is irrelevant.
    let pkce = Pkce::new();
    let mut params: Vec<(&str, &str)> = vec![
        ("state", "ordered"),
        ("foo", "bar"),
        ("x-custom", "<y>"),
        ("code_challenge_method", "S256"),
        ("code_challenge", &pkce.challenge),
        ("scope", "openid"),
        ("redirect_uri", CALLBACK),
        ("client_id", &app.public.client_id),
        ("response_type", "code"),
    ];
    params.reverse();
    params.rotate_left(3);
    let url = cognate::clients::redirect::with_params(&app.url("/oauth2/authorize"), &params);
    let callback = app.sign_in(&browser(), &url, "alice", PASSWORD).await;
    assert_eq!(query_param(&callback, "state").as_deref(), Some("ordered"));
    let code = query_param(&callback, "code").unwrap();
    let res = app.exchange(&app.public, &code, Some(&pkce.verifier)).await;
    assert_eq!(res.status(), StatusCode::OK);
}

/// The `auth_time` of the ID token a callback's code redeems to.
pub(crate) async fn auth_time(app: &TestApp, callback: &str, pkce: &Pkce) -> i64 {
    let code = query_param(callback, "code").expect("a code");
    let res = app.exchange(&app.public, &code, Some(&pkce.verifier)).await;
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    let tokens: serde_json::Value = res.json().await.unwrap();
    jwt_claims(tokens["id_token"].as_str().unwrap())["auth_time"]
        .as_i64()
        .unwrap()
}

// Matrix: AZ-07
#[tokio::test]
async fn prompt_login_and_max_age_force_a_new_sign_in_and_prompt_none_is_silent() {
    let app = TestApp::spawn().await;
    let pkce = Pkce::new();
    let first = app
        .sign_in(
            &app.browser,
            &app.authorize_url(&app.public, Some(&pkce), &[]),
            "alice",
            PASSWORD,
        )
        .await;
    let t0 = auth_time(&app, &first, &pkce).await;

    // prompt=none with the session: a code without any page, same auth_time.
    let pkce = Pkce::new();
    let url = app.authorize_url(&app.public, Some(&pkce), &[("prompt", "none")]);
    let silent = location(&get(&app.browser, &url).await);
    assert!(silent.starts_with(CALLBACK), "{silent}");
    assert_eq!(auth_time(&app, &silent, &pkce).await, t0);

    // prompt=login: the form again, and a later auth_time.
    app.state.clock.advance(10);
    let pkce = Pkce::new();
    let url = app.authorize_url(&app.public, Some(&pkce), &[("prompt", "login")]);
    let again = app.sign_in(&app.browser, &url, "alice", PASSWORD).await;
    let t1 = auth_time(&app, &again, &pkce).await;
    assert!(t1 >= t0 + 10, "{t0} → {t1}");

    // max_age: within it, silent; beyond it, the form again.
    let pkce = Pkce::new();
    let url = app.authorize_url(&app.public, Some(&pkce), &[("max_age", "60")]);
    let within = location(&get(&app.browser, &url).await);
    assert_eq!(auth_time(&app, &within, &pkce).await, t1);
    app.state.clock.advance(2);
    let pkce = Pkce::new();
    let url = app.authorize_url(&app.public, Some(&pkce), &[("max_age", "1")]);
    let res = get(&app.browser, &url).await;
    assert!(
        location(&res).contains("/login?"),
        "max_age=1 shows the form"
    );
    let pkce = Pkce::new();
    let url = app.authorize_url(
        &app.public,
        Some(&pkce),
        &[("max_age", "1"), ("prompt", "none")],
    );
    assert_error_redirect(
        &app,
        &get(&app.browser, &url).await,
        "login_required",
        "st-1",
    );
    let pkce = Pkce::new();
    let url = app.authorize_url(&app.public, Some(&pkce), &[("max_age", "1")]);
    let fresh = app.sign_in(&app.browser, &url, "alice", PASSWORD).await;
    assert!(auth_time(&app, &fresh, &pkce).await >= t1 + 2);
    for bad in ["-1", "x", "1.5"] {
        let url = app.authorize_url(&app.public, Some(&Pkce::new()), &[("max_age", bad)]);
        assert_error_redirect(
            &app,
            &get(&app.browser, &url).await,
            "invalid_request",
            "st-1",
        );
    }
}

// Matrix: AZ-09
#[tokio::test]
async fn a_thousand_codes_are_distinct_long_and_high_entropy() {
    let app = TestApp::spawn().await;
    let pkce = Pkce::new();
    app.login_and_authorize(&app.public, Some(&pkce)).await;
    let url = app.authorize_url(&app.public, Some(&pkce), &[]);
    let mut codes = HashSet::new();
    for _ in 0..1000 {
        let to = location(&get(&app.browser, &url).await);
        let code = query_param(&to, "code").expect("a code");
        assert!(code.len() >= 22, "{code}");
        assert!(
            code.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{code}"
        );
        assert!(codes.insert(code), "a code repeated");
    }
    // The conformance suite's estimate: Shannon entropy per character over all codes,
    // times the average length.
    let mut counts: HashMap<char, usize> = HashMap::new();
    let mut total = 0usize;
    for c in &codes {
        for ch in c.chars() {
            *counts.entry(ch).or_default() += 1;
            total += 1;
        }
    }
    let per_char: f64 = counts
        .values()
        .map(|&n| {
            let p = n as f64 / total as f64;
            -p * p.log2()
        })
        .sum();
    let bits = per_char * (total as f64 / codes.len() as f64);
    assert!(bits >= 96.0, "estimated {bits:.1} bits per code");
}
