//! Security matrix rows of userInfo (UI-01), revocation (RV-01) and logout (LO-01,
//! LO-02).

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{
    CALLBACK, LOGOUT, PASSWORD, Pkce, TestApp, assert_oauth_error, browser, jwt_claims, location,
    query_param,
};
use crate::sec_token::{fresh_tokens, s};
use crate::state_relay::payload;

async fn assert_bearer_refused(res: reqwest::Response, case: &str) {
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{case}");
    let challenge = res
        .headers()
        .get("www-authenticate")
        .unwrap_or_else(|| panic!("{case}: no WWW-Authenticate"))
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        challenge.starts_with("Bearer") && challenge.contains("error=\"invalid_token\""),
        "{case}: {challenge}"
    );
}

// Matrix: UI-01
#[tokio::test]
async fn userinfo_refuses_every_bad_bearer_and_ignores_query_tokens() {
    let app = TestApp::spawn().await;
    let tokens = fresh_tokens(&app, &app.public, "openid email").await;
    let at = s(&tokens, "access_token");
    let url = app.url("/oauth2/userInfo");

    assert_bearer_refused(app.http.get(&url).send().await.unwrap(), "no token").await;
    for (case, header) in [
        ("malformed", "Bearer not.a.jwt".to_string()),
        ("empty bearer", "Bearer ".to_string()),
        ("wrong scheme", format!("Basic {at}")),
        ("lower-case scheme with junk", "bearer x".to_string()),
        ("ID token", format!("Bearer {}", s(&tokens, "id_token"))),
        (
            "refresh token",
            format!("Bearer {}", s(&tokens, "refresh_token")),
        ),
    ] {
        let res = app
            .http
            .get(&url)
            .header("authorization", header)
            .send()
            .await
            .unwrap();
        assert_bearer_refused(res, case).await;
    }
    // A token in the query string or in a form body is ignored (RFC 9700 §4.3.2).
    let res = app
        .http
        .get(&url)
        .query(&[("access_token", at)])
        .send()
        .await
        .unwrap();
    assert_bearer_refused(res, "token in the query").await;
    let res = app
        .http
        .post(&url)
        .form(&[("access_token", at)])
        .send()
        .await
        .unwrap();
    assert_bearer_refused(res, "token in a form body").await;

    // Claims follow the granted scopes; sub is the ID token's.
    let info: Value = app.userinfo(at).await.json().await.unwrap();
    assert_eq!(info["sub"], jwt_claims(s(&tokens, "id_token"))["sub"]);
    assert_eq!(info["email"], "alice@example.com");
    assert!(
        info.get("name").is_none(),
        "profile was not granted: {info}"
    );
    assert!(info.get("phone_number").is_none(), "{info}");
    let openid_only = fresh_tokens(&app, &app.public, "openid").await;
    let info: Value = app
        .userinfo(s(&openid_only, "access_token"))
        .await
        .json()
        .await
        .unwrap();
    assert!(info.get("email").is_none(), "email was not granted: {info}");
    assert_eq!(info["sub"], jwt_claims(s(&tokens, "id_token"))["sub"]);
    let all = fresh_tokens(&app, &app.public, "openid email profile phone").await;
    let info: Value = app
        .userinfo(s(&all, "access_token"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info["name"], "alice Example");
    assert_eq!(info["phone_number"], "+15555550100");

    // Revoked, then expired.
    let res = app
        .http
        .post(app.url("/oauth2/revoke"))
        .form(&[
            ("token", s(&all, "refresh_token")),
            ("client_id", &app.public.client_id),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_bearer_refused(app.userinfo(s(&all, "access_token")).await, "revoked").await;
    app.state.clock.advance(3601);
    assert_bearer_refused(app.userinfo(at).await, "expired").await;
    // Tokens of another server's pool: see userinfo::a_token_signed_with_a_foreign_key_is_refused
    // and sec_jwt (JW-05). A client-credentials token is TK-11's (another helper).
}

async fn revoke(
    app: &TestApp,
    auth: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = app.http.post(app.url("/oauth2/revoke")).form(form);
    if let Some((id, secret)) = auth {
        req = req.basic_auth(id, Some(secret));
    }
    req.send().await.unwrap()
}

// Matrix: RV-01
#[tokio::test]
async fn revocation_follows_cognito_and_rfc_7009() {
    let app = TestApp::spawn().await;
    let conf_id = app.confidential.client_id.clone();
    let secret = app.secret.clone();
    let conf = || Some((conf_id.as_str(), secret.as_str()));

    // A refresh token: it and every access token derived from it stop working.
    let t = fresh_tokens(&app, &app.confidential, "openid email").await;
    let refreshed: Value = app
        .refresh(&app.confidential, s(&t, "refresh_token"))
        .await
        .json()
        .await
        .unwrap();
    let res = revoke(&app, conf(), &[("token", s(&refreshed, "refresh_token"))]).await;
    assert_eq!(res.status(), 200);
    for at in [s(&t, "access_token"), s(&refreshed, "access_token")] {
        assert_eq!(app.userinfo(at).await.status(), 401);
    }
    assert_oauth_error(
        app.refresh(&app.confidential, s(&refreshed, "refresh_token"))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;

    // Unknown or garbage tokens: 200, as RFC 7009 §2.2 says.
    for garbage in ["nonsense", "a.b.c", &"x".repeat(4000)] {
        let res = revoke(&app, conf(), &[("token", garbage)]).await;
        assert_eq!(res.status(), 200, "{garbage:.10}");
    }

    // Another client's token: an error, and the token stays valid.
    let other = fresh_tokens(&app, &app.public, "openid").await;
    let res = revoke(&app, conf(), &[("token", s(&other, "refresh_token"))]).await;
    assert_oauth_error(res, StatusCode::BAD_REQUEST, "unauthorized_client").await;
    assert_eq!(
        app.refresh(&app.public, s(&other, "refresh_token"))
            .await
            .status(),
        200
    );

    // A confidential client without (or with wrong) authentication: 401 invalid_client,
    // and nothing revoked.
    let t = fresh_tokens(&app, &app.confidential, "openid").await;
    for (case, res) in [
        (
            "no authentication",
            revoke(&app, None, &[("token", s(&t, "refresh_token"))]).await,
        ),
        (
            "client_id only",
            revoke(
                &app,
                None,
                &[("token", s(&t, "refresh_token")), ("client_id", &conf_id)],
            )
            .await,
        ),
        (
            "wrong secret",
            revoke(
                &app,
                Some((&conf_id, "wrong")),
                &[("token", s(&t, "refresh_token"))],
            )
            .await,
        ),
    ] {
        assert_eq!(res.status(), 401, "{case}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "invalid_client", "{case}");
    }
    assert_eq!(app.userinfo(s(&t, "access_token")).await.status(), 200);

    // An access token: the row suggests unsupported_token_type (as Cognito's docs list
    // only refresh tokens); cognate accepts it and revokes the whole sign-in it came
    // from (RFC 7009 allows access tokens; README "Revocation"). Kept: it is the safer
    // reading, and an app that sends one gets what it asked for.
    let res = revoke(&app, conf(), &[("token", s(&t, "access_token"))]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.userinfo(s(&t, "access_token")).await.status(), 401);
    assert_oauth_error(
        app.refresh(&app.confidential, s(&t, "refresh_token")).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    // A missing token parameter.
    let res = revoke(&app, conf(), &[]).await;
    assert_oauth_error(res, StatusCode::BAD_REQUEST, "invalid_request").await;
}

async fn logout(b: &reqwest::Client, app: &TestApp, params: &[(&str, &str)]) -> reqwest::Response {
    b.get(app.url("/logout"))
        .query(params)
        .send()
        .await
        .unwrap()
}

// Matrix: LO-01
#[tokio::test]
async fn logout_redirects_only_to_a_registered_logout_url() {
    let app = TestApp::spawn().await;
    let b = browser();
    app.sign_in(
        &b,
        &app.authorize_url(&app.public, Some(&Pkce::new()), &[]),
        "alice",
        PASSWORD,
    )
    .await;
    let id = app.public.client_id.as_str();
    let mut refused: Vec<String> = [
        "http://localhost:3000/signed-out?foo=bar",
        "http://localhost:3000/signed-out/",
        "http://localhost:3000/Signed-Out",
        "http://LOCALHOST:3000/signed-out",
        "HTTP://localhost:3000/signed-out",
        "http://localhost:3000/signed-out#x",
        "http://localhost:3000/signed-out/../signed-out",
        "http://user@localhost:3000/signed-out",
        "http://localhost:3001/signed-out",
        // A registered callback is not a logout URL.
        CALLBACK,
        "https://evil.example.com/",
    ]
    .map(String::from)
    .to_vec();
    refused.extend(payload("open_redirect.txt"));
    for uri in &refused {
        let res = logout(&b, &app, &[("client_id", id), ("logout_uri", uri)]).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{uri:?}");
        assert!(res.headers().get("location").is_none(), "{uri:?}");
    }
    // A refused logout did not end the session.
    assert!(app.signed_in(&b).await);
    for params in [
        vec![("client_id", "nosuchclient"), ("logout_uri", LOGOUT)],
        vec![("logout_uri", LOGOUT)],
        vec![("client_id", id)],
        vec![
            ("client_id", id),
            ("logout_uri", LOGOUT),
            ("logout_uri", LOGOUT),
        ],
    ] {
        let res = logout(&b, &app, &params).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{params:?}");
        assert!(res.headers().get("location").is_none());
    }
    assert!(app.signed_in(&b).await);
    // The registered value: 302 to exactly it.
    let res = logout(&b, &app, &[("client_id", id), ("logout_uri", LOGOUT)]).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(location(&res), LOGOUT);
    assert!(!app.signed_in(&b).await);
}

/// The session cookie's `name=value`.
fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.contains("cognate_session="))
        .map(|c| c.split(';').next().unwrap().to_string())
}

// Matrix: LO-02
#[tokio::test]
async fn after_logout_the_old_cookie_is_worthless_and_refresh_tokens_survive() {
    let app = TestApp::spawn().await;
    let pkce = Pkce::new();
    let url = app.authorize_url(&app.public, Some(&pkce), &[]);
    // Sign in with a cookie jar we can copy: the cookie set at sign-in is the session.
    let b = browser();
    let res = b.get(&url).send().await.unwrap();
    let login = b.get(location(&res)).send().await.unwrap();
    let form = crate::helpers::Form::parse(&login.text().await.unwrap());
    let res = b
        .post(&form.action)
        .form(&[
            ("csrf_token", form.csrf.as_str()),
            ("username", "alice"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let cookie = session_cookie(&res).expect("a session cookie at sign-in");
    let code = query_param(&location(&res), "code").unwrap();
    let tokens: Value = app
        .exchange(&app.public, &code, Some(&pkce.verifier))
        .await
        .json()
        .await
        .unwrap();
    let replay = |extra: &[(&str, &str)]| {
        let url = app.authorize_url(&app.public, Some(&Pkce::new()), extra);
        let cookie = cookie.clone();
        let http = app.http.clone();
        async move { http.get(url).header("cookie", cookie).send().await.unwrap() }
    };
    // Before logout the copied cookie is the session.
    assert!(location(&replay(&[]).await).starts_with(CALLBACK));

    // A cross-site forced logout is a GET, as on Cognito: tolerated.
    let res = logout(
        &b,
        &app,
        &[
            ("client_id", &app.public.client_id),
            ("logout_uri", LOGOUT),
            ("id_token_hint", s(&tokens, "id_token")),
        ],
    )
    .await;
    assert_eq!(location(&res), LOGOUT);

    // The old cookie is now unauthenticated, and prompt=none says so.
    assert!(location(&replay(&[]).await).contains("/login?"));
    let to = location(&replay(&[("prompt", "none")]).await);
    assert_eq!(query_param(&to, "error").as_deref(), Some("login_required"));
    // Refresh tokens survive /logout (Cognito's behaviour; README "Sessions"): logout
    // ends the browser session, RevokeToken or /oauth2/revoke end a sign-in.
    let res = app.refresh(&app.public, s(&tokens, "refresh_token")).await;
    assert_eq!(res.status(), 200);
    // Forged id_token_hints are covered with every crafted token in sec_jwt
    // (`Lab::assert_refused`): a hint never skips the logout_uri check.
}
