//! Every hosted page in headless Chromium, at a desktop width and a phone's (390 px):
//! a screenshot of each under `target/screenshots/pages/` to look at, and axe-core's
//! accessibility rules, which must find nothing serious or critical. axe-core comes
//! from npm (`tests/a11y/package.json`, pinned; `./test.sh` runs `npm ci` there) and is
//! injected into each page over WebDriver, as its own WebDriver bindings do.
//!
//! Alongside, what the pages promise a person: errors and notices in one style, both
//! shown when both apply; every rule a password breaks, listed; the focus on the first
//! field to fix, else the first field (`autofocus`, no script); a way back to sign-in
//! that keeps the authorization request; the client's display name.

use fantoccini::Locator;
use serde_json::Value;

use crate::account::code_in;
use crate::helpers::{Browser, CALLBACK, LOGOUT, PASSWORD, Pkce, TestApp, query_param};
use crate::hosted_mfa::{require_mfa, totp};
use cognate::users::UserStatus;

/// axe-core, as `npm ci` in `tests/a11y` installs it.
const AXE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/a11y/node_modules/axe-core/axe.min.js"
);

/// The widths every page is checked at: a laptop's, and a phone's in portrait.
const WIDTHS: [(&str, u32, u32); 2] = [("desktop", 1280, 900), ("390", 390, 844)];

/// Runs axe-core on the open page; its serious and critical violations, one line each.
pub(crate) async fn serious_violations(browser: &Browser) -> Vec<String> {
    let loaded = browser
        .client
        .execute("return typeof window.axe !== 'undefined';", vec![])
        .await
        .unwrap();
    if loaded != Value::Bool(true) {
        let source = std::fs::read_to_string(AXE).unwrap_or_else(|e| {
            panic!(
                "{AXE}: {e}; install axe-core with `npm ci --prefix tests/a11y` (./test.sh does)"
            )
        });
        browser.client.execute(&source, vec![]).await.unwrap();
    }
    let found = browser
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {
               resultTypes: ['violations'],
               // WCAG 2.2 A and AA (target sizes among them) and axe's best practices.
               runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                                'wcag22aa', 'best-practice'] },
             })
               .then(r => done({ violations: r.violations, passed: r.passes.length }),
                     e => done(String(e)));",
            vec![],
        )
        .await
        .unwrap();
    let Some(Value::Array(violations)) = found.get("violations") else {
        panic!("axe-core failed: {found}");
    };
    // A page where no rule applied would pass without being checked.
    let passed = found["passed"].as_u64().unwrap_or_default();
    assert!(passed >= 10, "axe-core checked only {passed} rules");
    for v in violations {
        // The minor and moderate ones too, in the test's output, for a person to weigh.
        println!("axe-core: {} ({}): {}", v["id"], v["impact"], v["help"]);
    }
    violations
        .iter()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .map(|v| {
            let nodes: Vec<String> = v["nodes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|n| n["target"].to_string())
                .collect();
            format!(
                "{} ({}): {} at {}",
                v["id"].as_str().unwrap_or_default(),
                v["impact"].as_str().unwrap_or_default(),
                v["help"].as_str().unwrap_or_default(),
                nodes.join(", ")
            )
        })
        .collect()
}

