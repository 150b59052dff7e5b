//! The hosted pages' second factor over HTTP: after the password a pool that requires
//! MFA sends the browser to the code page (`/mfa`) or to the authenticator's setup
//! (`/mfaSetup`); neither opens without the step a proven password leaves, codes are
//! single-use and throttled, and every form checks its CSRF token. The codes come from
//! this file's own RFC 6238 implementation, not the server's.

use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use sha1::Sha1;

use crate::account::{Page, code_in, get, submit};
use crate::helpers::{CALLBACK, PASSWORD, Pkce, TestApp, browser, location, query_param};
use cognate::pool::{MfaConfiguration, MfaSettings};
use cognate::users::UserStatus;

/// RFC 4648 base32 (upper case, no padding), as authenticator apps read a key.
fn base32_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut bits, mut value, mut out) = (0u32, 0u32, Vec::new());
    for c in text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
    {
        let digit = ALPHABET
            .iter()
            .position(|a| *a == c.to_ascii_uppercase())
            .expect("a base32 character") as u32;
        value = (value << 5) | digit;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((value >> bits) as u8);
            value &= (1 << bits) - 1;
        }
    }
    out
}

/// The six-digit RFC 6238 code (HMAC-SHA1, 30-second steps) of a base32 `secret` at
/// epoch second `time`.
pub(crate) fn totp(secret: &str, time: i64) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(&base32_decode(secret)).unwrap();
    mac.update(&((time / 30) as u64).to_be_bytes());
    let digest = mac.finalize().into_bytes();
    // RFC 4226 §5.3: dynamic truncation.
    let offset = (digest[19] & 0x0f) as usize;
    let number = u32::from_be_bytes(digest[offset..offset + 4].try_into().unwrap()) & 0x7fff_ffff;
    format!("{:06}", number % 1_000_000)
}

#[test]
fn the_tests_totp_matches_rfc_6238() {
    // RFC 6238 Appendix B, SHA-1, T = 59 and 1111111109: 94287082, 07081804.
    let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    assert_eq!(totp(secret, 59), "287082");
    assert_eq!(totp(secret, 1_111_111_109), "081804");
}

/// The pool requires MFA, with the given factors.
pub(crate) async fn require_mfa(app: &TestApp, software_token: bool, email: bool) {
    cognate::pool::update(&app.state, &app.pool_id, |s| {
        s.mfa = MfaSettings {
            configuration: MfaConfiguration::On,
            software_token,
            email,
        }
    })
    .await
    .unwrap();
}

/// The authenticator key an enrolment page shows.
pub(crate) fn secret_on(html: &str) -> String {
    let start = html
        .find("<code id=\"totp-secret\">")
        .expect("the key is shown")
        + 23;
    let end = start + html[start..].find("</code>").unwrap();
    html[start..end].split_whitespace().collect()
}

