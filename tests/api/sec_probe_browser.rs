//! The outside probe's browser-side findings (security matrix §2.16): a challenge a
//! disabled user finishes on the hosted new-password page (PR-05), `prompt` lists and
//! `prompt=none` with an overloaded state (PR-06), and CSRF tokens that outlive the
//! sign-in or serve another pool (PR-11). The federation handle (PR-07) is tested in
//! `federation.rs`, beside the stand-in providers it needs.

use std::collections::BTreeMap;

use cognate::clients::redirect::with_params;
use cognate::clients::{AppClient, ClientSettings};
use cognate::users::UserStatus;
use reqwest::StatusCode;

use crate::account::{get, submit};
use crate::helpers::{Browser, CALLBACK, PASSWORD, Pkce, TestApp, browser, location, query_param};
use crate::sec_authorize::auth_time;

const NEW_PASSWORD: &str = "Brand-new-pass-7";

/// Disables `username` as `AdminDisableUser` does.
async fn disable(app: &TestApp, username: &str) {
    let pool = cognate::users::admin::pool(&app.state, &app.pool_id)
        .await
        .unwrap();
    cognate::users::admin::set_enabled(&app.state, &pool, username, false)
        .await
        .unwrap();
}

async fn user(app: &TestApp, username: &str) -> cognate::users::User {
    app.state
        .store
        .user_by_name(&app.pool_id, username)
        .await
        .unwrap()
        .unwrap()
}

