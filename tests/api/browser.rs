//! The hosted pages in a real browser: headless Chromium from Debian's packages, driven
//! over WebDriver (see `helpers::Browser`). These catch what HTTP-level tests cannot:
//! labels a person can use, the stylesheet passing the CSP, and the redirect chain a
//! browser actually follows, and a custom domain reached by its own host name (Chromium
//! resolves it to the test server). Each test leaves a screenshot under
//! `target/screenshots/`.

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

#[tokio::test]
async fn a_person_signs_in_through_a_custom_domain_whose_discovery_names_it_as_issuer() {
    // Arrange: Chromium resolves the custom domain to the test server, which routes
    // it to the pool by `Host`.
    let host = "login.example.test";
    let Some(browser) = Browser::with_args(&[
        &format!("--host-resolver-rules=MAP {host} 127.0.0.1"),
        "--disable-features=HttpsUpgrades",
    ])
    .await
    else {
        return;
    };
    let app = TestApp::spawn().await;
    let custom = cognate::domains::NewDomain {
        name: host,
        certificate_arn: Some("arn:aws:acm:us-east-1:123456789012:certificate/browser-test"),
        managed_login_version: None,
    };
    cognate::domains::create(&app.state, &app.pool_id, &custom)
        .await
        .unwrap();
    let domain = format!("http://{host}:{}", app.addr.port());
    browser
        .goto(&format!("{domain}/.well-known/openid-configuration"))
        .await;
    let json = match browser.client.find(fantoccini::Locator::Css("pre")).await {
        Ok(pre) => pre.text().await.unwrap(),
        Err(_) => browser.text().await,
    };
    let discovery: serde_json::Value = serde_json::from_str(&json).expect("discovery JSON");
    assert_eq!(discovery["issuer"], domain.as_str());
    let pkce = Pkce::new();
    let authorize = app
        .authorize_url(&app.public, Some(&pkce), &[])
        .replace(&app.issuer(), &domain);
    assert_eq!(
        discovery["authorization_endpoint"],
        authorize.split('?').next().unwrap()
    );

    // Act
    browser.goto(&authorize).await;
    let login = browser.current_url().await;
    assert!(
        login.as_str().starts_with(&format!("{domain}/login?")),
        "{login}"
    );
    // The stylesheet comes from the domain itself, so the CSP ('self') admits it.
    assert_eq!(
        browser.computed_style("button", "background-color").await,
        "rgb(36, 84, 214)"
    );
    browser.screenshot("login-custom-domain").await;
    browser.fill("Username", "alice").await;
    browser.fill("Password", PASSWORD).await;
    browser.click_button("Sign in").await;

    // Assert
    let callback = browser.wait_for_url(CALLBACK).await;
    let code = query_param(callback.as_str(), "code").expect("the callback carries a code");
    let res = app.exchange(&app.public, &code, Some(&pkce.verifier)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let tokens: serde_json::Value = res.json().await.unwrap();
    let id_token = crate::helpers::jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id_token["iss"], domain.as_str());
}
