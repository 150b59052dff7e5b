//! `/oauth2/authorize`: what is an error page, what is an error redirect, and what
//! the session lets a browser skip.

use reqwest::StatusCode;

use crate::helpers::{CALLBACK, PASSWORD, Pkce, TestApp, browser, location, query_param};

/// An HTML error page, and no redirect at all.
async fn assert_error_page(res: reqwest::Response, needle: &str) {
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(
        res.headers().get("location").is_none(),
        "an untrusted request must not redirect"
    );
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let body = res.text().await.unwrap();
    assert!(body.contains(needle), "{body}");
}

// Matrix: AZ-02
#[tokio::test]
async fn an_unknown_client_gets_an_error_page_not_a_redirect() {
    let app = TestApp::spawn().await;
    let mut client = app.public.clone();
    client.client_id = "nosuchclient".into();
    let res = app
        .browser
        .get(app.authorize_url(&client, Some(&Pkce::new()), &[]))
        .send()
        .await
        .unwrap();
    assert_error_page(res, "client_id is not known").await;
}

// Matrix: AZ-01
#[tokio::test]
async fn an_unregistered_redirect_uri_gets_an_error_page_not_a_redirect() {
    let app = TestApp::spawn().await;
    let pkce = Pkce::new();
    for uri in [
        "http://localhost:3000/callback/",
        "http://localhost:3000/callback?x=1",
        "http://LOCALHOST:3000/callback",
        "https://evil.example.com/callback",
    ] {
        let url = app.authorize_url(&app.public, Some(&pkce), &[("redirect_uri", uri)]);
        let res = app.browser.get(url).send().await.unwrap();
        assert_error_page(res, "redirect_uri is not registered").await;
    }
}

// Matrix: AZ-03, AZ-04, AZ-05
#[tokio::test]
async fn errors_after_the_redirect_uri_is_trusted_go_back_to_the_client_with_state() {
    let app = TestApp::spawn().await;
    let pkce = Pkce::new();
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[("scope", "openid admin")], "invalid_scope"),
        (&[("response_type", "token")], "unsupported_response_type"),
        (&[("code_challenge_method", "plain")], "invalid_request"),
        (&[("code_challenge", "short")], "invalid_request"),
    ];
    for (extra, error) in cases {
        let res = app
            .browser
            .get(app.authorize_url(&app.public, Some(&pkce), extra))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FOUND);
        let to = location(&res);
        assert!(to.starts_with(CALLBACK), "{to}");
        assert_eq!(
            query_param(&to, "error").as_deref(),
            Some(error),
            "{extra:?}"
        );
        assert_eq!(query_param(&to, "state").as_deref(), Some("st-1"));
    }
}

// Matrix: AZ-05
#[tokio::test]
async fn a_public_client_must_use_pkce() {
    let app = TestApp::spawn().await;
    let res = app
        .browser
        .get(app.authorize_url(&app.public, None, &[]))
        .send()
        .await
        .unwrap();
    let to = location(&res);
    assert_eq!(
        query_param(&to, "error").as_deref(),
        Some("invalid_request")
    );
    assert!(
        query_param(&to, "error_description")
            .unwrap()
            .contains("PKCE")
    );
}

// Matrix: AZ-02
#[tokio::test]
async fn a_repeated_parameter_is_refused() {
    let app = TestApp::spawn().await;
    let url = format!(
        "{}&client_id={}",
        app.authorize_url(&app.public, Some(&Pkce::new()), &[]),
        app.public.client_id
    );
    let res = app.browser.get(url).send().await.unwrap();
    assert_error_page(res, "more than once").await;
}

// Matrix: AZ-06
#[tokio::test]
async fn state_is_echoed_byte_for_byte() {
    let app = TestApp::spawn().await;
    let state = "a b+c/d?e=f&g=%41 ünï_çødé ~!*'()";
    let pkce = Pkce::new();
    let url = app.authorize_url(&app.public, Some(&pkce), &[("state", state)]);
    let callback = app.sign_in(&app.browser, &url, "alice", PASSWORD).await;
    assert_eq!(query_param(&callback, "state").as_deref(), Some(state));
}

