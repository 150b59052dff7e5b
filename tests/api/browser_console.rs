//! The admin console in headless Chromium (issue 20): an operator signs in with a
//! password and an authenticator code, creates a pool and an app client, changes the
//! client's branding and sees the real login page show it. Every console page visited
//! gets a full-page screenshot under `target/screenshots/console/` and axe-core's
//! check (nothing serious or critical), as the hosted pages do.

use crate::browser_pages::check_page;
use crate::console::{OPERATOR_PASSWORD, code, operator};
use crate::helpers::{Browser, CALLBACK, TestApp};

#[tokio::test]
async fn an_operator_signs_in_with_totp_creates_a_pool_and_client_and_rebrands_its_login_page() {
    // Arrange
    let Some(browser) = Browser::new().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let op = operator(&app, "ada").await;
    let base = app.base();

    // Act and assert: sign in with name, password and the authenticator's code.
    browser.goto(&format!("{base}/admin/login")).await;
    check_page(&browser, "console/login").await;
    browser.fill("Operator name", "ada").await;
    browser.fill("Password", OPERATOR_PASSWORD).await;
    browser.fill("Authenticator code", &code(&app, &op)).await;
    browser.click_button("Sign in").await;
    browser.wait_for_url(&format!("{base}/admin/pools")).await;
    browser.wait_for_text("Signed in as ada").await;
    check_page(&browser, "console/pools").await;

    // A pool.
    browser.fill("Pool name", "Console Pool").await;
    browser.click_button("Create pool").await;
    browser.wait_for_text("Password policy").await;
    let pool_url = browser.current_url().await;
    let pool_id = pool_url.path().rsplit('/').next().unwrap().to_string();
    assert!(cognate::pool::is_pool_id(&pool_id), "{pool_url}");
    check_page(&browser, "console/pool").await;

    // A client in it, with a callback.
    browser.click_link("App clients").await;
    browser.wait_for_text("Create an app client").await;
    check_page(&browser, "console/clients").await;
    browser.fill("Client name", "shop-web").await;
    browser.click_button("Create client").await;
    browser.wait_for_text("Client created.").await;
    browser.fill("Callback URLs (one per line)", CALLBACK).await;
    browser.click_button("Save settings").await;
    browser.wait_for_text("Saved.").await;
    check_page(&browser, "console/client").await;
    let client = app.state.store.clients(&pool_id).await.unwrap().remove(0);
    assert_eq!(client.settings.callback_urls, [CALLBACK]);

    // Try a state against its (empty) allow-list.
    browser
        .fill("state", "n0nce_https://elsewhere.example/x")
        .await;
    browser.click_button("Check").await;
    browser.wait_for_text("passed back unchanged").await;

    // Its branding: the display name shows on the real login page.
    browser.click_link("Branding and login page preview").await;
    browser.wait_for_text("Display name").await;
    let preview = browser
        .client
        .find(fantoccini::Locator::Id("preview-link"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    browser.goto(&preview).await;
    browser.wait_for_text("shop-web").await;
    assert!(!browser.text().await.contains("Acme Shop"));
    browser.client.back().await.unwrap();
    browser.wait_for_text("Display name").await;
    browser
        .fill(
            "Display name (shown on the pages instead of the client's name)",
            "Acme Shop",
        )
        .await;
    browser.click_button("Save branding").await;
    browser.wait_for_text("Branding saved.").await;
    check_page(&browser, "console/branding").await;
    browser.goto(&preview).await;
    browser.wait_for_text("to continue to Acme Shop").await;
    assert!(browser.client.title().await.unwrap().contains("Acme Shop"));
}