/// Checks the open page at each width: a screenshot of the whole page, then axe-core.
/// Panics with every serious or critical violation found. The screenshots go to
/// `target/screenshots/pages/<name>-<width>.png`, or under `name`'s own folder when it
/// names one (`console/pools`).
pub(crate) async fn check_page(browser: &Browser, name: &str) {
    let mut problems = Vec::new();
    for (label, width, height) in WIDTHS {
        browser.client.set_window_size(width, height).await.unwrap();
        // As tall as the page (plus the window's own frame), so the screenshot shows
        // all of it.
        let tall = browser
            .client
            .execute(
                "return document.documentElement.scrollHeight
                        + window.outerHeight - window.innerHeight;",
                vec![],
            )
            .await
            .unwrap()
            .as_u64()
            .unwrap_or(u64::from(height));
        let tall = u32::try_from(tall).unwrap_or(height).clamp(height, 3000);
        browser.client.set_window_size(width, tall).await.unwrap();
        let inner = browser
            .client
            .execute("return window.innerWidth;", vec![])
            .await
            .unwrap();
        assert_eq!(
            inner.as_u64(),
            Some(u64::from(width)),
            "the viewport's width"
        );
        let shot = match name.contains('/') {
            true => format!("{name}-{label}"),
            false => format!("pages/{name}-{label}"),
        };
        browser.screenshot(&shot).await;
        for v in serious_violations(browser).await {
            problems.push(format!("{label}: {v}"));
        }
    }
    browser.client.set_window_size(1280, 900).await.unwrap();
    assert!(
        problems.is_empty(),
        "axe-core on {name} ({}):\n{}",
        browser.current_url().await,
        problems.join("\n")
    );
}

/// A six-digit code that is none of the authenticator's codes near `now`.
fn wrong_code(secret: &str, now: i64) -> &'static str {
    let near: Vec<String> = (-2..=2).map(|s| totp(secret, now + s * 30)).collect();
    ["000000", "111111", "222222"]
        .into_iter()
        .find(|c| !near.iter().any(|n| n == c))
        .unwrap()
}

/// The id of the element that has the focus.
async fn focused(browser: &Browser) -> String {
    let id = browser
        .client
        .execute("return document.activeElement.id;", vec![])
        .await
        .unwrap();
    id.as_str().unwrap_or_default().to_string()
}

/// The text of each item of the page's error box (its one paragraph, or its list).
async fn errors(browser: &Browser) -> Vec<String> {
    let alert = browser
        .client
        .find(Locator::Css(".callout.error[role=alert]"))
        .await
        .expect("the page shows an error box with role=alert");
    let mut items = Vec::new();
    for item in alert.find_all(Locator::Css("p, li")).await.unwrap() {
        items.push(item.text().await.unwrap());
    }
    items
}

/// The page's notice, if it shows one.
async fn notice(browser: &Browser) -> Option<String> {
    let found = browser
        .client
        .find(Locator::Css(".callout.notice[role=status]"))
        .await
        .ok()?;
    Some(found.text().await.unwrap())
}

/// Whether the field `id` is marked as one to fix.
async fn is_invalid(browser: &Browser, id: &str) -> bool {
    let field = browser.client.find(Locator::Id(id)).await.unwrap();
    field.attr("aria-invalid").await.unwrap().as_deref() == Some("true")
}

/// What the reset and sign-up pages list for the password "abc" confirmed as "abd".
const WEAK_AND_MISMATCHED: [&str; 5] = [
    "The password needs at least 8 characters.",
    "The password needs an uppercase letter.",
    "The password needs a number.",
    "The password needs a symbol, such as ! or -.",
    "The passwords do not match.",
];

/// From the sign-in page to the code page of alice's password reset.
async fn ask_for_a_reset_code(browser: &Browser) {
    browser.click_link("Forgot your password?").await;
    browser.wait_for_text("Reset your password").await;
    browser.fill("Username", "alice").await;
    browser.click_button("Send code").await;
    browser.wait_for_text("we emailed it a code").await;
}

/// Follows the way back to sign-in and checks it lands on the login page with the
/// same authorization request as the page it left.
async fn back_to_sign_in(app: &TestApp, browser: &Browser, link: &str) {
    let here = browser.current_url().await;
    browser.click_link(link).await;
    let login = browser.wait_for_url(&app.url("/login?")).await;
    assert_eq!(
        login.query(),
        here.query(),
        "the link back to sign-in keeps the authorization request"
    );
    assert_eq!(focused(browser).await, "username");
}

