//! The admin console (issue 20): operators made by the CLI sign in with password and
//! an authenticator code; nothing else (a pool user's session, an API key) opens it;
//! every form needs the session's CSRF token and a same-site post; stale sessions and
//! destructive actions ask again. Security matrix rows CO-01..CO-08.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use cognate::api_keys::ApiKeys;
use cognate::config::Config;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, browser, html_unescape, location};

/// A console operator's credentials, as `cognate operator create` hands them out.
pub(crate) struct Op {
    pub name: String,
    pub password: String,
    /// The authenticator key (base32).
    pub secret: String,
}

pub(crate) const OPERATOR_PASSWORD: &str = "console-Password-42";

/// Makes an operator in process (the CLI's own test makes one with the binary).
pub(crate) async fn operator(app: &TestApp, name: &str) -> Op {
    let made = cognate::operators::create(&app.state, name, OPERATOR_PASSWORD)
        .await
        .unwrap();
    Op {
        name: name.to_string(),
        password: OPERATOR_PASSWORD.to_string(),
        secret: made.totp_secret,
    }
}

/// The operator's authenticator code now (by the server's clock). Each 30-second
/// step is good once: a test that signs in again first moves the clock on.
pub(crate) fn code(app: &TestApp, op: &Op) -> String {
    cognate::users::mfa::code_at(&op.secret, app.state.clock.now()).unwrap()
}

/// The CSRF token of the first console form on a page.
pub(crate) fn csrf_of(html: &str) -> String {
    let key = "name=\"csrf_token\" value=\"";
    let at = html
        .find(key)
        .unwrap_or_else(|| panic!("no CSRF token in:\n{html}"))
        + key.len();
    let end = html[at..].find('"').unwrap();
    html_unescape(&html[at..at + end])
}

/// A browser signed in to the console.
pub(crate) struct Console {
    pub b: reqwest::Client,
    pub base: String,
    pub csrf: String,
}

impl Console {
    /// Signs `op` in through the sign-in page; panics unless it works.
    pub(crate) async fn sign_in(app: &TestApp, op: &Op) -> Console {
        let b = browser();
        let res = post_sign_in(app, &b, &op.name, &op.password, &code(app, op)).await;
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "sign-in should succeed"
        );
        assert_eq!(location(&res), "/admin");
        let mut console = Console {
            b,
            base: app.base(),
            csrf: String::new(),
        };
        let (status, html) = console.get("/admin/pools").await;
        assert_eq!(status, StatusCode::OK);
        console.csrf = csrf_of(&html);
        console
    }

    /// A console page: its status and HTML.
    pub(crate) async fn get(&self, path: &str) -> (StatusCode, String) {
        let res = self
            .b
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (res.status(), res.text().await.unwrap())
    }

    /// Gives password and a fresh code again, to go on to `next`.
    pub(crate) async fn reauthenticate(
        &self,
        app: &TestApp,
        op: &Op,
        next: &str,
    ) -> reqwest::Response {
        let code = code(app, op);
        self.post(
            "/admin/reauth",
            &[
                ("password", OPERATOR_PASSWORD),
                ("code", &code),
                ("next", next),
            ],
        )
        .await
    }

    /// Posts a console form with the session's CSRF token.
    pub(crate) async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut form: Vec<(&str, &str)> = vec![("csrf_token", &self.csrf)];
        form.extend_from_slice(fields);
        self.b
            .post(format!("{}{path}", self.base))
            .form(&form)
            .send()
            .await
            .unwrap()
    }
}

