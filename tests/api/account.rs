//! The account lifecycle over HTTP: sign-up and confirmation (code and link), resend,
//! forgot password, the new password of an administrator-created user, and the safety
//! rules around them (no account enumeration, code expiry and attempt limits,
//! throttling, CSRF, escaping of every reflected value).

use reqwest::StatusCode;

use crate::helpers::{CALLBACK, Form, PASSWORD, Pkce, TestApp, browser, location, query_param};
use cognate::users::UserStatus;

const NEW_PASSWORD: &str = "Brand-new-pass-7";

/// A hosted page fetched in a browser session.
pub(crate) struct Page {
    pub(crate) status: StatusCode,
    pub(crate) html: String,
    pub(crate) form: Option<Form>,
}

pub(crate) async fn get(b: &reqwest::Client, url: &str) -> Page {
    let res = b.get(url).send().await.unwrap();
    let status = res.status();
    let html = res.text().await.unwrap();
    let form = html.contains("csrf_token").then(|| Form::parse(&html));
    Page { status, html, form }
}

/// Posts `fields` (plus the page's CSRF token) to the page's first form.
pub(crate) async fn submit(
    b: &reqwest::Client,
    page: &Page,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let form = page.form.as_ref().expect("the page has a form");
    let mut all = vec![("csrf_token", form.csrf.as_str())];
    all.extend_from_slice(fields);
    b.post(&form.action).form(&all).send().await.unwrap()
}

impl TestApp {
    /// A hosted page's URL for the public client with a PKCE challenge.
    pub(crate) fn page(&self, page: &str, pkce: &Pkce, extra: &[(&str, &str)]) -> String {
        self.authorize_url(&self.public, Some(pkce), extra)
            .replace("/oauth2/authorize?", &format!("/{page}?"))
    }

    /// The newest message sent to `to`.
    pub(crate) async fn last_mail(&self, to: &str) -> cognate::store::OutboxMessage {
        self.state
            .store
            .outbox(Some(to), 1)
            .await
            .unwrap()
            .pop()
            .expect("a message was sent")
    }

    pub(crate) async fn mail_count(&self, to: &str) -> usize {
        self.state.store.outbox(Some(to), 100).await.unwrap().len()
    }
}

/// A confirmed native user with a verified email address.
pub(crate) async fn create_user_with_email(
    app: &TestApp,
    username: &str,
    email: &str,
) -> cognate::users::User {
    let attributes = std::collections::BTreeMap::from([
        ("email".to_string(), email.to_string()),
        ("email_verified".to_string(), "true".to_string()),
    ]);
    cognate::users::create(
        &app.state,
        &app.pool_id,
        username,
        Some(PASSWORD),
        UserStatus::Confirmed,
        attributes,
    )
    .await
    .unwrap()
}

/// The six-digit code in a message.
pub(crate) fn code_in(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a six-digit code")
        .to_string()
}

/// The one-click link in a message.
pub(crate) fn link_in(text: &str) -> String {
    let start = text.find("http").expect("a link");
    let link: String = text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    assert!(link.contains("/confirmLink/"), "{link}");
    link
}

pub(crate) async fn sign_up(
    app: &TestApp,
    b: &reqwest::Client,
    pkce: &Pkce,
    username: &str,
    email: &str,
) -> reqwest::Response {
    let page = get(b, &app.page("signup", pkce, &[])).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    submit(
        b,
        &page,
        &[
            ("username", username),
            ("email", email),
            ("password", PASSWORD),
            ("confirm_password", PASSWORD),
        ],
    )
    .await
}

