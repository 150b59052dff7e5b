//! A restart keeps users, keys, sessions and issued refresh tokens valid.

use crate::helpers::{Pkce, TestApp, location, query_param};

#[tokio::test]
async fn a_restart_keeps_users_keys_sessions_and_refresh_tokens() {
    // Arrange: a signed-in browser and a token set from before the restart.
    let mut app = TestApp::spawn().await;
    let tokens = app.tokens().await;
    let jwks_before: serde_json::Value = app
        .http
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    // Act
    app.restart().await;

    // Assert: same keys, tokens still verify, the refresh token works, the session
    // still skips the form, and the user can sign in again.
    let jwks_after: serde_json::Value = app
        .http
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks_before, jwks_after);
    assert_eq!(
        app.userinfo(tokens["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );
    let refreshed = app
        .refresh(&app.public, tokens["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(refreshed.status(), 200);
    let pkce = Pkce::new();
    let res = app
        .browser
        .get(app.authorize_url(&app.public, Some(&pkce), &[]))
        .send()
        .await
        .unwrap();
    let code = query_param(&location(&res), "code").expect("the session survived the restart");
    assert_eq!(
        app.exchange(&app.public, &code, Some(&pkce.verifier))
            .await
            .status(),
        200
    );
    let fresh = crate::helpers::browser();
    let url = app.authorize_url(&app.public, Some(&Pkce::new()), &[]);
    assert!(
        app.sign_in(&fresh, &url, "alice", crate::helpers::PASSWORD)
            .await
            .contains("code=")
    );
}

#[tokio::test]
async fn the_wrong_master_key_cannot_open_the_signing_keys() {
    let app = TestApp::spawn().await;
    let mut args = app.backend.store_args();
    args.master_key = Some(cognate::crypto::MasterKey::generate_base64());
    let config = cognate::config::Config::new("http://127.0.0.1:1", None).unwrap();
    // Refused at start, before it could seal anything (PS-08), rather than at the first
    // signature.
    let err = cognate::server::open(&args, config)
        .await
        .err()
        .expect("opening with the wrong key must fail");
    assert!(format!("{err:#}").contains("master key"), "{err:#}");
}