/// Fetches the sign-in page in `b` and posts its form.
pub(crate) async fn post_sign_in(
    app: &TestApp,
    b: &reqwest::Client,
    name: &str,
    password: &str,
    code: &str,
) -> reqwest::Response {
    let page = b.get(at(app, "/admin/login")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let csrf = csrf_of(&page.text().await.unwrap());
    b.post(at(app, "/admin/login"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", name),
            ("password", password),
            ("code", code),
        ])
        .send()
        .await
        .unwrap()
}

/// A URL on the server (not under a pool).
pub(crate) fn at(app: &TestApp, path: &str) -> String {
    format!("{}{path}", app.base())
}

/// The pools' names.
/// The pools' names, sorted: pools made in the same second list in id order, which is
/// random.
async fn pool_names(app: &TestApp) -> Vec<String> {
    let mut names: Vec<String> = app
        .state
        .store
        .pools()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    names.sort();
    names
}

/// Asserts a console refusal that sends the browser to sign in.
fn assert_sent_to_sign_in(res: &reqwest::Response) {
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{res:?}");
    assert_eq!(location(res), "/admin/login");
}

/// Runs the CLI on the test's database with `COGNATE_OPERATOR_PASSWORD` set.
fn cli(app: &TestApp, args: &[&str], password: Option<&str>) -> Result<Value, String> {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_cognate"));
    command
        .args(args)
        .env("DATABASE_URL", &app.backend.database_url)
        .env("COGNATE_MASTER_KEY", &app.backend.master_key)
        .env_remove("COGNATE_OPERATOR_PASSWORD")
        .stdin(std::process::Stdio::null());
    if let Some(password) = password {
        command.env("COGNATE_OPERATOR_PASSWORD", password);
    }
    let out = command.output().unwrap();
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).expect("JSON output"))
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[tokio::test]
async fn an_operator_made_with_the_cli_signs_in_and_sees_the_pools() {
    // Arrange
    let app = TestApp::spawn().await;
    let made = cli(
        &app,
        &["operator", "create", "ada"],
        Some(OPERATOR_PASSWORD),
    )
    .unwrap();
    let secret = made["totp_secret"].as_str().unwrap().to_string();
    let uri = made["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains(&secret), "{uri}");
    let op = Op {
        name: "ada".into(),
        password: OPERATOR_PASSWORD.into(),
        secret,
    };

    // Act
    let console = Console::sign_in(&app, &op).await;
    let (status, html) = console.get("/admin/pools").await;

    // Assert
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("test pool"), "{html}");
    assert!(html.contains("Signed in as <strong>ada</strong>"), "{html}");
    let listed = cli(&app, &["operator", "list"], None).unwrap();
    assert_eq!(listed[0]["name"], "ada");
    assert!(listed[0]["last_sign_in_at"].as_i64().is_some(), "{listed}");
    assert!(listed[0].get("totp_secret").is_none(), "{listed}");
    // A short password, a taken name and no password at all are refused.
    assert!(cli(&app, &["operator", "create", "bob"], Some("short")).is_err());
    assert!(
        cli(
            &app,
            &["operator", "create", "ADA"],
            Some(OPERATOR_PASSWORD)
        )
        .is_err()
    );
    let err = cli(&app, &["operator", "create", "bob"], None).unwrap_err();
    assert!(err.contains("password"), "{err}");
    // Deleting the operator ends its sessions.
    cli(&app, &["operator", "delete", "ada"], None).unwrap();
    let res = console
        .b
        .get(at(&app, "/admin/pools"))
        .send()
        .await
        .unwrap();
    assert_sent_to_sign_in(&res);
}