#[tokio::test]
async fn the_sign_in_pages_pass_axe_at_both_widths_and_show_errors_and_notices_alike() {
    // Arrange
    let Some(browser) = Browser::new().await else {
        return;
    };
    let app = TestApp::spawn_with(|c| {
        c.with_rate_limits(cognate::rate_limit::RateLimits::OFF)
            .with_dev(true)
    })
    .await;
    cognate::clients::update(&app.state, &app.pool_id, &app.public.client_id, |c| {
        c.branding.display_name = Some("Acme Shop".into());
    })
    .await
    .unwrap();
    let pkce = Pkce::new();

    // Act and assert: the sign-in page, named for the client's display name.
    browser.goto(&app.page("login", &pkce, &[])).await;
    browser.wait_for_text("to continue to Acme Shop").await;
    assert!(!browser.text().await.contains("Public App"));
    assert!(browser.client.title().await.unwrap().contains("Acme Shop"));
    assert_eq!(focused(&browser).await, "username");
    check_page(&browser, "login").await;

    // A wrong password: the error box, the focus on the password.
    browser.fill("Username", "alice").await;
    browser.fill("Password", "Wrong-horse-9").await;
    browser.click_button("Sign in").await;
    browser
        .wait_for_text("Incorrect username or password.")
        .await;
    assert_eq!(errors(&browser).await, ["Incorrect username or password."]);
    assert_eq!(focused(&browser).await, "password");
    assert!(is_invalid(&browser, "password").await);
    check_page(&browser, "login-error").await;

    // In German.
    browser
        .goto(&app.page("login", &pkce, &[("lang", "de")]))
        .await;
    browser.wait_for_text("Anmelden").await;
    check_page(&browser, "login-de").await;

    // Forgot password, and back.
    browser.goto(&app.page("login", &pkce, &[])).await;
    browser.click_link("Forgot your password?").await;
    browser.wait_for_text("Reset your password").await;
    assert_eq!(focused(&browser).await, "username");
    check_page(&browser, "forgot-password").await;
    back_to_sign_in(&app, &browser, "Back to sign in").await;

    // The reset page: a weak password and a mismatch are listed together.
    ask_for_a_reset_code(&browser).await;
    assert_eq!(focused(&browser).await, "code");
    check_page(&browser, "reset-with-code").await;
    browser.fill("Verification code", "123456").await;
    browser.fill("password", "abc").await;
    browser.fill("confirm_password", "abd").await;
    browser.click_button("Change password").await;
    browser.wait_for_text("The passwords do not match.").await;
    assert_eq!(errors(&browser).await, WEAK_AND_MISMATCHED);
    assert_eq!(focused(&browser).await, "password");
    assert!(is_invalid(&browser, "confirm_password").await);
    check_page(&browser, "reset-with-code-errors").await;
    back_to_sign_in(&app, &browser, "Back to sign in").await;

    // A real reset: the sign-in page says so, and keeps saying so beside an error.
    ask_for_a_reset_code(&browser).await;
    let code = code_in(&app.last_mail("alice@example.com").await.body_text);
    browser.fill("Verification code", &code).await;
    browser.fill("password", "Brand-new-pass-7").await;
    browser.fill("confirm_password", "Brand-new-pass-7").await;
    browser.click_button("Change password").await;
    browser.wait_for_text("Your password was changed").await;
    let changed = notice(&browser).await.expect("the notice");
    browser.fill("Username", "alice").await;
    browser.fill("Password", PASSWORD).await;
    browser.click_button("Sign in").await;
    browser
        .wait_for_text("Incorrect username or password.")
        .await;
    assert_eq!(notice(&browser).await.as_deref(), Some(changed.as_str()));
    assert_eq!(errors(&browser).await, ["Incorrect username or password."]);
    check_page(&browser, "login-notice-error").await;

    // The error page: a request no client can be found for.
    browser
        .goto(&app.url("/login?client_id=nosuchclient&response_type=code"))
        .await;
    browser
        .client
        .find(Locator::Css(".callout.error[role=alert]"))
        .await
        .expect("the error page shows its error in the same box");
    check_page(&browser, "error").await;

    // The development outbox.
    browser.goto(&format!("{}/dev/outbox", app.base())).await;
    browser.wait_for_text("Outbox").await;
    check_page(&browser, "dev-outbox").await;
}

