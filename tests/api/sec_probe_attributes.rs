//! The hosted sign-up form under the attribute rules (docs/SECURITY_MATRIX.md PR-01,
//! PR-02), in headless Chromium: what a person submits is checked by the same rules as
//! the API's `SignUp`, and fields the page does not offer are never stored.

use cognate::clients::ClientSettings;

use crate::helpers::{Browser, CALLBACK, PASSWORD, Pkce, TestApp};

/// Adds a hidden field to the page's form, as a tampering person would in devtools.
async fn inject(browser: &Browser, name: &str, value: &str) {
    browser
        .client
        .execute(
            "const f = document.querySelector('form[method=post]');
             const i = document.createElement('input');
             i.type = 'hidden'; i.name = arguments[0]; i.value = arguments[1];
             f.appendChild(i);",
            vec![name.into(), value.into()],
        )
        .await
        .unwrap();
}

// Matrix: PR-01, PR-02
#[tokio::test]
async fn the_hosted_sign_up_form_stores_only_what_the_client_may_write() {
    let Some(browser) = Browser::new().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let mut new = ClientSettings::new("Team App");
    new.callback_urls = vec![CALLBACK.into()];
    new.allowed_scopes = vec!["openid".into(), "email".into()];
    new.write_attributes = ["email", "custom:team", "custom:ghost"]
        .map(String::from)
        .to_vec();
    let (client, _) = cognate::clients::create(
        &app.state,
        &app.pool_id,
        &new,
        cognate::clients::NewSecret::None,
    )
    .await
    .unwrap();
    let url = app.authorize_url(&client, Some(&Pkce::new()), &[("scope", "openid email")]);
    let sign_up = |username: &'static str| {
        let browser = &browser;
        let url = url.clone();
        async move {
            browser.goto(&url).await;
            browser.click_link("Sign up").await;
            browser.wait_for_text("Create an account").await;
            browser.fill("Username", username).await;
            browser
                .fill("Email", &format!("{username}@example.com"))
                .await;
            browser.fill("password", PASSWORD).await;
            browser.fill("confirm_password", PASSWORD).await;
        }
    };

    // A field offered for an attribute the pool never declared is refused on submit.
    sign_up("ghost").await;
    browser.fill("custom:ghost", "boo").await;
    browser.click_button("Sign up").await;
    browser.wait_for_text("is not part of this user pool").await;
    browser.screenshot("pr01-signup-undeclared").await;
    let store = &app.state.store;
    assert!(
        store
            .user_by_name(&app.pool_id, "ghost")
            .await
            .unwrap()
            .is_none()
    );

    // Fields the page does not offer (an escalation, a verification claim) are dropped;
    // the offered, declared one is kept.
    sign_up("tess").await;
    browser.fill("custom:team", "red").await;
    inject(&browser, "custom:is_admin", "1").await;
    inject(&browser, "email_verified", "true").await;
    browser.click_button("Sign up").await;
    browser.wait_for_text("Confirm your account").await;
    let tess = store
        .user_by_name(&app.pool_id, "tess")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        tess.attributes.get("custom:team").map(String::as_str),
        Some("red")
    );
    assert!(
        !tess.attributes.contains_key("custom:is_admin"),
        "{:?}",
        tess.attributes
    );
    assert_ne!(
        tess.attributes.get("email_verified").map(String::as_str),
        Some("true"),
        "a sign-up never proves its own address"
    );
}