// Matrix: CO-01
#[tokio::test]
async fn signing_in_needs_the_name_the_password_and_a_fresh_code() {
    // Arrange
    let app = TestApp::spawn().await;
    let op = operator(&app, "ada").await;
    let b = browser();
    let wrong_code = {
        let right = code(&app, &op);
        format!("{:06}", (right.parse::<u32>().unwrap() + 1) % 1_000_000)
    };

    // Act / Assert: each wrong part is refused alike, and no console page opens.
    for (name, password, code) in [
        ("ada", "not-the-password-1", code(&app, &op)),
        ("ada", OPERATOR_PASSWORD, wrong_code.clone()),
        ("ada", OPERATOR_PASSWORD, String::new()),
        ("nobody", OPERATOR_PASSWORD, code(&app, &op)),
    ] {
        let res = post_sign_in(&app, &b, name, password, &code).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let html = res.text().await.unwrap();
        assert!(
            html.contains("The name, password or code is wrong."),
            "{html}"
        );
        let res = b.get(at(&app, "/admin/pools")).send().await.unwrap();
        assert_sent_to_sign_in(&res);
    }
    // A code is good once: after a sign-in, the same code signs nobody in again.
    let used = code(&app, &op);
    let res = post_sign_in(&app, &b, "ada", OPERATOR_PASSWORD, &used).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = post_sign_in(&app, &browser(), "ada", OPERATOR_PASSWORD, &used).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // A pool user's credentials are not an operator's.
    let res = post_sign_in(&app, &browser(), "alice", crate::helpers::PASSWORD, &used).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

const AKID: &str = "AKIDCONSOLETEST";
const SECRET: &str = "console-test-secret";

fn with_keys(c: Config) -> Config {
    c.with_api_keys(ApiKeys::parse(&format!("{AKID}:{SECRET}")).unwrap())
        .with_rate_limits(cognate::rate_limit::RateLimits::OFF)
}

/// A console request signed with an admin API key, as the Cognito API takes them.
async fn signed(app: &TestApp, method: &str, path: &str, body: &str) -> reqwest::Response {
    let uri = at(app, path);
    let host = app.addr.to_string();
    let headers = [
        ("host", host.as_str()),
        ("content-type", "application/x-www-form-urlencoded"),
    ];
    let identity = Credentials::new(AKID, SECRET, None, None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("cognito-idp")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let signable = SignableRequest::new(
        method,
        &uri,
        headers.iter().copied(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut request = axum::http::Request::builder().method(method).uri(&uri);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let mut request = request.body(()).unwrap();
    instructions.apply_to_request_http1x(&mut request);
    let mut call = app
        .http
        .request(method.parse().unwrap(), &uri)
        .body(body.to_string());
    for (name, value) in request.headers() {
        call = call.header(name, value);
    }
    call.send().await.unwrap()
}

// Matrix: CO-02
#[tokio::test]
async fn a_pool_users_session_and_an_api_key_never_open_the_console() {
    // Arrange: alice signed in on the hosted pages; an admin API key; a user's tokens.
    let app = TestApp::spawn_with(with_keys).await;
    let tokens = app.tokens().await;
    assert!(app.signed_in(&app.browser).await);
    let access = tokens["access_token"].as_str().unwrap();

    // Act / Assert: the user's browser is sent to the console's sign-in.
    let res = app
        .browser
        .get(at(&app, "/admin/pools"))
        .send()
        .await
        .unwrap();
    assert_sent_to_sign_in(&res);
    let res = app
        .browser
        .post(at(&app, "/admin/pools"))
        .form(&[("name", "by alice")])
        .send()
        .await
        .unwrap();
    assert_sent_to_sign_in(&res);
    // A SigV4-signed request with a valid key, and a bearer token, are not sessions.
    let res = signed(&app, "GET", "/admin/pools", "").await;
    assert_sent_to_sign_in(&res);
    let res = signed(&app, "POST", "/admin/pools", "name=by+key&region=us-east-1").await;
    assert_sent_to_sign_in(&res);
    let res = app
        .http
        .get(at(&app, "/admin/pools"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_sent_to_sign_in(&res);
    // The hosted session's cookie under the console's name is no session either.
    let res = app
        .http
        .get(at(&app, "/admin/pools"))
        .header("cookie", format!("cognate_console={access}"))
        .send()
        .await
        .unwrap();
    assert_sent_to_sign_in(&res);
    assert_eq!(pool_names(&app).await, ["test pool"]);
}

// Matrix: CO-03
#[tokio::test]
async fn a_console_form_without_the_sessions_csrf_token_changes_nothing() {
    // Arrange: two operators signed in.
    let app = TestApp::spawn().await;
    let ada = Console::sign_in(&app, &operator(&app, "ada").await).await;
    let bob = Console::sign_in(&app, &operator(&app, "bob").await).await;
    assert_ne!(ada.csrf, bob.csrf);

    // Act: no token, an empty one, another session's, a made-up one.
    let url = at(&app, "/admin/pools");
    let mut answers = vec![
        ada.b
            .post(&url)
            .form(&[("name", "no token")])
            .send()
            .await
            .unwrap(),
    ];
    for token in ["", bob.csrf.as_str(), "0000"] {
        answers.push(
            ada.b
                .post(&url)
                .form(&[("csrf_token", token), ("name", "bad token")])
                .send()
                .await
                .unwrap(),
        );
    }

    // Assert
    for res in answers {
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(pool_names(&app).await, ["test pool"]);
    // The same form with the token works.
    let res = ada.post("/admin/pools", &[("name", "with token")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(pool_names(&app).await, ["test pool", "with token"]);
}

// Matrix: CO-04
#[tokio::test]
async fn a_cross_site_post_with_a_valid_token_is_refused() {
    // Arrange
    let app = TestApp::spawn().await;
    let ada = Console::sign_in(&app, &operator(&app, "ada").await).await;
    let form = [("csrf_token", ada.csrf.as_str()), ("name", "cross site")];

    // Act
    let by_origin = ada
        .b
        .post(at(&app, "/admin/pools"))
        .header("origin", "https://evil.test")
        .form(&form)
        .send()
        .await
        .unwrap();
    let by_fetch_site = ada
        .b
        .post(at(&app, "/admin/pools"))
        .header("origin", "null")
        .header("sec-fetch-site", "cross-site")
        .form(&form)
        .send()
        .await
        .unwrap();
    let same_site = ada
        .b
        .post(at(&app, "/admin/pools"))
        .header("sec-fetch-site", "same-site")
        .form(&form)
        .send()
        .await
        .unwrap();

    // Assert
    assert_eq!(by_origin.status(), StatusCode::FORBIDDEN);
    assert_eq!(by_fetch_site.status(), StatusCode::FORBIDDEN);
    assert_eq!(same_site.status(), StatusCode::FORBIDDEN);
    assert_eq!(pool_names(&app).await, ["test pool"]);
    let own = ada
        .b
        .post(at(&app, "/admin/pools"))
        .header("origin", app.base())
        .header("sec-fetch-site", "same-origin")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::SEE_OTHER);
}

// Matrix: CO-05
#[tokio::test]
async fn an_idle_an_expired_or_a_signed_out_session_is_refused() {
    // Arrange
    let app = TestApp::spawn().await;
    let op = operator(&app, "ada").await;
    let idle = Console::sign_in(&app, &op).await;

    // Act / Assert: 30 minutes idle ends a session; its posts change nothing.
    app.state.clock.advance(29 * 60);
    assert_eq!(idle.get("/admin/pools").await.0, StatusCode::OK);
    app.state.clock.advance(29 * 60);
    assert_eq!(
        idle.get("/admin/pools").await.0,
        StatusCode::OK,
        "use restarts the idle time"
    );
    app.state.clock.advance(30 * 60 + 1);
    let res = idle.b.get(at(&app, "/admin/pools")).send().await.unwrap();
    assert_sent_to_sign_in(&res);
    let res = idle.post("/admin/pools", &[("name", "stale")]).await;
    assert_sent_to_sign_in(&res);

    // A busy session ends 12 hours after sign-in.
    let busy = Console::sign_in(&app, &op).await;
    for _ in 0..29 {
        app.state.clock.advance(25 * 60);
        let _ = busy.get("/admin/pools").await;
    }
    let res = busy.b.get(at(&app, "/admin/pools")).send().await.unwrap();
    assert_sent_to_sign_in(&res);

    // Signing out ends the session on the server, not only in the browser.
    app.state.clock.advance(30);
    let gone = Console::sign_in(&app, &op).await;
    let res = gone.post("/admin/logout", &[]).await;
    assert_sent_to_sign_in(&res);
    let res = gone.b.get(at(&app, "/admin/pools")).send().await.unwrap();
    assert_sent_to_sign_in(&res);
    assert_eq!(pool_names(&app).await, ["test pool"]);
}

// Matrix: CO-06
#[tokio::test]
async fn guessing_an_operators_password_is_throttled_with_retry_after() {
    // Arrange
    let app = TestApp::spawn().await;
    let op = operator(&app, "ada").await;
    let b = browser();

    // Act: wrong passwords until refused for a while.
    let mut throttled = None;
    for _ in 0..10 {
        let res = post_sign_in(&app, &b, "ada", "wrong-password-00", &code(&app, &op)).await;
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            throttled = Some(res);
            break;
        }
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }

    // Assert: a Retry-After, and the right credentials are refused meanwhile too.
    let res = throttled.expect("wrong passwords are throttled");
    let wait: i64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 0);
    let res = post_sign_in(&app, &b, "ada", OPERATOR_PASSWORD, &code(&app, &op)).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // After the wait, the right credentials work.
    app.state.clock.advance(wait + 30);
    let res = post_sign_in(&app, &b, "ada", OPERATOR_PASSWORD, &code(&app, &op)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

// Matrix: CO-07
#[tokio::test]
async fn deleting_a_pool_asks_for_password_and_code_again_after_five_minutes() {
    // Arrange: a pool to delete, signed in six minutes ago.
    let app = TestApp::spawn().await;
    let op = operator(&app, "ada").await;
    let ada = Console::sign_in(&app, &op).await;
    let res = ada.post("/admin/pools", &[("name", "doomed")]).await;
    let pool_path = location(&res);
    let pool_id = pool_path.rsplit('/').next().unwrap().to_string();
    app.state.clock.advance(6 * 60);

    // Act: delete without a recent re-authentication.
    let delete = format!("{pool_path}/delete");
    let res = ada.post(&delete, &[]).await;

    // Assert: sent to confirm, nothing deleted.
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let reauth = location(&res);
    assert!(reauth.starts_with("/admin/reauth?next="), "{reauth}");
    assert!(pool_names(&app).await.contains(&"doomed".to_string()));
    // A wrong code does not confirm; password and a fresh code do.
    let res = ada
        .post(
            "/admin/reauth",
            &[
                ("password", OPERATOR_PASSWORD),
                ("code", "000000"),
                ("next", &delete),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = ada.reauthenticate(&app, &op, &delete).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), delete);
    // `next` never leaves the console.
    app.state.clock.advance(30);
    let res = ada.reauthenticate(&app, &op, "//evil.test/admin").await;
    assert_eq!(location(&res), "/admin");
    let (status, html) = ada.get(&delete).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("cannot be undone"), "{html}");
    let res = ada.post(&delete, &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/admin/pools");
    assert_eq!(pool_names(&app).await, ["test pool"]);

    // Both changes are admin events under the operator's name.
    let events = app.flushed().await;
    let ours: Vec<_> = events
        .iter()
        .filter(|e| e.actor.as_deref() == Some("console:ada"))
        .map(|e| {
            (
                e.action.clone().unwrap(),
                e.pool_id.clone(),
                e.outcome.clone(),
            )
        })
        .collect();
    assert_eq!(
        ours,
        [
            (
                "CreateUserPool".to_string(),
                Some(pool_id.clone()),
                "pass".to_string()
            ),
            (
                "DeleteUserPool".to_string(),
                Some(pool_id),
                "pass".to_string()
            ),
        ]
    );
}

// Matrix: CO-08
#[tokio::test]
async fn console_pages_forbid_script_framing_and_caching_and_the_cookie_is_strict() {
    // Arrange
    let app = TestApp::spawn().await;
    let b = browser();

    // Act
    let login = b.get(at(&app, "/admin/login")).send().await.unwrap();

    // Assert
    let csp = login.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("form-action 'self'"), "{csp}");
    assert!(!csp.contains("script-src"), "{csp}");
    assert_eq!(login.headers()["cache-control"], "no-store");
    assert_eq!(login.headers()["x-frame-options"], "DENY");
    let cookie = login.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("cognate_console="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    let html = login.text().await.unwrap();
    assert!(!html.contains("<script"), "{html}");
    let css = b
        .get(at(&app, "/admin/static/console.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), StatusCode::OK);
    // A signed-in page too.
    let ada = Console::sign_in(&app, &operator(&app, "ada").await).await;
    let page = ada.b.get(at(&app, "/admin/pools")).send().await.unwrap();
    assert_eq!(page.headers()["content-security-policy"], csp);
    assert_eq!(page.headers()["cache-control"], "no-store");
    assert!(!page.text().await.unwrap().contains("<script"));
}

#[tokio::test]
async fn the_console_edits_a_pools_password_policy_and_refuses_a_bad_one() {
    // Arrange
    let app = TestApp::spawn().await;
    let ada = Console::sign_in(&app, &operator(&app, "ada").await).await;
    let path = format!("/admin/pools/{}", app.pool_id);
    let policy = |minimum: &'static str| {
        vec![
            ("name", "renamed pool"),
            ("allow_self_signup", "on"),
            ("minimum_length", minimum),
            ("require_numbers", "on"),
            ("password_history_size", "3"),
            ("temporary_password_validity_days", "7"),
        ]
    };

    // Act
    let bad = ada.post(&path, &policy("5")).await;
    let good = ada.post(&path, &policy("12")).await;

    // Assert
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let html = bad.text().await.unwrap();
    assert!(
        html.contains("the minimum password length must be 6 to 99"),
        "{html}"
    );
    assert_eq!(good.status(), StatusCode::SEE_OTHER);
    let pool = app
        .state
        .store
        .pool_by_id(&app.pool_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pool.name, "renamed pool");
    let p = &pool.settings.password_policy;
    assert_eq!(
        (
            p.minimum_length,
            p.require_numbers,
            p.require_symbols,
            p.password_history_size
        ),
        (12, true, false, 3)
    );
    assert!(pool.settings.allow_self_signup);
}

#[tokio::test]
async fn the_console_creates_and_edits_a_client_and_tries_states_as_authorize_does() {
    // Arrange
    let app = TestApp::spawn().await;
    let op = operator(&app, "ada").await;
    let ada = Console::sign_in(&app, &op).await;
    let clients = format!("/admin/pools/{}/clients", app.pool_id);

    // Act: a confidential client, shown with its secret once.
    let res = ada
        .post(&clients, &[("name", "backend"), ("secret", "on")])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("Copy its secret now"), "{html}");
    let client = app
        .state
        .store
        .clients(&app.pool_id)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.settings.name == "backend")
        .unwrap();
    assert!(client.secret_digest.is_some());
    let path = format!("{clients}/{}", client.client_id);
    let settings = |separator: &'static str| {
        vec![
            ("name", "backend"),
            (
                "callback_urls",
                "https://app.example.com/cb\nhttps://app.example.com/cb2",
            ),
            ("logout_urls", "https://app.example.com/bye"),
            ("flow_code", "on"),
            ("scopes", "openid email"),
            ("providers", "COGNITO"),
            ("auth_flows", "ALLOW_USER_SRP_AUTH ALLOW_REFRESH_TOKEN_AUTH"),
            ("auth_session_validity", "5"),
            ("enable_token_revocation", "on"),
            ("id_token_validity", "600"),
            ("access_token_validity", "900"),
            ("refresh_token_validity", "86400"),
            ("allow_list", "https://app.example.com/return"),
            ("state_separator", separator),
            ("state_encoding", "plain"),
        ]
    };
    let bad = ada.post(&path, &settings("ab")).await;
    let good = ada.post(&path, &settings("~")).await;

    // Assert
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(good.status(), StatusCode::SEE_OTHER);
    let client = app
        .state
        .store
        .client_by_id(&app.pool_id, &client.client_id)
        .await
        .unwrap()
        .unwrap();
    let s = &client.settings;
    assert_eq!(s.callback_urls.len(), 2);
    assert_eq!(s.allowed_scopes, ["openid", "email"]);
    assert_eq!((s.id_token_validity, s.access_token_validity), (600, 900));
    assert_eq!(s.state_relay.separator, '~');
    assert_eq!(
        s.explicit_auth_flows,
        ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    );
    assert_eq!(s.auth_session_validity, 5);
    // The checker says what authorize would do.
    let try_state = |state: &str| {
        format!(
            "{path}?{}",
            serde_urlencoded::to_string([("state", state)]).unwrap()
        )
    };
    let (_, html) = ada
        .get(&try_state("n0nce~https://app.example.com/return"))
        .await;
    assert!(
        html.contains("Accepted: after sign-in the browser goes to https://app.example.com/return"),
        "{html}"
    );
    let (_, html) = ada
        .get(&try_state("n0nce~https://evil.example.com/return"))
        .await;
    assert!(html.contains("Refused (not_allowed)"), "{html}");
    let (_, html) = ada.get(&try_state("plain-state")).await;
    assert!(html.contains("passed back unchanged"), "{html}");

    // Branding: a bad colour is refused, a display name is kept.
    let branding = format!("{path}/branding");
    let res = ada
        .post(
            &branding,
            &[("display_name", "Acme"), ("primary_color", "red")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = ada
        .post(
            &branding,
            &[("display_name", "Acme"), ("primary_color", "#2454d6")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let client = app
        .state
        .store
        .client_by_id(&app.pool_id, &client.client_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        client.settings.branding.display_name.as_deref(),
        Some("Acme")
    );

    // Deleting it asks again after five minutes, then works.
    app.state.clock.advance(6 * 60);
    let res = ada.post(&format!("{path}/delete"), &[]).await;
    assert!(location(&res).starts_with("/admin/reauth"));
    let res = ada.reauthenticate(&app, &op, "/admin").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = ada.post(&format!("{path}/delete"), &[]).await;
    assert_eq!(location(&res), clients);
    assert!(
        app.state
            .store
            .client_by_id(&app.pool_id, &client.client_id)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn mail_templates_preview_without_saving_and_save_through_the_pool() {
    // Arrange
    let app = TestApp::spawn().await;
    let ada = Console::sign_in(&app, &operator(&app, "ada").await).await;
    let path = format!("/admin/pools/{}/messages", app.pool_id);
    let message = |action: &'static str, body: &'static str| {
        vec![
            ("kind", "verification"),
            ("subject", "Your Acme code"),
            ("body", body),
            ("action", action),
        ]
    };

    // Act / Assert: a preview renders the unsaved text with a sample code.
    let res = ada
        .post(&path, &message("preview", "Hello {username}, use {####}."))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("Hello jane.doe, use 123456."), "{html}");
    assert!(html.contains("Your Acme code"), "{html}");
    let pool = app
        .state
        .store
        .pool_by_id(&app.pool_id)
        .await
        .unwrap()
        .unwrap();
    assert!(pool.settings.messages.verification.is_none());
    // A message without the code is refused; a good one is saved.
    let res = ada.post(&path, &message("save", "No code here")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = ada.post(&path, &message("save", "Use {####}.")).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let pool = app
        .state
        .store
        .pool_by_id(&app.pool_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        pool.settings.messages.verification.unwrap().body,
        "Use {####}."
    );
    let (_, html) = ada.get(&format!("{path}?kind=verification")).await;
    assert!(html.contains("Use 123456."), "{html}");
    assert!(
        html.contains("<code>{####}</code> where the code goes"),
        "{html}"
    );
    // Back to the default.
    let res = ada.post(&path, &message("default", "")).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let pool = app
        .state
        .store
        .pool_by_id(&app.pool_id)
        .await
        .unwrap()
        .unwrap();
    assert!(pool.settings.messages.verification.is_none());
}

#[tokio::test]
async fn triggers_groups_resource_servers_and_providers_change_through_the_console() {
    // Arrange
    let app = TestApp::spawn().await;
    let op = operator(&app, "ada").await;
    let ada = Console::sign_in(&app, &op).await;
    let pool = format!("/admin/pools/{}", app.pool_id);

    // Triggers: a webhook target is kept, a plain-http one refused.
    let res = ada
        .post(
            &format!("{pool}/triggers"),
            &[("pre_sign_up", "http://example.com/hook")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = ada
        .post(
            &format!("{pool}/triggers"),
            &[("pre_sign_up", "https://hooks.example.com/pre")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let settings = app
        .state
        .store
        .pool_by_id(&app.pool_id)
        .await
        .unwrap()
        .unwrap()
        .settings;
    assert_eq!(
        settings.lambda_config.pre_sign_up.as_deref(),
        Some("https://hooks.example.com/pre")
    );

    // Groups.
    let res = ada
        .post(
            &format!("{pool}/groups"),
            &[("name", "admins"), ("precedence", "1")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = ada
        .post(&format!("{pool}/groups"), &[("name", "admins")])
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.state.store.groups(&app.pool_id).await.unwrap().len(), 1);

    // Resource servers.
    let res = ada
        .post(
            &format!("{pool}/resource-servers"),
            &[
                ("identifier", "https://api.example.com"),
                ("name", "API"),
                ("scopes", "read Read things\nwrite Write things"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let servers = app
        .state
        .store
        .resource_servers(&app.pool_id)
        .await
        .unwrap();
    assert_eq!(servers[0].scopes.len(), 2);

    // An OIDC provider; its secret is never shown, an empty one on edit keeps it.
    let res = ada
        .post(
            &format!("{pool}/providers"),
            &[
                ("name", "Corp"),
                ("provider_type", "OIDC"),
                ("client_id", "corp-client"),
                ("client_secret", "corp-secret-value"),
                ("authorize_scopes", "openid email"),
                ("oidc_issuer", "https://login.corp.example"),
                ("linking_policy", "separate"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, html) = ada.get(&format!("{pool}/providers/Corp")).await;
    assert!(!html.contains("corp-secret-value"));
    let res = ada
        .post(
            &format!("{pool}/providers/Corp"),
            &[
                ("client_id", "corp-client-2"),
                ("client_secret", ""),
                ("authorize_scopes", "openid email"),
                ("oidc_issuer", "https://login.corp.example"),
                ("linking_policy", "link"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let corp = cognate::federation::provider(&app.state, &app.pool_id, "Corp")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(corp.details.client_id, "corp-client-2");
    assert_eq!(corp.client_secret.as_deref(), Some("corp-secret-value"));

    // The export has them all, and no secret.
    let (status, html) = ada.get(&format!("{pool}/export")).await;
    assert_eq!(status, StatusCode::OK);
    for needle in ["admins", "https://api.example.com", "Corp", "corp-client-2"] {
        assert!(html.contains(needle), "{needle} in {html}");
    }
    assert!(!html.contains("corp-secret-value"));
    let res = ada
        .b
        .get(at(&app, &format!("{pool}/export.yaml")))
        .send()
        .await
        .unwrap();
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert!(!res.text().await.unwrap().contains(&app.secret));

    // Deleting asks again after five minutes; then the group and provider go.
    app.state.clock.advance(6 * 60);
    let res = ada.post(&format!("{pool}/groups/admins/delete"), &[]).await;
    assert!(location(&res).starts_with("/admin/reauth"));
    assert_eq!(app.state.store.groups(&app.pool_id).await.unwrap().len(), 1);
    let res = ada.reauthenticate(&app, &op, "/admin").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = ada.post(&format!("{pool}/groups/admins/delete"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        app.state
            .store
            .groups(&app.pool_id)
            .await
            .unwrap()
            .is_empty()
    );
    let res = ada
        .post(&format!("{pool}/providers/Corp/delete"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = ada
        .post(
            &format!("{pool}/resource-servers/delete"),
            &[("identifier", "https://api.example.com")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        app.state
            .store
            .resource_servers(&app.pool_id)
            .await
            .unwrap()
            .is_empty()
    );

    // Each change is an admin event under the operator's name.
    let actions: Vec<String> = app
        .flushed()
        .await
        .into_iter()
        .filter(|e| e.actor.as_deref() == Some("console:ada") && e.outcome == "pass")
        .filter_map(|e| e.action)
        .collect();
    for action in [
        "UpdateUserPool",
        "CreateGroup",
        "CreateResourceServer",
        "CreateIdentityProvider",
        "UpdateIdentityProvider",
        "DeleteGroup",
        "DeleteIdentityProvider",
        "DeleteResourceServer",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
}

// Matrix: CO-08
#[tokio::test]
async fn over_tls_the_console_cookie_is_host_prefixed_and_secure() {
    // Arrange: a server that believes it is behind TLS.
    let app = TestApp::spawn_with(|c| {
        let mut c = c.with_rate_limits(cognate::rate_limit::RateLimits::OFF);
        c.secure_cookies = true;
        c
    })
    .await;

    // Act
    let login = browser()
        .get(at(&app, "/admin/login"))
        .send()
        .await
        .unwrap();

    // Assert
    let cookie = login.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("__Host-cognate_console="), "{cookie}");
    for part in ["; Path=/", "; HttpOnly", "; SameSite=Strict", "; Secure"] {
        assert!(cookie.contains(part), "{part} in {cookie}");
    }
    assert!(!cookie.contains("Domain="), "{cookie}");
}
