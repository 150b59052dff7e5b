//! Security matrix rows of the hosted-UI session (SS-01 … SS-03) and the general rows
//! GN-01 (discovery tells the truth) and GN-02 (request headers never make links).

use axum::body::Body;
use axum::http::Request;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::helpers::{
    CALLBACK, Form, LOGOUT, PASSWORD, Pkce, TestApp, browser, jwt_claims, location, query_param,
};
use crate::sec_token::{account_client, api, s};

/// A client without a cookie store: the test carries the cookie itself.
fn bare() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The session cookie's `name=value` in a response, if it sets one.
fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.contains("cognate_session="))
        .map(|c| c.split(';').next().unwrap().to_string())
}

async fn get_with(url: &str, cookie: &str) -> reqwest::Response {
    bare()
        .get(url)
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

/// Whether `cookie` is a signed-in session: authorize answers with a code at once.
async fn cookie_signed_in(app: &TestApp, cookie: &str) -> bool {
    let res = get_with(
        &app.authorize_url(&app.public, Some(&Pkce::new()), &[]),
        cookie,
    )
    .await;
    let to = location(&res);
    assert!(
        to.starts_with(CALLBACK) || to.contains("/login?"),
        "neither signed in nor the form: {to}"
    );
    to.starts_with(CALLBACK)
}

/// Signs alice in while carrying `planted` as the session cookie from the start;
/// returns (the cookie before sign-in, the cookie after).
async fn sign_in_carrying(app: &TestApp, planted: Option<&str>) -> (String, String) {
    let url = app.authorize_url(&app.public, Some(&Pkce::new()), &[]);
    let mut cookie = planted.unwrap_or_default().to_string();
    let res = get_with(&url, &cookie).await;
    let login = location(&res);
    let page = get_with(&login, &cookie).await;
    if let Some(c) = session_cookie(&page) {
        cookie = c;
    }
    let before = cookie.clone();
    let form = Form::parse(&page.text().await.unwrap());
    let res = bare()
        .post(&form.action)
        .header("cookie", &cookie)
        .form(&[
            ("csrf_token", form.csrf.as_str()),
            ("username", "alice"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND, "sign-in");
    let after = session_cookie(&res).expect("a session cookie is set at sign-in");
    (before, after)
}

// Matrix: SS-01
#[tokio::test]
async fn a_session_id_from_before_sign_in_never_becomes_authenticated() {
    let app = TestApp::spawn().await;
    // The ordinary case: the pre-login cookie (it holds the CSRF token) is replaced.
    let (before, after) = sign_in_carrying(&app, None).await;
    assert_ne!(before, after);
    let value = after.split_once('=').unwrap().1;
    assert!(value.len() >= 22, "≥ 128 bits: {value}");
    assert!(cookie_signed_in(&app, &after).await);
    assert!(!cookie_signed_in(&app, &before).await, "the old id is dead");

    // An attacker-chosen value planted before sign-in is ignored and replaced.
    let planted = "cognate_session=AAAAAAAAAAAAAAAAAAAAAA";
    let (before, after) = sign_in_carrying(&app, Some(planted)).await;
    assert_ne!(before, planted, "a made-up id is not adopted");
    assert_ne!(after, planted);
    assert!(!cookie_signed_in(&app, planted).await);
    // A real pre-login id the attacker obtained (say, by visiting /login first) and then
    // planted in the victim's browser: the victim's sign-in gives a new id.
    let res = bare()
        .get(app.page("login", &Pkce::new(), &[]))
        .send()
        .await
        .unwrap();
    let attackers = session_cookie(&res).expect("the login page starts a session");
    let (_, victims) = sign_in_carrying(&app, Some(&attackers)).await;
    assert_ne!(victims, attackers);
    assert!(!cookie_signed_in(&app, &attackers).await);
    assert!(cookie_signed_in(&app, &victims).await);
}

/// A second process state on the test's database whose cookies are marked secure, as
/// behind TLS; requests go straight to its router.
async fn secure_router(app: &TestApp) -> axum::Router {
    let config = cognate::config::Config::new(&app.base(), Some(true)).unwrap();
    let state = cognate::server::open(&app.backend.store_args(), config)
        .await
        .unwrap();
    cognate::router(state)
}

struct Sent {
    status: u16,
    location: Option<String>,
    cookies: Vec<String>,
    body: String,
}

async fn send(router: &axum::Router, req: Request<Body>) -> Sent {
    let res = router.clone().oneshot(req).await.unwrap();
    let header = |n: &str| {
        res.headers()
            .get_all(n)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let cookies = header("set-cookie");
    let location = header("location").pop();
    let status = res.status().as_u16();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    Sent {
        status,
        location,
        cookies,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// The path and query of a URL on the test server.
fn path(url: &str) -> String {
    let u = url::Url::parse(url).unwrap();
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_string(),
    }
}

fn get_req(url: &str, cookie: &str) -> Request<Body> {
    let mut r = Request::get(path(url));
    if !cookie.is_empty() {
        r = r.header("cookie", cookie);
    }
    r.body(Body::empty()).unwrap()
}

/// Every rule of SS-02 on one `Set-Cookie`.
fn assert_hardened(set_cookie: &str, route: &str) {
    let mut parts = set_cookie.split(';').map(str::trim);
    let name_value = parts.next().unwrap();
    let name = name_value.split('=').next().unwrap();
    let attrs: Vec<String> = parts.map(str::to_ascii_lowercase).collect();
    let has = |a: &str| attrs.iter().any(|x| x == a);
    let value_of = |a: &str| {
        attrs
            .iter()
            .find_map(|x| x.strip_prefix(&format!("{a}=")).map(str::to_string))
    };
    assert!(name.starts_with("__Host-"), "{route}: {set_cookie}");
    assert!(has("secure"), "{route}: {set_cookie}");
    assert!(has("httponly"), "{route}: {set_cookie}");
    assert!(
        matches!(value_of("samesite").as_deref(), Some("lax" | "strict")),
        "{route}: {set_cookie}"
    );
    assert_eq!(
        value_of("path").as_deref(),
        Some("/"),
        "{route}: {set_cookie}"
    );
    assert!(value_of("domain").is_none(), "{route}: {set_cookie}");
    let max_age: i64 = value_of("max-age")
        .unwrap_or_else(|| panic!("{route}: no Max-Age: {set_cookie}"))
        .parse()
        .unwrap();
    assert!((0..=86400).contains(&max_age), "{route}: {set_cookie}");
    assert!(set_cookie.len() <= 4096, "{route}");
}

// Matrix: SS-02
#[tokio::test]
async fn every_cookie_is_host_prefixed_secure_http_only_and_bounded() {
    let app = TestApp::spawn().await;
    let router = secure_router(&app).await;
    let pkce = Pkce::new();
    let mut seen = Vec::new();
    let mut cookie = String::new();
    let mut take = |route: &str, sent: &Sent, cookie: &mut String| {
        for c in &sent.cookies {
            assert_hardened(c, route);
            seen.push(route.to_string());
            *cookie = c.split(';').next().unwrap().to_string();
        }
    };
    // Pages that start a session.
    for page in ["login", "signup", "forgotPassword"] {
        let sent = send(&router, get_req(&app.page(page, &pkce, &[]), "")).await;
        assert_eq!(sent.status, 200, "{page}");
        take(page, &sent, &mut String::new());
    }
    // A whole sign-in: authorize, login, post, authorize again, logout.
    let authorize = app.authorize_url(&app.public, Some(&pkce), &[]);
    let sent = send(&router, get_req(&authorize, &cookie)).await;
    take("authorize", &sent, &mut cookie);
    let login = sent.location.clone().unwrap();
    let sent = send(&router, get_req(&login, &cookie)).await;
    take("GET login", &sent, &mut cookie);
    let form = Form::parse(&sent.body);
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("csrf_token", form.csrf.as_str()),
            ("username", "alice"),
            ("password", PASSWORD),
        ])
        .finish();
    let post = Request::post(path(&form.action))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    let sent = send(&router, post).await;
    assert_eq!(sent.status, 302, "{}", sent.body);
    take("POST login", &sent, &mut cookie);
    let sent = send(&router, get_req(&authorize, &cookie)).await;
    assert!(
        sent.location.as_deref().unwrap().starts_with(CALLBACK),
        "signed in"
    );
    take("authorize (signed in)", &sent, &mut cookie);
    let logout = format!(
        "{}?client_id={}&logout_uri={}",
        app.url("/logout"),
        app.public.client_id,
        LOGOUT
    );
    let sent = send(&router, get_req(&logout, &cookie)).await;
    take("logout", &sent, &mut cookie);
    for must in ["login", "POST login"] {
        assert!(seen.iter().any(|r| r == must), "no cookie seen at {must}");
    }
}

/// A browser signed in as alice through `client`.
async fn signed_in_browser(app: &TestApp, client: &cognate::clients::AppClient) -> reqwest::Client {
    let b = browser();
    let url = app.authorize_url(client, Some(&Pkce::new()), &[]);
    app.sign_in(&b, &url, "alice", PASSWORD).await;
    b
}

// Matrix: SS-03
#[tokio::test]
async fn sessions_expire_when_idle_and_absolutely() {
    let idle = cognate::session::IDLE_TIMEOUT;
    let absolute = cognate::session::ABSOLUTE_TIMEOUT;
    assert!(idle <= 3600 && absolute <= 86400 && idle < absolute);
    let app = TestApp::spawn().await;
    // Idle: activity keeps the session; a gap longer than the idle timeout ends it.
    let b = signed_in_browser(&app, &app.public).await;
    app.state.clock.advance(idle - 60);
    assert!(app.signed_in(&b).await, "active within the idle timeout");
    app.state.clock.advance(idle - 60);
    assert!(app.signed_in(&b).await, "activity slides the idle timeout");
    app.state.clock.advance(idle + 1);
    assert!(!app.signed_in(&b).await, "idle too long");
    // Absolute: even a busy session ends.
    let b = signed_in_browser(&app, &app.public).await;
    let mut elapsed = 0;
    while elapsed + idle / 2 < absolute {
        app.state.clock.advance(idle / 2);
        elapsed += idle / 2;
        assert!(app.signed_in(&b).await, "after {elapsed} s");
    }
    app.state.clock.advance(absolute - elapsed + 1);
    assert!(!app.signed_in(&b).await, "past the absolute lifetime");
}

// Matrix: SS-03
#[tokio::test]
async fn every_account_event_ends_the_hosted_session() {
    let app = TestApp::spawn().await;
    let pool = cognate::users::admin::pool(&app.state, &app.pool_id)
        .await
        .unwrap();
    let acct = account_client(&app).await;
    let id = acct.client_id.clone();
    // A second browser stays signed in until the event, then is out (server-side
    // invalidation, not a cookie the browser forgets).
    let events: Vec<&str> = vec![
        "logout",
        "ChangePassword",
        "ConfirmForgotPassword",
        "AdminSetUserPassword",
        "GlobalSignOut",
        "AdminUserGlobalSignOut",
        "AdminDisableUser",
    ];
    for event in events {
        let b = signed_in_browser(&app, &app.public).await;
        let other = signed_in_browser(&app, &app.public).await;
        assert!(app.signed_in(&b).await, "{event}: before");
        match event {
            "logout" => {
                let res = b
                    .get(app.url("/logout"))
                    .query(&[
                        ("client_id", app.public.client_id.as_str()),
                        ("logout_uri", LOGOUT),
                    ])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(location(&res), LOGOUT);
                assert!(!app.signed_in(&b).await, "logout");
                assert!(app.signed_in(&other).await, "logout ends one session only");
                continue;
            }
            "ChangePassword" | "GlobalSignOut" => {
                let t = crate::sec_token::fresh_tokens(
                    &app,
                    &acct,
                    "openid aws.cognito.signin.user.admin",
                )
                .await;
                let body = if event == "ChangePassword" {
                    json!({"AccessToken": s(&t, "access_token"), "PreviousPassword": PASSWORD, "ProposedPassword": PASSWORD})
                } else {
                    json!({"AccessToken": s(&t, "access_token")})
                };
                let res = api(&app, event, body).await;
                assert_eq!(res.status(), 200, "{event}: {}", res.text().await.unwrap());
            }
            "ConfirmForgotPassword" => {
                let res = api(
                    &app,
                    "ForgotPassword",
                    json!({"ClientId": id, "Username": "alice"}),
                )
                .await;
                assert_eq!(res.status(), 200);
                let code =
                    crate::account::code_in(&app.last_mail("alice@example.com").await.body_text);
                let res = api(
                    &app,
                    event,
                    json!({"ClientId": id, "Username": "alice", "ConfirmationCode": code, "Password": PASSWORD}),
                )
                .await;
                assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
            }
            "AdminSetUserPassword" => {
                cognate::users::admin::set_password(&app.state, &pool, "alice", PASSWORD, true)
                    .await
                    .unwrap();
            }
            "AdminUserGlobalSignOut" => {
                cognate::users::admin::global_sign_out(&app.state, &pool, "alice")
                    .await
                    .unwrap();
            }
            "AdminDisableUser" => {
                cognate::users::admin::set_enabled(&app.state, &pool, "alice", false)
                    .await
                    .unwrap();
                assert!(!app.signed_in(&b).await, "disabled");
                // Enabling again does not bring old sessions back.
                cognate::users::admin::set_enabled(&app.state, &pool, "alice", true)
                    .await
                    .unwrap();
            }
            _ => unreachable!(),
        }
        assert!(!app.signed_in(&b).await, "{event}: this browser");
        assert!(!app.signed_in(&other).await, "{event}: every browser");
        // A fresh sign-in works again right away.
        let again = signed_in_browser(&app, &app.public).await;
        assert!(app.signed_in(&again).await, "{event}: signing in again");
    }
    // Deleted: the session ends with the user.
    let b = signed_in_browser(&app, &app.public).await;
    cognate::users::admin::delete_user(&app.state, &pool, "alice")
        .await
        .unwrap();
    assert!(!app.signed_in(&b).await, "deleted");
}

// Matrix: SS-03
#[tokio::test]
async fn a_user_deleting_their_account_ends_its_sessions_and_needs_the_admin_scope() {
    let app = TestApp::spawn().await;
    let acct = account_client(&app).await;
    let b = signed_in_browser(&app, &app.public).await;
    // A token without `aws.cognito.signin.user.admin` deletes nothing.
    let narrow = crate::sec_token::fresh_tokens(&app, &acct, "openid").await;
    let body = json!({"AccessToken": s(&narrow, "access_token")});
    let res = api(&app, "DeleteUser", body).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["__type"], "NotAuthorizedException", "{err}");
    assert!(app.signed_in(&b).await, "refused: still signed in");
    // Act
    let t =
        crate::sec_token::fresh_tokens(&app, &acct, "openid aws.cognito.signin.user.admin").await;
    let res = api(
        &app,
        "DeleteUser",
        json!({"AccessToken": s(&t, "access_token")}),
    )
    .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    // Assert: the hosted session and the tokens end with the user.
    assert!(!app.signed_in(&b).await, "deleted");
    crate::sec_token::assert_revoked(&app, &acct, &t).await;
}

// Matrix: GN-01
#[tokio::test]
async fn discovery_matches_what_the_server_does() {
    let app = TestApp::spawn().await;
    let doc: Value = app
        .http
        .get(app.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tokens = crate::sec_token::fresh_tokens(&app, &app.public, "openid email").await;
    for t in ["id_token", "access_token"] {
        assert_eq!(jwt_claims(s(&tokens, t))["iss"], doc["issuer"], "{t}");
    }
    // Every endpoint lives under the issuer.
    let issuer = doc["issuer"].as_str().unwrap();
    for (key, value) in doc.as_object().unwrap() {
        if key.ends_with("_endpoint") || key == "jwks_uri" {
            assert!(
                value.as_str().unwrap().starts_with(&format!("{issuer}/")),
                "{key}: {value}"
            );
        }
    }
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    let algs = doc["id_token_signing_alg_values_supported"]
        .as_array()
        .unwrap();
    assert!(
        !algs
            .iter()
            .any(|a| a.as_str().unwrap().eq_ignore_ascii_case("none"))
    );
    let header: Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            s(&tokens, "id_token").split('.').next().unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert!(algs.contains(&header["alg"]));
    let jwks: Value = app
        .http
        .get(doc["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == header["kid"])
    );
    // Advertised response types and modes work; others are refused.
    assert_eq!(doc["response_types_supported"], json!(["code"]));
    assert_eq!(doc["response_modes_supported"], json!(["query"]));
    let b = browser();
    app.sign_in(
        &b,
        &app.authorize_url(&app.public, Some(&Pkce::new()), &[]),
        "alice",
        PASSWORD,
    )
    .await;
    for (rt, mode, works) in [
        ("code", "query", true),
        ("token", "query", false),
        ("code", "form_post", false),
        ("code", "fragment", false),
    ] {
        let url = app.authorize_url(
            &app.public,
            Some(&Pkce::new()),
            &[("response_type", rt), ("response_mode", mode)],
        );
        let to = location(&b.get(url).send().await.unwrap());
        assert_eq!(
            query_param(&to, "code").is_some(),
            works,
            "{rt} {mode}: {to}"
        );
    }
    // Every advertised grant type is understood; others are unsupported.
    let advertised: Vec<String> = doc["grant_types_supported"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_str().unwrap().to_string())
        .collect();
    for g in ["authorization_code", "refresh_token"] {
        assert!(advertised.iter().any(|a| a == g), "{g}");
    }
    for g in advertised.iter().map(String::as_str).chain([
        "password",
        "implicit",
        "urn:ietf:params:oauth:grant-type:device_code",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
    ]) {
        let res = app
            .token_request(
                &app.confidential,
                &[("grant_type", g), ("code", "x"), ("refresh_token", "x")],
            )
            .await;
        let body: Value = res.json().await.unwrap();
        assert_eq!(
            body["error"] == "unsupported_grant_type",
            !advertised.iter().any(|a| a == g),
            "{g}: {body}"
        );
    }
    // Advertised client authentication methods all work (basic and post elsewhere;
    // `none` for the public client here).
    let methods = doc["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap();
    for m in ["client_secret_basic", "client_secret_post", "none"] {
        assert!(methods.contains(&json!(m)), "{m}");
    }
    // Behind TLS every endpoint is https: the issuer comes from the public URL.
    let config = cognate::config::Config::new("https://id.example.com", None).unwrap();
    let state = cognate::server::open(&app.backend.store_args(), config)
        .await
        .unwrap();
    let sent = send(
        &cognate::router(state),
        get_req(&app.url("/.well-known/openid-configuration"), ""),
    )
    .await;
    let doc: Value = serde_json::from_str(&sent.body).unwrap();
    assert_eq!(
        doc["issuer"],
        format!("https://id.example.com/{}", app.pool_id)
    );
    for (key, value) in doc.as_object().unwrap() {
        if key.ends_with("_endpoint") || key == "jwks_uri" {
            assert!(value.as_str().unwrap().starts_with("https://"), "{key}");
        }
    }
}

// Matrix: GN-02
#[tokio::test]
async fn host_and_forwarded_headers_never_change_the_issuer_or_links() {
    let app = TestApp::spawn().await;
    let mut poison = reqwest::header::HeaderMap::new();
    for (k, v) in [
        ("host", "evil.example"),
        ("x-forwarded-host", "evil.example"),
        ("x-forwarded-proto", "http"),
        ("x-forwarded-for", "203.0.113.9"),
        ("x-forwarded-prefix", "/evil"),
        ("forwarded", "host=evil.example;proto=http"),
        ("x-original-url", "https://evil.example/"),
    ] {
        poison.insert(k, v.parse().unwrap());
    }
    let poisoned = || {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(poison.clone())
            .build()
            .unwrap()
    };
    let b = poisoned();
    let doc: Value = b
        .get(app.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], app.issuer());
    assert!(!doc.to_string().contains("evil"), "{doc}");

    // A whole sign-in with poisoned headers: the login page URL, the form action and
    // the tokens' issuer all come from the configuration.
    let pkce = Pkce::new();
    let url = app.authorize_url(&app.public, Some(&pkce), &[]);
    let res = b.get(&url).send().await.unwrap();
    let login = location(&res);
    assert!(login.starts_with(&app.url("/login?")), "{login}");
    let html = b.get(&login).send().await.unwrap().text().await.unwrap();
    assert!(!html.contains("evil"), "the page names a poisoned host");
    let callback = app.sign_in(&b, &url, "alice", PASSWORD).await;
    let code = query_param(&callback, "code").unwrap();
    let tokens: Value = app
        .exchange(&app.public, &code, Some(&pkce.verifier))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(jwt_claims(s(&tokens, "id_token"))["iss"], app.issuer());

    // Mail links: a sign-up from a poisoned browser gets a link on the real host.
    let b = poisoned();
    let page = b
        .get(app.page("signup", &Pkce::new(), &[]))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let form = Form::parse(&page);
    assert!(form.action.starts_with(&app.issuer()), "{}", form.action);
    let res = b
        .post(&form.action)
        .form(&[
            ("csrf_token", form.csrf.as_str()),
            ("username", "mallory"),
            ("email", "mallory@example.com"),
            ("password", PASSWORD),
            ("confirm_password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success() || res.status().is_redirection());
    let mail = app.last_mail("mallory@example.com").await;
    let link = crate::account::link_in(&mail.body_text);
    assert!(link.starts_with(&app.issuer()), "{link}");
    for body in [&mail.body_text, &mail.body_html] {
        assert!(!body.contains("evil"), "{body}");
    }
    // The same through the API's SignUp.
    let res = b
        .post(format!("{}/", app.base()))
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", "AWSCognitoIdentityProviderService.SignUp")
        .body(
            json!({
                "ClientId": app.public.client_id,
                "Username": "trudy",
                "Password": PASSWORD,
                "UserAttributes": [{"Name": "email", "Value": "trudy@example.com"}],
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let mail = app.last_mail("trudy@example.com").await;
    for body in [&mail.body_text, &mail.body_html] {
        assert!(!body.contains("evil"), "{body}");
    }
    if mail.body_text.contains("/confirmLink/") {
        assert!(crate::account::link_in(&mail.body_text).starts_with(&app.issuer()));
    }
}