#[tokio::test]
async fn the_sign_up_pages_list_every_problem_keep_the_notice_and_pass_axe() {
    // Arrange
    let Some(browser) = Browser::new().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let pkce = Pkce::new();
    browser.goto(&app.page("login", &pkce, &[])).await;
    browser.click_link("Sign up").await;
    browser.wait_for_text("Create an account").await;
    assert_eq!(focused(&browser).await, "username");
    check_page(&browser, "signup").await;

    // Act: a weak password and a mismatch (the browser itself asks for empty required
    // fields before sending the form).
    browser.fill("Username", "nora").await;
    browser.fill("Email", "nora@example.com").await;
    browser.fill("password", "abc").await;
    browser.fill("confirm_password", "abd").await;
    browser.click_button("Sign up").await;

    // Assert: every problem, the focus on the first field to fix.
    browser.wait_for_text("The passwords do not match.").await;
    assert_eq!(errors(&browser).await, WEAK_AND_MISMATCHED);
    assert_eq!(focused(&browser).await, "password");
    for id in ["password", "confirm_password"] {
        assert!(is_invalid(&browser, id).await, "{id} is marked");
    }
    assert!(!is_invalid(&browser, "email").await);
    check_page(&browser, "signup-errors").await;

    // The same in German.
    let german = browser.current_url().await.as_str().to_string() + "&lang=de";
    browser.goto(&german).await;
    browser.wait_for_text("Konto erstellen").await;
    browser.fill("Benutzername", "nora").await;
    browser.fill("E-Mail", "nora@example.com").await;
    browser.fill("password", "abcdefgh").await;
    browser.fill("confirm_password", "abcdefgh").await;
    browser.click_button("Registrieren").await;
    browser.wait_for_text("Großbuchstaben").await;
    assert_eq!(
        errors(&browser).await,
        [
            "Das Passwort braucht einen Großbuchstaben.",
            "Das Passwort braucht eine Ziffer.",
            "Das Passwort braucht ein Sonderzeichen, etwa ! oder -.",
        ]
    );
    assert_eq!(focused(&browser).await, "password");
    check_page(&browser, "signup-errors-de").await;

    // Act: a good sign-up, then a wrong code.
    browser.goto(&app.page("signup", &pkce, &[])).await;
    browser.fill("Username", "nora").await;
    browser.fill("Email", "nora@example.com").await;
    browser.fill("password", PASSWORD).await;
    browser.fill("confirm_password", PASSWORD).await;
    browser.click_button("Sign up").await;
    browser.wait_for_text("Confirm your account").await;
    let sent = notice(&browser)
        .await
        .expect("the page says a code was sent");
    assert_eq!(focused(&browser).await, "code");
    check_page(&browser, "confirm").await;
    browser.fill("Verification code", "000000").await;
    browser.click_button("Confirm").await;

    // Assert: the error and the notice, both.
    browser.wait_for_text("Invalid verification code").await;
    assert_eq!(notice(&browser).await.as_deref(), Some(sent.as_str()));
    assert_eq!(
        errors(&browser).await,
        ["Invalid verification code provided, please try again."]
    );
    assert_eq!(focused(&browser).await, "code");
    assert!(is_invalid(&browser, "code").await);
    check_page(&browser, "confirm-error").await;
    back_to_sign_in(&app, &browser, "Back to sign in").await;

    // Sign-up's own way back.
    browser.click_link("Sign up").await;
    browser.wait_for_text("Create an account").await;
    back_to_sign_in(&app, &browser, "Sign in").await;
}

