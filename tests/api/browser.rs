//! The hosted pages in a real browser: headless Chromium from Debian's packages, driven
//! over WebDriver (see `helpers::Browser`). These catch what HTTP-level tests cannot:
//! labels a person can use, the stylesheet passing the CSP, and the redirect chain a
//! browser actually follows. Each test leaves a screenshot under `target/screenshots/`.

use reqwest::StatusCode;

use crate::helpers::{Browser, CALLBACK, PASSWORD, Pkce, TestApp, query_param};

#[tokio::test]
async fn a_person_signs_in_on_the_hosted_page_and_the_app_redeems_the_code() {
    // Arrange
    let Some(browser) = Browser::new().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let pkce = Pkce::new();
    browser
        .goto(&app.authorize_url(&app.public, Some(&pkce), &[]))
        .await;
    let login = browser.current_url().await;
    assert!(login.as_str().starts_with(&app.url("/login?")), "{login}");
    browser.labelled_field("Username").await;
    browser.labelled_field("Password").await;
    browser.screenshot("login").await;

    // Act
    browser.fill("Username", "alice").await;
    browser.fill("Password", PASSWORD).await;
    browser.click_button("Sign in").await;

    // Assert: nothing listens on the callback, so Chromium shows its error page, but the
    // address bar keeps the URL it tried, as it would for a person.
    let callback = browser.wait_for_url(CALLBACK).await;
    let callback = callback.as_str();
    assert_eq!(query_param(callback, "state").as_deref(), Some("st-1"));
    let code = query_param(callback, "code").expect("the callback carries a code");
    let res = app.exchange(&app.public, &code, Some(&pkce.verifier)).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_wrong_password_shows_the_error_on_the_page() {
    // Arrange
    let Some(browser) = Browser::new().await else {
        return;
    };
    let app = TestApp::spawn().await;
    browser
        .goto(&app.authorize_url(&app.public, Some(&Pkce::new()), &[]))
        .await;

    // Act
    browser.fill("username", "alice").await;
    browser.fill("password", "Wrong-horse-9").await;
    browser.click_button("Sign in").await;

    // Assert
    browser
        .wait_for_text("Incorrect username or password.")
        .await;
    browser.screenshot("login-error").await;
    let login = browser.current_url().await;
    assert!(login.as_str().starts_with(&app.url("/login")), "{login}");
    // the form is back, ready for another try
    browser.labelled_field("Password").await;
}

#[tokio::test]
async fn the_login_page_stylesheet_passes_the_csp_and_applies() {
    // Arrange
    let Some(browser) = Browser::new().await else {
        return;
    };
    let app = TestApp::spawn().await;

    // Act
    browser
        .goto(&app.authorize_url(&app.public, Some(&Pkce::new()), &[]))
        .await;

    // Assert: the default accent #2454d6 from static/cognate.css; a blocked stylesheet
    // would leave Chromium's grey default button.
    assert_eq!(
        browser.computed_style("button", "background-color").await,
        "rgb(36, 84, 214)"
    );
}