/// Signs `username` in with the password in browser `b`; the page the sign-in goes on
/// to (its URL must contain `next`).
async fn password_step(app: &TestApp, b: &reqwest::Client, pkce: &Pkce, username: &str) -> Page {
    let page = get(b, &app.page("login", pkce, &[])).await;
    let res = submit(b, &page, &[("username", username), ("password", PASSWORD)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    get(b, &location(&res)).await
}

/// Posts `code` on a second-factor page.
async fn post_code(b: &reqwest::Client, page: &Page, code: &str) -> reqwest::Response {
    submit(b, page, &[("code", code)]).await
}

/// Redeems the callback a response redirects to.
async fn reaches_the_app(app: &TestApp, res: reqwest::Response, pkce: &Pkce) {
    assert_eq!(res.status(), StatusCode::FOUND);
    let callback = location(&res);
    assert!(callback.starts_with(CALLBACK), "{callback}");
    let code = query_param(&callback, "code").expect("the callback carries a code");
    let tokens = app.exchange(&app.public, &code, Some(&pkce.verifier)).await;
    assert_eq!(tokens.status(), StatusCode::OK);
}

/// Enrols `alice`'s authenticator through the hosted pages; its key.
async fn enrol(app: &TestApp) -> String {
    let (b, pkce) = (browser(), Pkce::new());
    let page = password_step(app, &b, &pkce, "alice").await;
    let secret = secret_on(&page.html);
    let res = post_code(&b, &page, &totp(&secret, app.state.clock.now())).await;
    reaches_the_app(app, res, &pkce).await;
    secret
}

/// A different six-digit code than every one the key gives around `now`.
fn wrong_code(secret: &str, now: i64) -> String {
    let near: Vec<String> = (-2..=2).map(|s| totp(secret, now + s * 30)).collect();
    (0..)
        .map(|n| format!("{:06}", 123_456 + n))
        .find(|c| !near.contains(c))
        .unwrap()
}

// Matrix: MF-11
#[tokio::test]
async fn an_authenticator_is_enrolled_after_the_password_and_its_codes_are_single_use() {
    // Arrange: an ON pool with authenticators; alice has none yet.
    let app = TestApp::spawn().await;
    require_mfa(&app, true, false).await;
    let (b, pkce) = (browser(), Pkce::new());

    // Act: the password leads to the enrolment page, which keeps its key on reload.
    let setup = password_step(&app, &b, &pkce, "alice").await;
    assert_eq!(setup.status, StatusCode::OK);
    assert!(setup.html.contains("<svg"), "a QR code: {}", setup.html);
    assert!(setup.html.contains("otpauth://totp/"), "{}", setup.html);
    let secret = secret_on(&setup.html);
    let form = setup.form.as_ref().unwrap();
    assert!(form.action.contains("/mfaSetup?"), "{}", form.action);
    let again = get(&b, &form.action).await;
    assert_eq!(
        secret_on(&again.html),
        secret,
        "a reload shows the same key"
    );
    // A key set meanwhile another way (say `AssociateSoftwareToken` with a stolen
    // access token) is never shown: the page makes its own again.
    let planted = cognate::users::mfa::associate(&app.state, &alice(&app).await)
        .await
        .unwrap();
    let again = get(&b, &form.action).await;
    let secret = secret_on(&again.html);
    assert!(secret != planted && secret.len() == 32, "{secret}");
    let enrolled_at = app.state.clock.now();
    let first = totp(&secret, enrolled_at);
    let res = post_code(&b, &again, &first).await;

    // Assert
    reaches_the_app(&app, res, &pkce).await;

    // Act: a new sign-in asks for a code from the authenticator.
    let (b, pkce) = (browser(), Pkce::new());
    let code_page = password_step(&app, &b, &pkce, "alice").await;
    assert!(
        code_page.html.contains("code from your authenticator app"),
        "{}",
        code_page.html
    );
    let replayed = post_code(&b, &code_page, &first).await;
    let old_step = post_code(&b, &code_page, &totp(&secret, enrolled_at - 120)).await;

    // Assert: the enrolment's code was used; a code of another step is wrong.
    assert_eq!(replayed.status(), StatusCode::BAD_REQUEST);
    let html = replayed.text().await.unwrap();
    assert!(
        html.contains("role=\"alert\"") && html.contains("used already"),
        "{html}"
    );
    assert_eq!(old_step.status(), StatusCode::BAD_REQUEST);
    assert!(
        old_step
            .text()
            .await
            .unwrap()
            .contains("Invalid verification code"),
        "a code for another step is refused"
    );

    // Act: the next step's code signs in.
    app.state.clock.advance(30);
    let res = post_code(&b, &code_page, &totp(&secret, app.state.clock.now())).await;

    // Assert
    reaches_the_app(&app, res, &pkce).await;
}

// Matrix: MF-03, MF-10
#[tokio::test]
async fn the_second_factor_pages_without_a_password_step_send_the_browser_to_login() {
    // Arrange: an ON pool; alice has an authenticator.
    let app = TestApp::spawn().await;
    require_mfa(&app, true, false).await;
    enrol(&app).await;
    let (b, pkce) = (browser(), Pkce::new());
    let login = get(&b, &app.page("login", &pkce, &[])).await;
    let csrf = login.form.as_ref().unwrap().csrf.clone();

    // Act: each page by URL alone, with the session's valid CSRF token for the posts.
    let mut answers = Vec::new();
    for page in ["mfa", "mfaSetup"] {
        let url = app.page(page, &pkce, &[]);
        answers.push(b.get(&url).send().await.unwrap());
        let post = [("csrf_token", csrf.as_str()), ("code", "123456")];
        answers.push(b.post(&url).form(&post).send().await.unwrap());
    }
    // … and the enrolment page during a sign-in that asks for an existing
    // authenticator's code: the password alone never replaces it.
    let code_page = password_step(&app, &b, &pkce, "alice").await;
    assert!(code_page.form.unwrap().action.contains("/mfa?"));
    answers.push(
        b.get(app.page("mfaSetup", &pkce, &[]))
            .send()
            .await
            .unwrap(),
    );

    // Assert
    for res in answers {
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", res.url());
        assert!(location(&res).contains("/login?"), "{}", location(&res));
    }
    let factors = cognate::users::mfa::factors(&app.state, &alice(&app).await)
        .await
        .unwrap();
    assert_eq!(factors.enabled().len(), 1, "the authenticator is unchanged");
}

async fn alice(app: &TestApp) -> cognate::users::User {
    app.state
        .store
        .user_by_name(&app.pool_id, "alice")
        .await
        .unwrap()
        .unwrap()
}

// Matrix: MF-02, MF-12
#[tokio::test]
async fn wrong_codes_on_the_code_page_are_throttled_with_retry_after() {
    // Arrange
    let app = TestApp::spawn().await;
    require_mfa(&app, true, false).await;
    let secret = enrol(&app).await;
    app.state.clock.advance(30);
    let (b, pkce) = (browser(), Pkce::new());
    let page = password_step(&app, &b, &pkce, "alice").await;
    let wrong = wrong_code(&secret, app.state.clock.now());

    // Act: wrong codes until the page refuses to check any.
    let mut statuses = Vec::new();
    let throttled = loop {
        let res = post_code(&b, &page, &wrong).await;
        if res.status() == StatusCode::TOO_MANY_REQUESTS || statuses.len() == 10 {
            break res;
        }
        statuses.push(res.status());
    };
    let right = post_code(&b, &page, &totp(&secret, app.state.clock.now())).await;

    // Assert: the first five are plain refusals; then even the right code waits.
    assert!(statuses.len() >= 5, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == StatusCode::BAD_REQUEST));
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(throttled.headers().contains_key("retry-after"));
    assert!(throttled.text().await.unwrap().contains("role=\"alert\""));
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(right.headers().contains_key("retry-after"));
}

// Matrix: HU-01
#[tokio::test]
async fn the_second_factor_forms_refuse_a_post_without_its_csrf_token() {
    // Arrange: bob is enrolling; alice is asked for her code.
    let app = TestApp::spawn().await;
    require_mfa(&app, true, false).await;
    let secret = enrol(&app).await;
    app.state.clock.advance(30);
    app.create_user("bob", UserStatus::Confirmed).await;
    let (enrolling, pkce) = (browser(), Pkce::new());
    let setup = password_step(&app, &enrolling, &pkce, "bob").await;
    let bob_secret = secret_on(&setup.html);
    let (answering, pkce_a) = (browser(), Pkce::new());
    let code_page = password_step(&app, &answering, &pkce_a, "alice").await;
    let now = app.state.clock.now();

    // Act: the right codes, without the token.
    let setup_action = &setup.form.as_ref().unwrap().action;
    let no_token_setup = enrolling
        .post(setup_action)
        .form(&[("code", totp(&bob_secret, now))])
        .send()
        .await
        .unwrap();
    let code_action = &code_page.form.as_ref().unwrap().action;
    let no_token_code = answering
        .post(code_action)
        .form(&[("code", totp(&secret, now))])
        .send()
        .await
        .unwrap();

    // Assert: refused, nothing changed: bob has no authenticator, alice's code is still
    // good on the real form.
    assert_eq!(no_token_setup.status(), StatusCode::FORBIDDEN);
    assert_eq!(no_token_code.status(), StatusCode::FORBIDDEN);
    let bob = app
        .state
        .store
        .user_by_name(&app.pool_id, "bob")
        .await
        .unwrap()
        .unwrap();
    let factors = cognate::users::mfa::factors(&app.state, &bob)
        .await
        .unwrap();
    assert!(factors.enabled().is_empty());
    let res = post_code(&answering, &code_page, &totp(&secret, now)).await;
    reaches_the_app(&app, res, &pkce_a).await;
}

#[tokio::test]
async fn a_new_password_is_followed_by_the_authenticator_setup_in_the_requests_language() {
    // Arrange
    let app = TestApp::spawn().await;
    require_mfa(&app, true, false).await;
    app.create_user("paula", UserStatus::ForceChangePassword)
        .await;
    let (b, pkce) = (browser(), Pkce::new());
    let login = get(&b, &app.page("login", &pkce, &[("lang", "de")])).await;
    let res = submit(&b, &login, &[("username", "paula"), ("password", PASSWORD)]).await;
    let page = get(&b, &location(&res)).await;
    let new_password = "Brand-new-pass-7";

    // Act
    let res = submit(
        &b,
        &page,
        &[
            ("password", new_password),
            ("confirm_password", new_password),
        ],
    )
    .await;

    // Assert
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(location(&res).contains("/mfaSetup?"), "{}", location(&res));
    let setup = get(&b, &location(&res)).await;
    assert!(
        setup.html.contains("Authenticator-App einrichten") && setup.html.contains("lang=\"de\""),
        "in the language of the request: {}",
        setup.html
    );
    let secret = secret_on(&setup.html);
    let res = post_code(&b, &setup, &totp(&secret, app.state.clock.now())).await;
    reaches_the_app(&app, res, &pkce).await;
}

// Matrix: MF-13
#[tokio::test]
async fn an_emailed_code_reaches_a_real_smtp_server_and_signs_in_on_the_code_page() {
    let Some(python) = std::env::var("COGNATE_TEST_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
    else {
        println!("SKIPPED: set COGNATE_TEST_PYTHON (./test.sh does)");
        return;
    };
    // Arrange: an ON pool with e-mailed codes, served by an instance that delivers mail
    // over SMTP to the sink (on the test app's database).
    let app = TestApp::spawn().await;
    require_mfa(&app, false, true).await;
    let mut sink = crate::mail::SmtpSink::start(&python).await;
    let (base, server) = smtp_instance(&app, sink.port).await;
    let (b, pkce) = (browser(), Pkce::new());
    let login = app.page("login", &pkce, &[]).replace(&app.base(), &base);

    // Act
    let page = get(&b, &login).await;
    let res = submit(&b, &page, &[("username", "alice"), ("password", PASSWORD)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let code_page = get(&b, &location(&res)).await;
    let mail = sink.next_message().await;
    let code = code_in(mail["text"].as_str().unwrap());
    let wrong = post_code(
        &b,
        &code_page,
        &format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000),
    )
    .await;
    let res = post_code(&b, &code_page, &code).await;

    // Assert
    assert!(
        code_page.html.contains("a***@e***"),
        "the masked address: {}",
        code_page.html
    );
    assert_eq!(mail["rcpt_tos"][0], "alice@example.com", "{mail:#}");
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    reaches_the_app(&app, res, &pkce).await;
    server.abort();
    sink.child.kill().await.unwrap();
}

/// A second instance on `app`'s database whose mail goes by SMTP to loopback `port`:
/// its base URL and the task serving it.
async fn smtp_instance(app: &TestApp, port: u16) -> (String, tokio::task::JoinHandle<()>) {
    use cognate::config::{Config, MailConfig, SmtpTls};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mailer = cognate::mail::Mailer::from_config(&MailConfig {
        smtp_host: Some("127.0.0.1".into()),
        smtp_port: Some(port),
        smtp_tls: SmtpTls::None,
        mail_from: "Cognate Test <auth@example.test>".into(),
        ..MailConfig::default()
    })
    .unwrap();
    let config = Config::new(&base, None)
        .unwrap()
        .with_rate_limits(cognate::rate_limit::RateLimits::OFF);
    let state = cognate::server::open_with_mailer(&app.backend.store_args(), config, mailer)
        .await
        .unwrap();
    let limits = state.config.connection_limits();
    let task = tokio::spawn(cognate::server::serve_http(
        listener,
        cognate::router(state),
        limits,
        std::future::pending(),
    ));
    (base, task)
}
