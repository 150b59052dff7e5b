//! The hosted login page and logout.

use reqwest::StatusCode;

use crate::helpers::{Form, LOGOUT, PASSWORD, Pkce, TestApp, browser, location};
use cognate::users::UserStatus;

async fn login_form(app: &TestApp, browser: &reqwest::Client) -> Form {
    let res = browser
        .get(app.authorize_url(&app.public, Some(&Pkce::new()), &[]))
        .send()
        .await
        .unwrap();
    let page = browser.get(location(&res)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    for needle in [
        "<label for=\"username\">Username</label>",
        "<label for=\"password\">Password</label>",
        "Sign in</button>",
    ] {
        assert!(html.contains(needle), "login page lacks {needle}");
    }
    Form::parse(&html)
}

async fn post(
    browser: &reqwest::Client,
    form: &Form,
    csrf: &str,
    username: &str,
    password: &str,
) -> reqwest::Response {
    browser
        .post(&form.action)
        .form(&[
            ("csrf_token", csrf),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
}

// Matrix: HU-01
#[tokio::test]
async fn a_post_without_the_csrf_token_is_refused() {
    let app = TestApp::spawn().await;
    let b = browser();
    let form = login_form(&app, &b).await;
    let res = post(&b, &form, "", "alice", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.headers().get("location").is_none());
    let forged = post(&b, &form, "forged-token", "alice", PASSWORD).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    // A token from another browser's session does not work either.
    let other = login_form(&app, &browser()).await;
    let res = post(&b, &form, &other.csrf, "alice", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

// Matrix: HU-05
#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_message() {
    let app = TestApp::spawn().await;
    let b = browser();
    let form = login_form(&app, &b).await;
    let wrong = post(&b, &form, &form.csrf, "alice", "Wrong-password-1").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let wrong = wrong.text().await.unwrap();
    let unknown = post(&b, &form, &form.csrf, "nobody", "Wrong-password-1").await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let unknown = unknown.text().await.unwrap();
    assert!(wrong.contains("Incorrect username or password."));
    let strip = |page: &str, user: &str| page.replace(&format!("value=\"{user}\""), "");
    assert_eq!(strip(&wrong, "alice"), strip(&unknown, "nobody"));
}

#[tokio::test]
async fn usernames_are_case_insensitive() {
    let app = TestApp::spawn().await;
    let url = app.authorize_url(&app.public, Some(&Pkce::new()), &[]);
    let callback = app.sign_in(&browser(), &url, "ALICE", PASSWORD).await;
    assert!(callback.contains("code="));
}

#[tokio::test]
async fn an_unconfirmed_user_cannot_sign_in() {
    let app = TestApp::spawn().await;
    app.create_user("carol", UserStatus::Unconfirmed).await;
    let b = browser();
    let form = login_form(&app, &b).await;
    let res = post(&b, &form, &form.csrf, "carol", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.text().await.unwrap().contains("not confirmed"));
}

// Matrix: HU-02
#[tokio::test]
async fn reflected_input_is_escaped() {
    let app = TestApp::spawn().await;
    let b = browser();
    let form = login_form(&app, &b).await;
    let probe = "\"><script>alert(1)</script>";
    let res = post(&b, &form, &form.csrf, probe, "x").await;
    let html = res.text().await.unwrap();
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(html.contains("&#60;script&#62;"));
}

// Matrix: HU-04, SS-02
#[tokio::test]
async fn pages_carry_security_headers_and_a_hardened_session_cookie() {
    let app = TestApp::spawn().await;
    let res = app
        .browser
        .get(app.authorize_url(&app.public, Some(&Pkce::new()), &[]))
        .send()
        .await
        .unwrap();
    let page = app.browser.get(location(&res)).send().await.unwrap();
    let h = page.headers();
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(h["cache-control"], "no-store");
    let cookie = h["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
}

// Matrix: SS-01
#[tokio::test]
async fn the_session_id_changes_at_sign_in() {
    let app = TestApp::spawn().await;
    let b = browser();
    let res = b
        .get(app.authorize_url(&app.public, Some(&Pkce::new()), &[]))
        .send()
        .await
        .unwrap();
    let page = b.get(location(&res)).send().await.unwrap();
    let before = page.headers()["set-cookie"].to_str().unwrap().to_string();
    let form = Form::parse(&page.text().await.unwrap());
    let res = post(&b, &form, &form.csrf, "alice", PASSWORD).await;
    let after = res.headers()["set-cookie"].to_str().unwrap().to_string();
    let id = |c: &str| c.split(';').next().unwrap().to_string();
    assert_ne!(id(&before), id(&after));
}

// Matrix: LO-01, SS-03
#[tokio::test]
async fn logout_ends_the_session_and_redirects_only_to_a_registered_url() {
    let app = TestApp::spawn().await;
    app.login_and_authorize(&app.public, Some(&Pkce::new()))
        .await;
    let id = app.public.client_id.as_str();

    let bad = app
        .browser
        .get(app.url("/logout"))
        .query(&[
            ("client_id", id),
            ("logout_uri", "https://evil.example.com/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(bad.headers().get("location").is_none());

    let res = app
        .browser
        .get(app.url("/logout"))
        .query(&[("client_id", id), ("logout_uri", LOGOUT)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(location(&res), LOGOUT);
    let again = app
        .browser
        .get(app.authorize_url(&app.public, Some(&Pkce::new()), &[]))
        .send()
        .await
        .unwrap();
    assert!(
        location(&again).contains("/login?"),
        "signed out: the form is shown again"
    );
}

// Issue 17: a password hash exported by another system.
#[tokio::test]
async fn a_bcrypt_user_signs_in_on_the_hosted_page_and_the_hash_becomes_argon2id() {
    // Arrange: Bea comes with a bcrypt hash (PHP's, cost 10), no password of cognate's.
    let app = TestApp::spawn().await;
    let bcrypt = bcrypt::hash("Legacy-pass-1", 10).unwrap();
    cognate::users::create_with_hash(
        &app.state,
        &app.pool_id,
        "bea",
        &bcrypt,
        UserStatus::Confirmed,
        Default::default(),
    )
    .await
    .unwrap();
    // Act
    let url = app.authorize_url(&app.public, Some(&Pkce::new()), &[]);
    let callback = app.sign_in(&browser(), &url, "bea", "Legacy-pass-1").await;
    // Assert: signed in with the old password; the hash is now the pool's argon2id.
    assert!(
        crate::helpers::query_param(&callback, "code").is_some(),
        "{callback}"
    );
    let bea = app
        .state
        .store
        .user_by_name(&app.pool_id, "bea")
        .await
        .unwrap()
        .unwrap();
    let hash = bea.password_hash.unwrap();
    assert!(cognate::users::password::is_current(&hash), "{hash}");
    assert!(cognate::users::password::verify(Some(&hash), "Legacy-pass-1").await);
}