// Matrix: PR-05
// Over HTTP, so it runs in every suite; the Chromium test below is the same story as a
// person meets it.
#[tokio::test]
async fn a_user_disabled_during_the_new_password_step_gets_no_code() {
    // Arrange: the temporary password is proven, the new-password page is shown.
    let app = TestApp::spawn().await;
    app.create_user("gina", UserStatus::ForceChangePassword)
        .await;
    let hash_before = user(&app, "gina").await.password_hash;
    let b = browser();
    let pkce = Pkce::new();
    let login = get(&b, &app.page("login", &pkce, &[])).await;
    let res = submit(&b, &login, &[("username", "gina"), ("password", PASSWORD)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = get(&b, &location(&res)).await;
    assert!(page.html.contains("needs a new password"), "{}", page.html);

    // Act: an administrator disables the user, then the new password is posted.
    disable(&app, "gina").await;
    let res = submit(
        &b,
        &page,
        &[
            ("password", NEW_PASSWORD),
            ("confirm_password", NEW_PASSWORD),
        ],
    )
    .await;

    // Assert: the page says why, no code reaches the callback, nothing changed.
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers().get("location").is_none());
    assert!(res.text().await.unwrap().contains("User is disabled."));
    let gina = user(&app, "gina").await;
    assert_eq!(gina.status, UserStatus::ForceChangePassword);
    assert_eq!(gina.password_hash, hash_before, "the password is unchanged");
    assert!(!app.signed_in(&b).await, "the browser is not signed in");
}

// Matrix: PR-05
#[tokio::test]
async fn in_chromium_a_user_disabled_on_the_new_password_page_sees_the_refusal() {
    let Some(chromium) = Browser::new().await else {
        return;
    };
    let app = TestApp::spawn().await;
    app.create_user("paula", UserStatus::ForceChangePassword)
        .await;
    let hash_before = user(&app, "paula").await.password_hash;
    let pkce = Pkce::new();
    chromium.goto(&app.page("login", &pkce, &[])).await;
    chromium.fill("Username", "paula").await;
    chromium.fill("Password", PASSWORD).await;
    chromium.click_button("Sign in").await;
    chromium.wait_for_text("needs a new password").await;

    disable(&app, "paula").await;
    chromium.fill("password", NEW_PASSWORD).await;
    chromium.fill("confirm_password", NEW_PASSWORD).await;
    chromium.click_button("Change password").await;

    chromium.wait_for_text("User is disabled.").await;
    chromium.screenshot("pr05-disabled-on-new-password").await;
    let url = chromium.current_url().await;
    assert!(
        url.as_str().starts_with(&app.url("/newPassword")),
        "the browser stays on the page: {url}"
    );
    assert!(query_param(url.as_str(), "code").is_none());
    let paula = user(&app, "paula").await;
    assert_eq!(paula.status, UserStatus::ForceChangePassword);
    assert_eq!(paula.password_hash, hash_before);
}

// Matrix: PR-06
#[tokio::test]
async fn login_anywhere_in_a_prompt_list_forces_a_new_sign_in() {
    let app = TestApp::spawn().await;
    let pkce = Pkce::new();
    let first = app
        .sign_in(
            &app.browser,
            &app.authorize_url(&app.public, Some(&pkce), &[]),
            "alice",
            PASSWORD,
        )
        .await;
    let mut last = auth_time(&app, &first, &pkce).await;
    for prompt in ["login consent", "consent login", "select_account consent"] {
        app.state.clock.advance(10);
        let pkce = Pkce::new();
        let url = app.authorize_url(&app.public, Some(&pkce), &[("prompt", prompt)]);
        // `sign_in` asserts that authorize shows the login page, not a code.
        let again = app.sign_in(&app.browser, &url, "alice", PASSWORD).await;
        let t = auth_time(&app, &again, &pkce).await;
        assert!(t >= last + 10, "prompt={prompt}: auth_time {last} → {t}");
        last = t;
    }
    // `none` with anything else stays an error.
    let url = app.authorize_url(&app.public, Some(&Pkce::new()), &[("prompt", "none login")]);
    let to = location(&app.browser.get(url).send().await.unwrap());
    assert_eq!(
        query_param(&to, "error").as_deref(),
        Some("invalid_request"),
        "{to}"
    );
}

/// A public client whose state relay allows `https://app.example.com`.
async fn relay_client(app: &TestApp) -> AppClient {
    let mut new = ClientSettings::new("Relay App");
    new.callback_urls = vec![CALLBACK.into()];
    new.state_relay.allow_list = vec!["https://app.example.com".into()];
    cognate::clients::create(
        &app.state,
        &app.pool_id,
        &new,
        cognate::clients::NewSecret::None,
    )
    .await
    .unwrap()
    .0
}

// Matrix: PR-06
#[tokio::test]
async fn prompt_none_without_a_session_sends_only_the_nonce_to_the_return_to() {
    let app = TestApp::spawn().await;
    let client = relay_client(&app).await;
    let state = "n0nce_https://app.example.com/orders/42";
    let url = app.authorize_url(
        &client,
        Some(&Pkce::new()),
        &[("state", state), ("prompt", "none")],
    );
    let res = browser().get(url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    let to = location(&res);
    assert!(
        to.starts_with("https://app.example.com/orders/42?"),
        "login_required goes to the validated return-to: {to}"
    );
    assert_eq!(query_param(&to, "error").as_deref(), Some("login_required"));
    assert_eq!(query_param(&to, "state").as_deref(), Some("n0nce"));
    assert!(query_param(&to, "code").is_none());
}

/// A second pool with a client for the same callback and a user `bob` with a verified
/// email address.
async fn second_pool(app: &TestApp) -> (String, AppClient) {
    let pool = cognate::pool::create(&app.state, "pool b", "us-east-1")
        .await
        .unwrap();
    let mut new = ClientSettings::new("Pool B App");
    new.callback_urls = vec![CALLBACK.into()];
    let (client, _) = cognate::clients::create(
        &app.state,
        &pool.pool_id,
        &new,
        cognate::clients::NewSecret::None,
    )
    .await
    .unwrap();
    // Verified: a reset code goes only to a verified address (PS-02).
    let attributes = BTreeMap::from([
        ("email".to_string(), "bob@example.com".to_string()),
        ("email_verified".to_string(), "true".to_string()),
    ]);
    cognate::users::create(
        &app.state,
        &pool.pool_id,
        "bob",
        Some(PASSWORD),
        UserStatus::Confirmed,
        attributes,
    )
    .await
    .unwrap();
    (pool.pool_id, client)
}

/// A hosted page of `pool_id` for `client`.
fn page_of(app: &TestApp, pool_id: &str, client: &AppClient, page: &str) -> String {
    let pkce = Pkce::new();
    with_params(
        &format!("{}/{pool_id}/{page}", app.base()),
        &[
            ("response_type", "code"),
            ("client_id", &client.client_id),
            ("redirect_uri", CALLBACK),
            ("scope", "openid"),
            ("code_challenge", &pkce.challenge),
            ("code_challenge_method", "S256"),
        ],
    )
}

/// Posts the forgot-password form at `action` with `csrf` for `username`.
async fn forgot(b: &reqwest::Client, action: &str, csrf: &str, username: &str) -> StatusCode {
    b.post(action)
        .form(&[("csrf_token", csrf), ("username", username)])
        .send()
        .await
        .unwrap()
        .status()
}

// Matrix: PR-11
#[tokio::test]
async fn a_csrf_token_from_before_sign_in_is_refused_after_it() {
    // Arrange: the token a page showed before sign-in, then a sign-in.
    let app = TestApp::spawn().await;
    let b = browser();
    let pkce = Pkce::new();
    let login = get(&b, &app.page("login", &pkce, &[])).await;
    let before = login.form.as_ref().unwrap().csrf.clone();
    let res = submit(&b, &login, &[("username", "alice"), ("password", PASSWORD)]).await;
    assert!(location(&res).starts_with(CALLBACK), "signed in");

    // Act: a form posted after sign-in with the old token.
    let page = get(&b, &app.page("forgotPassword", &pkce, &[])).await;
    let after = page.form.as_ref().unwrap();
    assert_ne!(after.csrf, before, "sign-in gives the session a new token");
    let stale = forgot(&b, &after.action, &before, "alice").await;

    // Assert: refused, nothing sent; the new token works.
    assert_eq!(stale, StatusCode::FORBIDDEN);
    assert_eq!(app.mail_count("alice@example.com").await, 0);
    let fresh = forgot(&b, &after.action, &after.csrf, "alice").await;
    assert_eq!(fresh, StatusCode::SEE_OTHER);
    assert_eq!(app.mail_count("alice@example.com").await, 1);
}

// Matrix: PR-11
#[tokio::test]
async fn a_csrf_token_of_one_pool_is_refused_on_another_pools_form() {
    // Arrange: one browser with a page of each pool.
    let app = TestApp::spawn().await;
    let (pool_b, client_b) = second_pool(&app).await;
    let b = browser();
    let page_a = get(&b, &app.page("forgotPassword", &Pkce::new(), &[])).await;
    let page_b = get(&b, &page_of(&app, &pool_b, &client_b, "forgotPassword")).await;
    let (a, pb) = (page_a.form.unwrap(), page_b.form.unwrap());
    assert_ne!(a.csrf, pb.csrf, "each pool has its own token");

    // Act: pool A's token on pool B's form.
    let crossed = forgot(&b, &pb.action, &a.csrf, "bob").await;

    // Assert: refused, nothing sent; pool B's own token works.
    assert_eq!(crossed, StatusCode::FORBIDDEN);
    assert_eq!(app.mail_count("bob@example.com").await, 0);
    assert_eq!(
        forgot(&b, &pb.action, &pb.csrf, "bob").await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.mail_count("bob@example.com").await, 1);
}
