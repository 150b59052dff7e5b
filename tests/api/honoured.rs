//! Pool settings the hosted pages honour as the API does (issue 15): an expired
//! temporary password signs in by no page, and a new password on the reset and
//! new-password pages may not repeat the pool's `PasswordHistorySize` last ones.

use reqwest::StatusCode;

use crate::account::{code_in, create_user_with_email, get, submit};
use crate::helpers::{CALLBACK, PASSWORD, Pkce, TestApp, browser, location};
use cognate::users::UserStatus;

const NEW_PASSWORD: &str = "Brand-new-pass-7";

/// Sets the pool's `PasswordHistorySize`.
async fn keep_history(app: &TestApp, size: u32) {
    cognate::pool::update(&app.state, &app.pool_id, |s| {
        s.password_policy.password_history_size = size;
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn an_expired_temporary_password_is_refused_on_the_login_page() {
    // Arrange: two administrator-created users; the pool's temporary passwords last a day.
    let app = TestApp::spawn().await;
    cognate::pool::update(&app.state, &app.pool_id, |s| {
        s.password_policy.temporary_password_validity_days = 1;
    })
    .await
    .unwrap();
    app.create_user("fresh", UserStatus::ForceChangePassword)
        .await;
    app.create_user("stale", UserStatus::ForceChangePassword)
        .await;
    let b = browser();
    let pkce = Pkce::new();
    let login = get(&b, &app.page("login", &pkce, &[])).await;

    // Act and assert: within the day the new-password page follows; after it, nothing.
    // (The clock also runs in real time: a minute's margin each way for a slow machine.)
    app.state.clock.advance(86_400 - 60);
    let res = submit(&b, &login, &[("username", "fresh"), ("password", PASSWORD)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        location(&res).contains("/newPassword?"),
        "{}",
        location(&res)
    );
    app.state.clock.advance(120);
    let login = get(&b, &app.page("login", &pkce, &[])).await;
    let res = submit(&b, &login, &[("username", "stale"), ("password", PASSWORD)]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let html = res.text().await.unwrap();
    assert!(html.contains("temporary password has expired"), "{html}");
}

#[tokio::test]
async fn the_reset_page_refuses_a_recent_password_and_keeps_the_code() {
    // Arrange: a history of two; the user's current password is PASSWORD.
    let app = TestApp::spawn().await;
    keep_history(&app, 2).await;
    create_user_with_email(&app, "rita", "rita@example.com").await;
    let b = browser();
    let pkce = Pkce::new();
    let page = get(&b, &app.page("forgotPassword", &pkce, &[])).await;
    let res = submit(&b, &page, &[("username", "rita")]).await;
    let reset = get(&b, &location(&res)).await;
    let code = code_in(&app.last_mail("rita@example.com").await.body_text);

    // Act: the current password again, then a new one with the same code.
    let fields = |password: &'static str| {
        [
            ("code", code.clone()),
            ("password", password.to_string()),
            ("confirm_password", password.to_string()),
        ]
    };
    let reused = fields(PASSWORD);
    let reused: Vec<(&str, &str)> = reused.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = submit(&b, &reset, &reused).await;

    // Assert
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("used before"));
    let fresh = fields(NEW_PASSWORD);
    let fresh: Vec<(&str, &str)> = fresh.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = submit(&b, &reset, &fresh).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_new_password_page_refuses_the_temporary_password_itself() {
    let app = TestApp::spawn().await;
    keep_history(&app, 1).await;
    app.create_user("tina", UserStatus::ForceChangePassword)
        .await;
    let b = browser();
    let pkce = Pkce::new();
    let login = get(&b, &app.page("login", &pkce, &[])).await;
    let res = submit(&b, &login, &[("username", "tina"), ("password", PASSWORD)]).await;
    let page = get(&b, &location(&res)).await;
    let same = submit(
        &b,
        &page,
        &[("password", PASSWORD), ("confirm_password", PASSWORD)],
    )
    .await;
    assert_eq!(same.status(), StatusCode::BAD_REQUEST);
    assert!(same.text().await.unwrap().contains("used before"));
    let res = submit(
        &b,
        &page,
        &[
            ("password", NEW_PASSWORD),
            ("confirm_password", NEW_PASSWORD),
        ],
    )
    .await;
    assert!(location(&res).starts_with(CALLBACK), "{}", location(&res));
}

#[tokio::test]
async fn the_password_history_keeps_no_more_than_the_pool_needs() {
    // Arrange: a history of three: two replaced passwords are kept.
    let app = TestApp::spawn().await;
    keep_history(&app, 3).await;
    let user = app
        .state
        .store
        .user_by_name(&app.pool_id, "alice")
        .await
        .unwrap()
        .unwrap();
    // Act: five new passwords.
    for n in 0..5 {
        cognate::users::credentials::set_password(
            &app.state,
            &user,
            &format!("Rotated-pass-{n}"),
            UserStatus::Confirmed,
        )
        .await
        .unwrap();
    }
    // Assert: the store holds the newest two replaced ones, and no more.
    let kept = app
        .state
        .store
        .password_history(&user.user_id, 100)
        .await
        .unwrap();
    assert_eq!(kept.len(), 2);
    for (hash, n) in kept.iter().zip([3, 2]) {
        assert!(
            cognate::users::password::verify(Some(hash), &format!("Rotated-pass-{n}")).await,
            "history holds Rotated-pass-{n}"
        );
    }
}
