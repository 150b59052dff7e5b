//! Triggers raised by the shared operations (issue 16), with a signed webhook served
//! on loopback: pre token generation at `/oauth2/token` (hosted sign-in and refresh),
//! the signature, the trigger log, `/metrics`, and refused metadata addresses.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::HeaderMap;
use serde_json::{Value, json};

use crate::helpers::{Pkce, TestApp, jwt_claims};

/// A webhook that checks cognate's signature with `secret` and adds a claim; records
/// each event's trigger source, or `bad signature`.
async fn webhook(secret: String) -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let handler = move |headers: HeaderMap, body: Bytes| {
        let record = record.clone();
        let secret = secret.clone();
        async move {
            let body = String::from_utf8(body.to_vec()).unwrap();
            let header = headers["x-cognate-signature"].to_str().unwrap().to_string();
            let t: i64 = header
                .strip_prefix("t=")
                .and_then(|r| r.split(',').next())
                .unwrap()
                .parse()
                .unwrap();
            if cognate::triggers::signature(&secret, t, &body) != header {
                record.lock().unwrap().push("bad signature".into());
                return (
                    axum::http::StatusCode::UNAUTHORIZED,
                    axum::Json(json!({"message": "bad signature"})),
                );
            }
            let mut event: Value = serde_json::from_str(&body).unwrap();
            record
                .lock()
                .unwrap()
                .push(event["triggerSource"].as_str().unwrap().to_string());
            event["response"]["claimsOverrideDetails"] =
                json!({"claimsToAddOrOverride": {"tenant": "acme"}});
            (axum::http::StatusCode::OK, axum::Json(event))
        }
    };
    let router = axum::Router::new().route("/hook", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (format!("http://{addr}/hook"), seen)
}

async fn set_pre_token(app: &TestApp, target: &str) -> String {
    let target = target.to_string();
    let mut secret = String::new();
    cognate::pool::update(&app.state, &app.pool_id, |s| {
        s.lambda_config.pre_token_generation = Some(target);
        secret = cognate::triggers::new_secret(&app.state, &app.pool_id, s);
    })
    .await
    .unwrap();
    secret
}

#[tokio::test]
async fn pre_token_generation_fires_for_hosted_sign_in_and_refresh_at_the_token_endpoint() {
    // Arrange
    let app = TestApp::spawn().await;
    let mut secret = String::new();
    cognate::pool::update(&app.state, &app.pool_id, |s| {
        secret = cognate::triggers::new_secret(&app.state, &app.pool_id, s);
    })
    .await
    .unwrap();
    let (url, seen) = webhook(secret).await;
    set_pre_token_keep_secret(&app, &url).await;
    // Act
    let pkce = Pkce::new();
    let code = app.login_and_authorize(&app.public, Some(&pkce)).await;
    let tokens: Value = app
        .exchange(&app.public, &code, Some(&pkce.verifier))
        .await
        .json()
        .await
        .unwrap();
    let refreshed: Value = app
        .refresh(&app.public, tokens["refresh_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    // Assert
    assert_eq!(
        jwt_claims(tokens["id_token"].as_str().unwrap())["tenant"],
        "acme"
    );
    assert_eq!(
        jwt_claims(refreshed["id_token"].as_str().unwrap())["tenant"],
        "acme"
    );
    assert_eq!(
        *seen.lock().unwrap(),
        [
            "TokenGeneration_HostedAuth",
            "TokenGeneration_RefreshTokens"
        ]
    );
    let log = app
        .state
        .store
        .trigger_log(&cognate::store::TriggerLogFilter {
            pool_id: Some(&app.pool_id),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|e| e.outcome == "ok" && e.target == url));
    assert_eq!(
        app.state
            .triggers
            .counters
            .get("TokenGeneration_HostedAuth", "ok"),
        1
    );
}

async fn set_pre_token_keep_secret(app: &TestApp, target: &str) {
    let target = target.to_string();
    cognate::pool::update(&app.state, &app.pool_id, |s| {
        s.lambda_config.pre_token_generation = Some(target);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_webhook_that_cannot_verify_the_signature_stops_the_token() {
    // Arrange
    let app = TestApp::spawn().await;
    let (url, seen) = webhook("not-the-pools-secret".into()).await;
    set_pre_token(&app, &url).await;
    // Act
    let pkce = Pkce::new();
    let code = app.login_and_authorize(&app.public, Some(&pkce)).await;
    let res = app.exchange(&app.public, &code, Some(&pkce.verifier)).await;
    // Assert
    assert!(res.status().is_client_error());
    assert_eq!(*seen.lock().unwrap(), ["bad signature"]);
}

#[tokio::test]
async fn metadata_addresses_are_refused_without_being_called() {
    // Arrange
    let app = TestApp::spawn().await;
    cognate::pool::update(&app.state, &app.pool_id, |s| {
        s.lambda_config.pre_sign_up = Some("https://169.254.169.254/latest/meta-data".into());
    })
    .await
    .unwrap();
    // Act
    let (status, body) = app
        .api_call(
            "SignUp",
            &json!({
                "ClientId": app.public.client_id,
                "Username": "mallory",
                "Password": crate::helpers::PASSWORD,
                "UserAttributes": [{"Name": "email", "Value": "m@example.com"}],
            }),
        )
        .await;
    // Assert
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "UnexpectedLambdaException");
    assert!(
        app.state
            .store
            .user_by_name(&app.pool_id, "mallory")
            .await
            .unwrap()
            .is_none()
    );
}