// Matrix: AZ-07
#[tokio::test]
async fn a_signed_in_browser_skips_the_form_unless_prompt_is_login() {
    // Arrange: one sign-in.
    let app = TestApp::spawn().await;
    let pkce = Pkce::new();
    app.login_and_authorize(&app.public, Some(&pkce)).await;
    // Act: a second authorize in the same session.
    let res = app
        .browser
        .get(app.authorize_url(&app.public, Some(&pkce), &[]))
        .send()
        .await
        .unwrap();
    // Assert: straight back with a new code that redeems.
    let to = location(&res);
    assert!(to.starts_with(CALLBACK), "{to}");
    let code = query_param(&to, "code").unwrap();
    assert_eq!(
        app.exchange(&app.public, &code, Some(&pkce.verifier))
            .await
            .status(),
        200
    );

    let forced = app
        .browser
        .get(app.authorize_url(&app.public, Some(&pkce), &[("prompt", "login")]))
        .send()
        .await
        .unwrap();
    assert!(
        location(&forced).contains("/login?"),
        "prompt=login shows the form again"
    );
}

// Matrix: AZ-03
#[tokio::test]
async fn prompt_none_without_a_session_returns_login_required() {
    let app = TestApp::spawn().await;
    let res = browser()
        .get(app.authorize_url(&app.public, Some(&Pkce::new()), &[("prompt", "none")]))
        .send()
        .await
        .unwrap();
    let to = location(&res);
    assert!(to.starts_with(CALLBACK));
    assert_eq!(query_param(&to, "error").as_deref(), Some("login_required"));
    assert_eq!(query_param(&to, "state").as_deref(), Some("st-1"));
}

// Matrix: AZ-07
#[tokio::test]
async fn prompt_none_with_a_session_returns_a_code() {
    let app = TestApp::spawn().await;
    let pkce = Pkce::new();
    app.login_and_authorize(&app.public, Some(&pkce)).await;
    let res = app
        .browser
        .get(app.authorize_url(&app.public, Some(&pkce), &[("prompt", "none")]))
        .send()
        .await
        .unwrap();
    assert!(query_param(&location(&res), "code").is_some());
}

// Matrix: GN-01
#[tokio::test]
async fn discovery_publishes_every_endpoint_and_jwks_is_cacheable() {
    let app = TestApp::spawn().await;
    let res = app
        .http
        .get(app.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    let doc: serde_json::Value = res.json().await.unwrap();
    assert_eq!(doc["issuer"], app.issuer());
    for (key, path) in [
        ("authorization_endpoint", "/oauth2/authorize"),
        ("token_endpoint", "/oauth2/token"),
        ("userinfo_endpoint", "/oauth2/userInfo"),
        ("revocation_endpoint", "/oauth2/revoke"),
        ("jwks_uri", "/.well-known/jwks.json"),
    ] {
        assert_eq!(doc[key], app.url(path));
    }
    assert_eq!(
        doc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    let jwks = app
        .http
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert!(
        jwks.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    let jwks: serde_json::Value = jwks.json().await.unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["alg"], "RS256");
    assert!(key["kid"].as_str().is_some_and(|k| !k.is_empty()));
    assert!(key.get("d").is_none(), "no private part");

    let missing = app
        .http
        .get(format!(
            "{}/us-east-1_nosuchpool/.well-known/jwks.json",
            app.base()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn discovery_and_jwks_carry_an_etag_and_answer_304_when_it_matches() {
    let app = TestApp::spawn().await;
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/jwks.json",
    ] {
        let first = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(first.status(), 200);
        let etag = first.headers()["etag"].to_str().unwrap().to_string();
        assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
        let body = first.text().await.unwrap();
        // The same tag: 304 without a body; a list holding it, or a weak form, too.
        for tags in [
            etag.clone(),
            format!("\"other\", {etag}"),
            format!("W/{etag}"),
        ] {
            let again = app
                .http
                .get(app.url(path))
                .header("if-none-match", tags)
                .send()
                .await
                .unwrap();
            assert_eq!(again.status(), 304, "{path}");
            assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
            assert!(again.text().await.unwrap().is_empty());
        }
        // Another tag: the whole document again, unchanged.
        let other = app
            .http
            .get(app.url(path))
            .header("if-none-match", "\"stale\"")
            .send()
            .await
            .unwrap();
        assert_eq!(other.status(), 200);
        assert_eq!(other.text().await.unwrap(), body);
    }
}