#[tokio::test]
async fn the_new_password_and_second_factor_pages_pass_axe_at_both_widths() {
    // Arrange: paula must choose a password; the pool requires an authenticator.
    let Some(browser) = Browser::new().await else {
        return;
    };
    let app = TestApp::spawn().await;
    app.create_user("paula", UserStatus::ForceChangePassword)
        .await;
    require_mfa(&app, true, false).await;
    let pkce = Pkce::new();
    browser.goto(&app.page("login", &pkce, &[])).await;
    browser.fill("Username", "paula").await;
    browser.fill("Password", PASSWORD).await;
    browser.click_button("Sign in").await;

    // Act and assert: the new password page.
    browser.wait_for_text("needs a new password").await;
    assert_eq!(focused(&browser).await, "password");
    check_page(&browser, "new-password").await;
    browser.fill("password", "paula").await;
    browser.fill("confirm_password", "paula").await;
    browser.click_button("Change password").await;
    browser.wait_for_text("The password needs").await;
    let listed = errors(&browser).await;
    assert!(
        listed.contains(&"The password must not be your username.".to_string()),
        "{listed:?}"
    );
    assert_eq!(focused(&browser).await, "password");
    check_page(&browser, "new-password-errors").await;
    let new_password = "Brand-new-pass-7";
    browser.fill("password", new_password).await;
    browser.fill("confirm_password", new_password).await;
    browser.click_button("Change password").await;

    // The authenticator's setup, with a wrong code first.
    browser.wait_for_text("Set up your authenticator app").await;
    assert_eq!(focused(&browser).await, "code");
    check_page(&browser, "mfa-setup").await;
    let secret: String = browser
        .client
        .find(Locator::Id("totp-secret"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .split_whitespace()
        .collect();
    browser
        .fill(
            "Verification code",
            wrong_code(&secret, app.state.clock.now()),
        )
        .await;
    browser.click_button("Verify").await;
    browser.wait_for_text("Invalid verification code").await;
    assert_eq!(focused(&browser).await, "code");
    check_page(&browser, "mfa-setup-error").await;
    // The page keeps the key the person may have scanned already.
    browser
        .fill("Verification code", &totp(&secret, app.state.clock.now()))
        .await;
    browser.click_button("Verify").await;
    browser.wait_for_url(CALLBACK).await;

    // The code page at the next sign-in, and its way back.
    let logout = format!(
        "{}?client_id={}&logout_uri={LOGOUT}",
        app.url("/logout"),
        app.public.client_id
    );
    let _ = browser.client.goto(&logout).await;
    browser.wait_for_url(LOGOUT).await;
    app.state.clock.advance(30);
    let pkce = Pkce::new();
    browser.goto(&app.page("login", &pkce, &[])).await;
    browser.fill("Username", "paula").await;
    browser.fill("Password", new_password).await;
    browser.click_button("Sign in").await;
    browser.wait_for_text("Enter the 6-digit code").await;
    assert_eq!(focused(&browser).await, "code");
    check_page(&browser, "mfa-code").await;
    browser
        .fill(
            "Verification code",
            wrong_code(&secret, app.state.clock.now()),
        )
        .await;
    browser.click_button("Verify").await;
    browser.wait_for_text("Invalid verification code").await;
    assert_eq!(focused(&browser).await, "code");
    check_page(&browser, "mfa-code-error").await;
    let here = browser.current_url().await;
    assert_eq!(
        query_param(here.as_str(), "state").as_deref(),
        Some("st-1"),
        "the page carries the authorization request"
    );
    back_to_sign_in(&app, &browser, "Sign in again").await;
}

#[tokio::test]
async fn the_accessibility_check_finds_a_serious_violation_where_there_is_one() {
    // Arrange: an image without a text alternative, and text too faint to read.
    let Some(browser) = Browser::new().await else {
        return;
    };
    browser
        .goto(
            "data:text/html,<!doctype html><html lang=en><title>t</title><main>\
             <img src=x.png><p style='color:%23ddd'>faint</p></main></html>",
        )
        .await;

    // Act
    let found = serious_violations(&browser).await.join("\n");

    // Assert
    assert!(found.contains("image-alt (critical)"), "{found}");
    assert!(found.contains("color-contrast (serious)"), "{found}");
}
