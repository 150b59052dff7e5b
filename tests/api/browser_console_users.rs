//! The console's user and activity pages in headless Chromium (issue 20 item 3): an
//! operator opens a pool's activity charts, finds a user with a `ListUsers` filter,
//! disables them after confirming (their refresh token is refused then), and reads the change on the event log and the
//! trigger log. Every page gets a full-page screenshot under
//! `target/screenshots/console/` and axe-core's check (nothing serious or critical).

use cognate::store::NewTriggerLog;
use cognate::users::UserStatus;
use serde_json::json;

use crate::browser_pages::check_page;
use crate::console::{OPERATOR_PASSWORD, code, operator};
use crate::helpers::{Browser, PASSWORD, TestApp};

#[tokio::test]
async fn an_operator_finds_a_user_by_filter_disables_them_and_reads_the_event_log() {
    // Arrange: alison and bob; a sign-in, a wrong password and a trigger invocation.
    let Some(browser) = Browser::new().await else {
        return;
    };
    let app = TestApp::spawn().await;
    app.allow_api_flows(&["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
        .await;
    app.create_user("alison", UserStatus::Confirmed).await;
    app.create_user("bob", UserStatus::Confirmed).await;
    let mut refresh = None;
    for password in [PASSWORD, "Wrong-password-1"] {
        let (_, body) = app
            .api_call(
                "InitiateAuth",
                &json!({"ClientId": app.public.client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                        "AuthParameters": {"USERNAME": "alison", "PASSWORD": password}}),
            )
            .await;
        refresh = refresh.or(body["AuthenticationResult"]["RefreshToken"]
            .as_str()
            .map(str::to_string));
    }
    let refresh = refresh.expect("alison's sign-in gave a refresh token");
    // The test client rotates refresh tokens: each use gives the next one.
    let refresh_with =
        |token: &str| json!({"ClientId": app.public.client_id, "RefreshToken": token});
    let (status, body) = app
        .api_call("GetTokensFromRefreshToken", &refresh_with(&refresh))
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    let refresh = body["AuthenticationResult"]["RefreshToken"]
        .as_str()
        .expect("the next refresh token")
        .to_string();
    app.state
        .store
        .insert_trigger_log(
            &NewTriggerLog {
                pool_id: &app.pool_id,
                at: app.state.clock.now(),
                trigger_source: "PreSignUp_SignUp",
                user_name: "alison",
                client_id: Some(&app.public.client_id),
                target: "https://hooks.example.com/pre-sign-up",
                duration_ms: 42,
                outcome: "ok",
                error: None,
                request: "{\"triggerSource\":\"PreSignUp_SignUp\"}",
                response: Some("{\"response\":{\"autoConfirmUser\":true}}"),
            },
            100,
        )
        .await
        .unwrap();
    app.flushed().await;
    let op = operator(&app, "ada").await;
    let base = app.base();

    // Act and assert: sign in, open the pool's activity.
    browser.goto(&format!("{base}/admin/login")).await;
    browser.fill("Operator name", "ada").await;
    browser.fill("Password", OPERATOR_PASSWORD).await;
    browser.fill("Authenticator code", &code(&app, &op)).await;
    browser.click_button("Sign in").await;
    browser.wait_for_url(&format!("{base}/admin/pools")).await;
    browser
        .goto(&format!("{base}/admin/pools/{}", app.pool_id))
        .await;
    browser.click_link("Activity").await;
    browser.wait_for_text("Last 30 days").await;
    check_page(&browser, "console/dashboard").await;

    // Find alison by the start of her email.
    browser.click_link("Users").await;
    browser.wait_for_text("Find users").await;
    browser
        .fill("Filter, as in ListUsers", "email ^= \"alis\"")
        .await;
    browser.click_button("Find users").await;
    // The unfiltered list showed her too: wait for the search's own page.
    browser
        .wait_for_url(&format!("{base}/admin/pools/{}/users?filter=", app.pool_id))
        .await;
    let text = browser.wait_for_text("alison@example.com").await;
    assert!(!text.contains("bob@example.com") && !text.contains("alice@example.com"));
    check_page(&browser, "console/users").await;

    // Her page, then disable her after confirming.
    browser.click_link("alison").await;
    browser.wait_for_text("Live sign-ins").await;
    check_page(&browser, "console/user").await;
    browser.click_link("Disable…").await;
    browser.wait_for_text("every sign-in they have").await;
    check_page(&browser, "console/confirm").await;
    browser.click_button("Disable user").await;
    browser
        .wait_for_text("The user was disabled and signed out everywhere.")
        .await;
    let alison = app
        .state
        .store
        .user_by_name(&app.pool_id, "alison")
        .await
        .unwrap()
        .unwrap();
    assert!(!alison.enabled);
    // Her refresh token, good before, is refused now.
    let (status, body) = app
        .api_call("GetTokensFromRefreshToken", &refresh_with(&refresh))
        .await;
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["__type"], "NotAuthorizedException", "{body}");

    // The event log shows the change; the failures filter shows the wrong password.
    app.flushed().await;
    browser.click_link("Event log").await;
    browser
        .wait_for_text("AdminDisableUser on alison by console:ada")
        .await;
    check_page(&browser, "console/events").await;
    browser
        .client
        .find(fantoccini::Locator::Css("input[name=failed]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.click_button("Show events").await;
    // The unfiltered log listed the failure too: wait for the filtered page.
    browser
        .wait_for_url(&format!("{base}/admin/pools/{}/events?", app.pool_id))
        .await;
    let text = browser.wait_for_text("failed: bad_credentials").await;
    assert!(!text.contains("AdminDisableUser"));

    // The trigger log shows the invocation and its payloads.
    browser.click_link("Trigger log").await;
    browser.wait_for_text("hooks.example.com/pre-sign-up").await;
    check_page(&browser, "console/trigger_log").await;
}