#[tokio::test]
async fn sign_up_then_the_emailed_code_confirms_and_continues_to_the_app() {
    // Arrange
    let app = TestApp::spawn().await;
    let b = browser();
    let pkce = Pkce::new();
    // Act: sign up, read the code from the outbox, type it in.
    let res = sign_up(&app, &b, &pkce, "carol", "carol@example.com").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let confirm = get(&b, &location(&res)).await;
    assert!(confirm.html.contains("Verification code"));
    let mail = app.last_mail("carol@example.com").await;
    let res = submit(&b, &confirm, &[("code", &code_in(&mail.body_text))]).await;
    // Assert: straight to the app with a code that redeems, no second sign-in.
    assert_eq!(res.status(), StatusCode::FOUND);
    let to = location(&res);
    assert!(to.starts_with(CALLBACK), "{to}");
    let code = query_param(&to, "code").unwrap();
    let tokens = app.exchange(&app.public, &code, Some(&pkce.verifier)).await;
    assert_eq!(tokens.status(), 200);
    let user = app
        .state
        .store
        .user_by_name(&app.pool_id, "carol")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.status, UserStatus::Confirmed);
    assert_eq!(user.attributes["email_verified"], "true");
}

#[tokio::test]
async fn the_email_link_confirms_in_one_click() {
    let app = TestApp::spawn().await;
    let pkce = Pkce::new();
    sign_up(&app, &browser(), &pkce, "dora", "dora@example.com").await;
    let link = link_in(&app.last_mail("dora@example.com").await.body_text);
    // Another browser (say, the phone's mail app) opens the link.
    let other = browser();
    let res = other.get(&link).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "one click confirms");
    let login = get(&other, &location(&res)).await;
    assert!(
        login.html.contains("Your account is confirmed"),
        "{}",
        login.html
    );
    let user = app
        .state
        .store
        .user_by_name(&app.pool_id, "dora")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.status, UserStatus::Confirmed);
    // The link is single-use.
    let again = other.get(&link).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_link_in_the_same_browser_continues_to_the_app() {
    let app = TestApp::spawn().await;
    let b = browser();
    let pkce = Pkce::new();
    sign_up(&app, &b, &pkce, "erin", "erin@example.com").await;
    let link = link_in(&app.last_mail("erin@example.com").await.body_text);
    let res = b.get(&link).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    let code = query_param(&location(&res), "code").unwrap();
    assert_eq!(
        app.exchange(&app.public, &code, Some(&pkce.verifier))
            .await
            .status(),
        200
    );
}

