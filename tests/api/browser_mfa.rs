//! The second factor in a real browser (headless Chromium): a pool that requires MFA
//! has a person set up an authenticator after the password (QR code and key on the
//! page, no script), then asks for its code at the next sign-in. The codes come from
//! the tests' own RFC 6238 implementation (`hosted_mfa::totp`). Screenshots go to
//! `target/screenshots/`.

use reqwest::StatusCode;

use crate::helpers::{Browser, CALLBACK, LOGOUT, PASSWORD, Pkce, TestApp, query_param};
use crate::hosted_mfa::{require_mfa, totp};

/// Waits for the app's callback and redeems its code.
async fn lands_on_the_app(app: &TestApp, browser: &Browser, pkce: &Pkce) {
    let callback = browser.wait_for_url(CALLBACK).await;
    let code = query_param(callback.as_str(), "code").expect("the callback carries a code");
    let res = app.exchange(&app.public, &code, Some(&pkce.verifier)).await;
    assert_eq!(res.status(), StatusCode::OK);
}

async fn sign_in_with_password(app: &TestApp, browser: &Browser, pkce: &Pkce) {
    browser
        .goto(&app.authorize_url(&app.public, Some(pkce), &[]))
        .await;
    browser.fill("Username", "alice").await;
    browser.fill("Password", PASSWORD).await;
    browser.click_button("Sign in").await;
}

// Matrix: MF-10
#[tokio::test]
async fn a_person_sets_up_an_authenticator_and_signs_in_with_its_codes() {
    // Arrange: an ON pool with authenticators; alice has none yet.
    let Some(browser) = Browser::new().await else {
        return;
    };
    let app = TestApp::spawn().await;
    require_mfa(&app, true, false).await;
    let pkce = Pkce::new();

    // Act: the password leads to the enrolment page.
    sign_in_with_password(&app, &browser, &pkce).await;
    browser.wait_for_text("Set up your authenticator app").await;
    assert!(browser.current_url().await.as_str().contains("/mfaSetup?"));
    browser.labelled_field("Verification code").await;
    let qr_width = browser.computed_style(".qr svg", "width").await;
    assert!(
        qr_width.trim_end_matches("px").parse::<f64>().unwrap() >= 150.0,
        "the QR code is drawn: {qr_width}"
    );
    browser.screenshot("mfa-setup").await;
    let secret: String = browser
        .client
        .find(fantoccini::Locator::Id("totp-secret"))
        .await
        .expect("the key is on the page")
        .text()
        .await
        .unwrap()
        .split_whitespace()
        .collect();
    let enrolled_at = app.state.clock.now();
    browser
        .fill("Verification code", &totp(&secret, enrolled_at))
        .await;
    browser.click_button("Verify").await;

    // Assert
    lands_on_the_app(&app, &browser, &pkce).await;

    // Act: sign out, then in again, in the next 30-second step (codes are single-use).
    let logout = format!(
        "{}?client_id={}&logout_uri={LOGOUT}",
        app.url("/logout"),
        app.public.client_id
    );
    // Nothing listens at the logout URI, so the navigation ends in an error page.
    let _ = browser.client.goto(&logout).await;
    browser.wait_for_url(LOGOUT).await;
    app.state.clock.advance(30);
    let pkce = Pkce::new();
    sign_in_with_password(&app, &browser, &pkce).await;
    browser
        .wait_for_text("Enter the 6-digit code from your authenticator app.")
        .await;
    browser.screenshot("mfa-code").await;
    let now = app.state.clock.now();
    let near: Vec<String> = (-2..=2).map(|s| totp(&secret, now + s * 30)).collect();
    let wrong = ["000000", "111111", "222222"]
        .into_iter()
        .find(|c| !near.iter().any(|n| n == c))
        .unwrap();
    browser.fill("Verification code", wrong).await;
    browser.click_button("Verify").await;

    // Assert: the error, on the page, and the form again.
    browser
        .wait_for_text("Invalid verification code provided, please try again.")
        .await;
    browser.screenshot("mfa-code-error").await;

    // Act: the right code.
    browser.fill("Verification code", &totp(&secret, now)).await;
    browser.click_button("Verify").await;

    // Assert
    lands_on_the_app(&app, &browser, &pkce).await;
}
