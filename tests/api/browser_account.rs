//! The account pages in a real browser (headless Chromium): sign-up and confirmation
//! by code and by link, password reset, the required new password, and a branded
//! client. Each test leaves screenshots under `target/screenshots/`.

use reqwest::StatusCode;

use crate::account::{code_in, link_in};
use crate::helpers::{Browser, CALLBACK, PASSWORD, Pkce, TestApp, query_param};
use cognate::users::UserStatus;

const NEW_PASSWORD: &str = "Brand-new-pass-7";

/// Waits for the app's callback and redeems its code.
async fn lands_on_the_app(app: &TestApp, browser: &Browser, pkce: &Pkce) {
    let callback = browser.wait_for_url(CALLBACK).await;
    let code = query_param(callback.as_str(), "code").expect("the callback carries a code");
    let res = app.exchange(&app.public, &code, Some(&pkce.verifier)).await;
    assert_eq!(res.status(), StatusCode::OK);
}

async fn sign_up(app: &TestApp, browser: &Browser, pkce: &Pkce, username: &str) {
    browser.goto(&app.page("login", pkce, &[])).await;
    browser.click_link("Sign up").await;
    browser.wait_for_text("Create an account").await;
    browser.screenshot("signup").await;
    browser.fill("Username", username).await;
    browser
        .fill("Email", &format!("{username}@example.com"))
        .await;
    browser.fill("password", PASSWORD).await;
    browser.fill("confirm_password", PASSWORD).await;
    browser.click_button("Sign up").await;
    browser.wait_for_text("Confirm your account").await;
}

#[tokio::test]
async fn a_person_signs_up_confirms_with_the_emailed_code_and_reaches_the_app() {
    let Some(browser) = Browser::new().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let pkce = Pkce::new();
    sign_up(&app, &browser, &pkce, "nora").await;
    browser.screenshot("confirm").await;
    let code = code_in(&app.last_mail("nora@example.com").await.body_text);
    browser.fill("Verification code", &code).await;
    browser.click_button("Confirm").await;
    lands_on_the_app(&app, &browser, &pkce).await;
}

#[tokio::test]
async fn the_emailed_link_confirms_in_one_click() {
    let Some(browser) = Browser::new().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let pkce = Pkce::new();
    sign_up(&app, &browser, &pkce, "otto").await;
    let link = link_in(&app.last_mail("otto@example.com").await.body_text);
    // Clicked from the message, as a person does (a typed-in GET that ends on a dead
    // callback is retried by Chromium, and the link is single-use).
    let page = format!(
        "data:text/html,<a href=\"{}\">Confirm my account</a>",
        link.replace('&', "%26")
    );
    browser.goto(&page).await;
    browser.click_link("Confirm my account").await;
    lands_on_the_app(&app, &browser, &pkce).await;
    let user = app
        .state
        .store
        .user_by_name(&app.pool_id, "otto")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.status, UserStatus::Confirmed);
}

#[tokio::test]
async fn a_person_resets_a_forgotten_password_and_signs_in_with_the_new_one() {
    let Some(browser) = Browser::new().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let pkce = Pkce::new();
    browser.goto(&app.page("login", &pkce, &[])).await;
    browser.click_link("Forgot your password?").await;
    browser.wait_for_text("Reset your password").await;
    browser.screenshot("forgot-password").await;
    browser.fill("Username", "alice").await;
    browser.click_button("Send code").await;
    browser.wait_for_text("we emailed it a code").await;
    browser.screenshot("confirm-forgot-password").await;
    let code = code_in(&app.last_mail("alice@example.com").await.body_text);
    browser.fill("Verification code", &code).await;
    browser.fill("password", NEW_PASSWORD).await;
    browser.fill("confirm_password", NEW_PASSWORD).await;
    browser.click_button("Change password").await;
    browser.wait_for_text("Your password was changed").await;
    browser.fill("Username", "alice").await;
    browser.fill("Password", NEW_PASSWORD).await;
    browser.click_button("Sign in").await;
    lands_on_the_app(&app, &browser, &pkce).await;
}

#[tokio::test]
async fn an_admin_created_user_chooses_a_password_at_first_sign_in() {
    let Some(browser) = Browser::new().await else {
        return;
    };
    let app = TestApp::spawn().await;
    app.create_user("paula", UserStatus::ForceChangePassword)
        .await;
    let pkce = Pkce::new();
    browser.goto(&app.page("login", &pkce, &[])).await;
    browser.fill("Username", "paula").await;
    browser.fill("Password", PASSWORD).await;
    browser.click_button("Sign in").await;
    browser.wait_for_text("needs a new password").await;
    browser.screenshot("new-password").await;
    browser.fill("password", NEW_PASSWORD).await;
    browser.fill("confirm_password", NEW_PASSWORD).await;
    browser.click_button("Change password").await;
    lands_on_the_app(&app, &browser, &pkce).await;
}

#[tokio::test]
async fn a_branded_client_shows_its_logo_and_stylesheet() {
    let Some(browser) = Browser::new().await else {
        return;
    };
    let app = TestApp::spawn().await;
    cognate::clients::update(&app.state, &app.pool_id, &app.public.client_id, |c| {
        c.branding.primary_color = Some("#cc0000".into());
        c.branding.background_color = Some("#fff4e0".into());
        c.branding.css = Some("h1 { font-style: italic; }".into());
        // An inline logo: it renders with no network at all.
        c.branding.logo_url = Some(format!("data:image/svg+xml;base64,{}", base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            "<svg xmlns='http://www.w3.org/2000/svg' width='120' height='40'><rect width='120' height='40' fill='#cc0000'/></svg>",
        )));
    })
    .await
    .unwrap();
    browser
        .goto(&app.page("login", &Pkce::new(), &[("lang", "de")]))
        .await;
    browser.wait_for_text("Anmelden").await;
    assert_eq!(
        browser.computed_style("button", "background-color").await,
        "rgb(204, 0, 0)"
    );
    assert_eq!(
        browser.computed_style("body", "background-color").await,
        "rgb(255, 244, 224)"
    );
    assert_eq!(browser.computed_style("h1", "font-style").await, "italic");
    let logo_width = browser.computed_style("img.logo", "width").await;
    assert_eq!(logo_width, "120px", "the logo is rendered");
    browser.screenshot("branded-login-de").await;
}