// Matrix: HU-09
#[tokio::test]
async fn resending_sends_a_new_code_that_replaces_the_old_one() {
    let app = TestApp::spawn().await;
    let b = browser();
    let pkce = Pkce::new();
    let res = sign_up(&app, &b, &pkce, "fred", "fred@example.com").await;
    let confirm = get(&b, &location(&res)).await;
    let old = code_in(&app.last_mail("fred@example.com").await.body_text);
    let form = confirm.form.as_ref().unwrap();
    let resend_action = form.action.replace("/confirm?", "/resendCode?");
    let res = b
        .post(&resend_action)
        .form(&[("csrf_token", form.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.mail_count("fred@example.com").await, 2);
    let new = code_in(&app.last_mail("fred@example.com").await.body_text);
    if old != new {
        let res = submit(&b, &confirm, &[("code", &old)]).await;
        assert_eq!(
            res.status(),
            StatusCode::BAD_REQUEST,
            "the old code is replaced"
        );
    }
    let res = submit(&b, &confirm, &[("code", &new)]).await;
    assert_eq!(res.status(), StatusCode::FOUND);
}

#[tokio::test]
async fn forgot_password_then_reset_then_sign_in_with_the_new_password() {
    // Arrange: alice holds tokens from before.
    let app = TestApp::spawn().await;
    let before = app.tokens().await;
    let b = browser();
    let pkce = Pkce::new();
    // Act
    let page = get(&b, &app.page("forgotPassword", &pkce, &[])).await;
    let res = submit(&b, &page, &[("username", "alice")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let reset = get(&b, &location(&res)).await;
    let code = code_in(&app.last_mail("alice@example.com").await.body_text);
    let res = submit(
        &b,
        &reset,
        &[
            ("code", &code),
            ("password", NEW_PASSWORD),
            ("confirm_password", NEW_PASSWORD),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let login = get(&b, &location(&res)).await;
    assert!(login.html.contains("Your password was changed"));
    // Assert: the new password works, the old one does not, old sessions are revoked.
    let old = submit(&b, &login, &[("username", "alice"), ("password", PASSWORD)]).await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let new = submit(
        &b,
        &login,
        &[("username", "alice"), ("password", NEW_PASSWORD)],
    )
    .await;
    assert!(location(&new).starts_with(CALLBACK));
    let refresh = app
        .refresh(&app.public, before["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(refresh.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_admin_created_user_sets_a_new_password_at_first_sign_in() {
    let app = TestApp::spawn().await;
    app.create_user("gina", UserStatus::ForceChangePassword)
        .await;
    let b = browser();
    let pkce = Pkce::new();
    let login = get(&b, &app.page("login", &pkce, &[])).await;
    let res = submit(&b, &login, &[("username", "gina"), ("password", PASSWORD)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = get(&b, &location(&res)).await;
    assert!(page.html.contains("needs a new password"), "{}", page.html);
    let weak = submit(
        &b,
        &page,
        &[("password", "short"), ("confirm_password", "short")],
    )
    .await;
    assert_eq!(weak.status(), StatusCode::BAD_REQUEST);
    let res = submit(
        &b,
        &page,
        &[
            ("password", NEW_PASSWORD),
            ("confirm_password", NEW_PASSWORD),
        ],
    )
    .await;
    let to = location(&res);
    assert!(to.starts_with(CALLBACK), "{to}");
    let code = query_param(&to, "code").unwrap();
    assert_eq!(
        app.exchange(&app.public, &code, Some(&pkce.verifier))
            .await
            .status(),
        200
    );
    let user = app
        .state
        .store
        .user_by_name(&app.pool_id, "gina")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.status, UserStatus::Confirmed);
}

#[tokio::test]
async fn the_new_password_page_needs_the_temporary_password_first() {
    let app = TestApp::spawn().await;
    let res = browser()
        .get(app.page("newPassword", &Pkce::new(), &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(location(&res).contains("/login?"));
}

// Matrix: HU-06
#[tokio::test]
async fn sign_up_does_not_reveal_whether_a_username_is_taken() {
    let app = TestApp::spawn().await;
    let pkce = Pkce::new();
    let taken = sign_up(&app, &browser(), &pkce, "alice", "someone@example.com").await;
    let fresh = sign_up(&app, &browser(), &pkce, "harry", "harry@example.com").await;
    assert_eq!(taken.status(), fresh.status());
    assert_eq!(location(&taken), location(&fresh));
    assert_eq!(
        app.mail_count("someone@example.com").await,
        0,
        "nothing sent for a taken name"
    );
    let alice = app
        .state
        .store
        .user_by_name(&app.pool_id, "alice")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        alice.attributes["email"], "alice@example.com",
        "the account is untouched"
    );
}

// Matrix: HU-06
#[tokio::test]
async fn forgot_password_answers_the_same_for_unknown_users() {
    let app = TestApp::spawn().await;
    let pkce = Pkce::new();
    let mut answers = Vec::new();
    for username in ["alice", "nobody-here"] {
        let b = browser();
        let page = get(&b, &app.page("forgotPassword", &pkce, &[])).await;
        let res = submit(&b, &page, &[("username", username)]).await;
        let status = res.status();
        let next = get(&b, &location(&res)).await;
        answers.push((
            status,
            next.status,
            next.html.replace(&next.form.unwrap().csrf, ""),
        ));
    }
    assert_eq!(answers[0], answers[1]);
}

// Matrix: HU-09
#[tokio::test]
async fn codes_expire() {
    let app = TestApp::spawn().await;
    let b = browser();
    let pkce = Pkce::new();
    let res = sign_up(&app, &b, &pkce, "ivan", "ivan@example.com").await;
    let confirm = get(&b, &location(&res)).await;
    let code = code_in(&app.last_mail("ivan@example.com").await.body_text);
    app.state.clock.advance(24 * 3600 + 1);
    // The session's pending step expired too: the form asks for the username.
    let confirm_again = get(&b, &confirm.form.as_ref().unwrap().action).await;
    let res = submit(&b, &confirm_again, &[("username", "ivan"), ("code", &code)]).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("expired"));
}

// Matrix: HU-09
#[tokio::test]
async fn a_code_dies_after_five_wrong_attempts() {
    let app = TestApp::spawn().await;
    let b = browser();
    let pkce = Pkce::new();
    let res = sign_up(&app, &b, &pkce, "jack", "jack@example.com").await;
    let confirm = get(&b, &location(&res)).await;
    let code = code_in(&app.last_mail("jack@example.com").await.body_text);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        let res = submit(&b, &confirm, &[("code", wrong)]).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    }
    let res = submit(&b, &confirm, &[("code", &code)]).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("Too many wrong codes"));
}

// Matrix: HU-07
#[tokio::test]
async fn repeated_failed_sign_ins_are_throttled_with_retry_after() {
    let app = TestApp::spawn().await;
    let b = browser();
    let login = get(&b, &app.page("login", &Pkce::new(), &[])).await;
    for _ in 0..cognate::throttle::FREE_FAILURES {
        let res = submit(
            &b,
            &login,
            &[("username", "alice"), ("password", "Wrong-pass-1")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // Now even the right password waits, with a clear message and Retry-After.
    let res = submit(&b, &login, &[("username", "alice"), ("password", PASSWORD)]).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: i64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait >= 1);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Too many failed attempts")
    );
    // Each further failure doubles the wait.
    app.state.clock.advance(wait);
    submit(
        &b,
        &login,
        &[("username", "alice"), ("password", "Wrong-pass-1")],
    )
    .await;
    let res = submit(&b, &login, &[("username", "alice"), ("password", PASSWORD)]).await;
    let longer: i64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(longer > wait, "{longer} > {wait}");
    app.state.clock.advance(longer);
    let ok = submit(&b, &login, &[("username", "alice"), ("password", PASSWORD)]).await;
    assert_eq!(ok.status(), StatusCode::FOUND);
}

// Matrix: HU-01
#[tokio::test]
async fn every_account_form_refuses_a_missing_csrf_token() {
    let app = TestApp::spawn().await;
    let b = browser();
    let pkce = Pkce::new();
    get(&b, &app.page("login", &pkce, &[])).await; // a session exists
    for page in [
        "login",
        "signup",
        "confirm",
        "resendCode",
        "forgotPassword",
        "confirmForgotPassword",
        "newPassword",
        "mfa",
        "mfaSetup",
    ] {
        let res = b
            .post(app.page(page, &pkce, &[]))
            .form(&[
                ("username", "alice"),
                ("password", PASSWORD),
                ("code", "123456"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{page}");
    }
}

pub(crate) fn xss_probes() -> Vec<String> {
    crate::payloads::read("xss.txt")
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// The probe must not appear as markup: a probe with `<>"'` never verbatim, and no
/// template evaluation (`1337xssNN`).
pub(crate) fn assert_escaped(html: &str, probe: &str, place: &str) {
    if probe.contains(['<', '>', '"', '\'']) {
        assert!(
            !html.contains(probe),
            "{place}: probe reflected verbatim: {probe}"
        );
    }
    assert!(
        !html.contains("1337xss"),
        "{place}: a template evaluated {probe}"
    );
}

// Matrix: HU-02
#[tokio::test]
async fn every_xss_probe_is_escaped_on_every_page() {
    let app = TestApp::spawn().await;
    let pkce = Pkce::new();
    // A client whose stored name and branding title carry a probe too.
    let mut new = cognate::clients::ClientSettings::new("<script>alert('xss01')</script>");
    new.callback_urls = vec![CALLBACK.into()];
    new.branding.page_title = Some("\"><img src=x onerror=alert('xss05')>".into());
    let (evil, _) = cognate::clients::create(
        &app.state,
        &app.pool_id,
        &new,
        cognate::clients::NewSecret::None,
    )
    .await
    .unwrap();
    let html = get(
        &browser(),
        &app.authorize_url(&evil, Some(&pkce), &[])
            .replace("/oauth2/authorize?", "/login?"),
    )
    .await
    .html;
    assert_escaped(&html, "<script>alert('xss01')</script>", "client name");
    assert_escaped(&html, "\"><img src=x onerror=alert('xss05')>", "page title");

    for probe in xss_probes() {
        let b = browser();
        // Query parameters that pages reflect (state, lang) and every form field.
        for page in [
            "login",
            "signup",
            "forgotPassword",
            "confirm",
            "confirmForgotPassword",
        ] {
            let p = get(
                &b,
                &app.page(page, &pkce, &[("state", &probe), ("lang", &probe)]),
            )
            .await;
            assert_escaped(&p.html, &probe, page);
        }
        let login = get(&b, &app.page("login", &pkce, &[])).await;
        let res = submit(&b, &login, &[("username", &probe), ("password", "x")]).await;
        assert_escaped(&res.text().await.unwrap(), &probe, "login username");
        let signup = get(&b, &app.page("signup", &pkce, &[])).await;
        let res = submit(
            &b,
            &signup,
            &[
                ("username", &probe),
                ("email", &probe),
                ("password", "x"),
                ("confirm_password", "y"),
            ],
        )
        .await;
        assert_escaped(&res.text().await.unwrap(), &probe, "sign-up fields");
        let confirm = get(&b, &app.page("confirm", &pkce, &[])).await;
        let res = submit(&b, &confirm, &[("username", &probe), ("code", &probe)]).await;
        assert_escaped(&res.text().await.unwrap(), &probe, "confirm fields");
    }
}

#[tokio::test]
async fn lang_chooses_the_language_of_the_pages() {
    let app = TestApp::spawn().await;
    let html = get(
        &browser(),
        &app.page("login", &Pkce::new(), &[("lang", "de")]),
    )
    .await
    .html;
    assert!(html.contains("<html lang=\"de\">"));
    assert!(html.contains("Anmelden") && html.contains("Passwort vergessen?"));
    let en = get(&browser(), &app.page("login", &Pkce::new(), &[]))
        .await
        .html;
    assert!(en.contains("Sign in") && en.contains("<html lang=\"en\">"));
}

#[tokio::test]
async fn a_branded_client_gets_its_logo_title_and_stylesheet() {
    let app = TestApp::spawn().await;
    let client = cognate::clients::update(&app.state, &app.pool_id, &app.public.client_id, |c| {
        c.branding.logo_url = Some("https://cdn.example.com/logo.png".into());
        c.branding.primary_color = Some("#cc0000".into());
        c.branding.page_title = Some("Acme sign-in".into());
        c.branding.css = Some("h1 { letter-spacing: 2px; }".into());
    })
    .await
    .unwrap();
    let html = get(&browser(), &app.page("login", &Pkce::new(), &[]))
        .await
        .html;
    assert!(html.contains("<title>Acme sign-in</title>"));
    assert!(html.contains("src=\"https://cdn.example.com/logo.png\""));
    let css_url = format!("{}/branding/{}.css", app.issuer(), client.client_id);
    assert!(html.contains(&css_url), "{html}");
    let css = app.http.get(&css_url).send().await.unwrap();
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    let css = css.text().await.unwrap();
    assert!(css.contains("--accent: #cc0000;") && css.contains("letter-spacing: 2px"));
    let bad = cognate::clients::update(&app.state, &app.pool_id, &app.public.client_id, |c| {
        c.branding.primary_color = Some("red; } body { display: none".into());
    })
    .await;
    assert!(bad.is_err(), "colours are checked");
}

#[tokio::test]
async fn a_pool_with_email_as_username_signs_up_by_email() {
    let app = TestApp::spawn().await;
    let mut pool = app
        .state
        .store
        .pool_by_id(&app.pool_id)
        .await
        .unwrap()
        .unwrap();
    pool.settings.username_attributes = vec!["email".into()];
    app.state
        .store
        .update_pool_settings(&app.pool_id, &pool.settings, 0)
        .await
        .unwrap();
    let b = browser();
    let pkce = Pkce::new();
    let page = get(&b, &app.page("signup", &pkce, &[])).await;
    assert!(page.html.contains("type=\"email\""));
    let res = submit(
        &b,
        &page,
        &[
            ("username", "Kim@Example.com"),
            ("password", PASSWORD),
            ("confirm_password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let user = app
        .state
        .store
        .user_by_name(&app.pool_id, "kim@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.attributes["email"], "kim@example.com");
}

#[tokio::test]
async fn the_cli_sets_pool_settings_and_client_branding() {
    let app = TestApp::spawn().await;
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_cognate"))
            .args(args)
            .env("DATABASE_URL", &app.backend.database_url)
            .env("COGNATE_MASTER_KEY", &app.backend.master_key)
            .output()
            .unwrap()
    };
    let css = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(css.path(), "body { font-family: serif; }").unwrap();
    let out = run(&[
        "client",
        "update",
        "--pool",
        &app.pool_id,
        "--client-id",
        &app.public.client_id,
        "--primary-color",
        "#0a7d32",
        "--display-name",
        "Acme Shop",
        "--logo-url",
        "https://cdn.example.com/l.png",
        "--css-file",
        css.path().to_str().unwrap(),
        "--write-attribute",
        "custom:team",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&[
        "pool",
        "update",
        "--pool",
        &app.pool_id,
        "--required-attribute",
        "name",
        "--password-min-length",
        "12",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The CLI is another process: the server sees its writes at its next config check.
    tokio::time::sleep(
        cognate::store::DEFAULT_CONFIG_CHECK + std::time::Duration::from_millis(200),
    )
    .await;
    let html = get(&browser(), &app.page("signup", &Pkce::new(), &[]))
        .await
        .html;
    assert!(
        html.contains("name=\"custom:team\""),
        "the client's writable attribute is offered"
    );
    assert!(
        html.contains("name=\"name\""),
        "the pool's required attribute is asked"
    );
    assert!(html.contains("At least 12 characters"));
    assert!(html.contains("/branding/"));
    assert!(
        html.contains("Acme Shop"),
        "the display name stands for the client"
    );
    let bad = run(&[
        "client",
        "update",
        "--pool",
        &app.pool_id,
        "--client-id",
        &app.public.client_id,
        "--display-name",
        " ",
    ]);
    assert!(!bad.status.success(), "a blank display name is refused");
    let bad = run(&[
        "client",
        "update",
        "--pool",
        &app.pool_id,
        "--client-id",
        &app.public.client_id,
        "--logo-url",
        "javascript:alert(1)",
    ]);
    assert!(!bad.status.success());
    let bad = run(&[
        "pool",
        "update",
        "--pool",
        &app.pool_id,
        "--required-attribute",
        "shoe_size",
    ]);
    assert!(!bad.status.success());
}

#[tokio::test]
async fn the_sign_up_page_lists_every_broken_password_rule_while_the_api_keeps_cognitos_message() {
    // Arrange
    let app = TestApp::spawn().await;
    let b = browser();
    let page = get(&b, &app.page("signup", &Pkce::new(), &[])).await;
    assert!(page.html.contains(r#"id="username" name="username""#));

    // Act: a weak password, and a confirmation that differs.
    let res = submit(
        &b,
        &page,
        &[
            ("username", "nora"),
            ("email", "nora@example.com"),
            ("password", "abc"),
            ("confirm_password", "abd"),
        ],
    )
    .await;

    // Assert: one error box listing every problem; the password is marked and focused.
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let html = res.text().await.unwrap();
    assert_eq!(html.matches(r#"role="alert""#).count(), 1, "{html}");
    for item in [
        "<li>The password needs at least 8 characters.</li>",
        "<li>The password needs an uppercase letter.</li>",
        "<li>The password needs a number.</li>",
        "<li>The password needs a symbol, such as ! or -.</li>",
        "<li>The passwords do not match.</li>",
    ] {
        assert!(html.contains(item), "{item} in {html}");
    }
    assert_eq!(html.matches(" autofocus").count(), 1);
    assert!(html.contains(r#"aria-describedby="errors rules" autofocus aria-invalid="true""#));
    let users = app.state.store.user_by_name(&app.pool_id, "nora").await;
    assert!(users.unwrap().is_none(), "nothing was created");

    // The API words the same policy failure as before, in one message.
    let (status, body) = app
        .api_call(
            "SignUp",
            &serde_json::json!({
                "ClientId": app.public.client_id,
                "Username": "nora",
                "Password": "abc",
                "UserAttributes": [{"Name": "email", "Value": "nora@example.com"}],
            }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["__type"], "InvalidPasswordException");
    assert_eq!(
        body["message"],
        "Password must contain at least 8 characters, an uppercase letter, a number, a symbol."
    );
}
